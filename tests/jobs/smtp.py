"""A small SMTP server on 127.0.0.1 for tests, in a thread: real sockets, so Django's SMTP
backend (and a worker process) talks to it as to a mail server.

- `MailServer()` accepts every message and keeps it (`messages`: recipient, arrival time).
- `MailServer(refuse_first=N)` answers the first N transactions' MAIL FROM with 451 (a server
  asking to try later): smtplib raises SMTPSenderRefused, a delivery failure.
- `MailServer(stall=True)` accepts connections and never answers, until `close()`: the client
  waits for the greeting up to its timeout.
Each connection is noted in `connections` (its arrival time) and sets `connected`.
"""

import contextlib
import socket
import threading
import time


class MailServer:
    def __init__(self, *, refuse_first: int = 0, stall: bool = False) -> None:
        self.refuse_first, self.stall = refuse_first, stall
        self.connections: list[float] = []
        self.transactions: list[float] = []  # each MAIL FROM's arrival
        self.messages: list[tuple[str, float]] = []
        self.connected = threading.Event()
        self._closing = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._clients: list[socket.socket] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> "MailServer":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._closing.set()
        for client in [*self._clients, self._listener]:
            with contextlib.suppress(OSError):
                client.shutdown(socket.SHUT_RDWR)
            client.close()
        self._thread.join(timeout=10)

    def _serve(self) -> None:
        while not self._closing.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            self._clients.append(client)
            self.connections.append(time.monotonic())
            self.connected.set()
            if self.stall:
                continue  # never answers; closed by close()
            threading.Thread(target=self._converse, args=(client,), daemon=True).start()

    def _converse(self, client: socket.socket) -> None:
        stream = client.makefile("rb")

        def reply(line: str) -> None:
            client.sendall(line.encode() + b"\r\n")

        recipient = ""
        try:
            reply("220 127.0.0.1 test ESMTP")
            for raw in stream:
                command = raw.decode(errors="replace").strip()
                verb = command.split(" ", 1)[0].upper()
                if verb in {"EHLO", "HELO"}:
                    reply("250 127.0.0.1")
                elif verb == "MAIL":
                    self.transactions.append(time.monotonic())
                    if len(self.transactions) <= self.refuse_first:
                        reply("451 4.3.0 try again later")
                    else:
                        reply("250 OK")
                elif verb == "RCPT":
                    recipient = command.split(":", 1)[1].strip().strip("<>")
                    reply("250 OK")
                elif verb == "DATA":
                    reply("354 go on")
                    for line in stream:
                        if line in {b".\r\n", b".\n"}:
                            break
                    self.messages.append((recipient, time.monotonic()))
                    reply("250 OK queued")
                elif verb == "QUIT":
                    reply("221 bye")
                    return
                else:  # RSET, NOOP
                    reply("250 OK")
        except OSError:
            return
        finally:
            stream.close()
            client.close()
