"""One HTTP POST of a delivery, to the address targets.py checked.

The standard library's http.client, with a connection that connects to a checked address (not
to the host name, which a second DNS lookup could point elsewhere between the check and the
connection) and still sends the host name as `Host` and as the TLS server name, so the
certificate is verified for it. Short timeouts (WEBHOOKS["CONNECT_TIMEOUT"], and
WEBHOOKS["READ_TIMEOUT"] for each read), no redirect followed (http.client follows none: a 3xx
is a failed try), at most WEBHOOKS["MAX_RESPONSE_BYTES"] of the answer read.
"""

import contextlib
import http.client
import socket
import ssl
import threading
import time
from dataclasses import dataclass

from django.conf import settings

from enrollments.events.targets import Target

USER_AGENT = "course-access-webhooks/1"
#: Characters of an answer's body kept in a failed try's error, for the delivery log.
ERROR_BODY_CHARS = 200


@dataclass(frozen=True, slots=True)
class Answer:
    """What one try got: the status (None when no answer came), how long it took, and what
    went wrong ("" for a 2xx)."""

    status: int | None
    latency_ms: int
    error: str = ""
    #: No answer at all (unsafe or unresolvable target, connection refused, timeout): the
    #: endpoint, not this event, is at fault, so its other due deliveries wait too.
    unreachable: bool = False

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class PinnedConnection(http.client.HTTPConnection):
    """An HTTP(S) connection to `address`, speaking to `host` (Host header, TLS server name)."""

    def __init__(
        self,
        host: str,
        port: int,
        address: str,
        *,
        connect_timeout: float,
        read_timeout: float,
        tls: ssl.SSLContext | None,
    ) -> None:
        super().__init__(host, port, timeout=read_timeout)
        self.address = address
        #: Whether the whole send's deadline cut the connection (`_cut`).
        self.cut = False
        self.connect_timeout = connect_timeout
        self.tls = tls

    def connect(self) -> None:
        sock = socket.create_connection((self.address, self.port), timeout=self.connect_timeout)
        sock.settimeout(self.timeout)
        if self.tls is not None:
            sock = self.tls.wrap_socket(sock, server_hostname=self.host)
        self.sock = sock


def post(target: Target, body: bytes, headers: dict[str, str]) -> Answer:
    """POSTs `body` to `target`, trying its checked addresses in turn until one connects."""
    config = settings.WEBHOOKS
    tls = ssl.create_default_context() if target.scheme == "https" else None
    started = time.monotonic()
    error = "no address"
    for address in target.addresses:
        connection = PinnedConnection(
            target.host,
            target.port,
            address,
            connect_timeout=config["CONNECT_TIMEOUT"],
            read_timeout=config["READ_TIMEOUT"],
            tls=tls,
        )
        try:
            try:
                connection.connect()
            except OSError as failure:
                error = _describe(failure, "connecting to", address)
                continue
            # The read timeout bounds each read; this bounds the whole send, so a receiver that
            # drips its answer cannot hold the delivery past its lease (and be sent twice).
            deadline = threading.Timer(
                max(0.0, config["TOTAL_TIMEOUT"] - (time.monotonic() - started)),
                _cut,
                args=(connection,),
            )
            deadline.start()
            try:
                return _exchange(connection, target, body, headers, started)
            except (OSError, http.client.HTTPException) as failure:
                if connection.cut:
                    error = f"took longer than {config['TOTAL_TIMEOUT']:g} s in all with {address}"
                else:
                    error = _describe(failure, "talking to", address)
                return Answer(None, _since(started), error, True)
            finally:
                deadline.cancel()
        finally:
            connection.close()
    return Answer(None, _since(started), error, True)


def _exchange(connection, target: Target, body: bytes, headers, started: float) -> Answer:
    connection.request(
        "POST",
        target.path,
        body=body,
        headers={**headers, "User-Agent": USER_AGENT, "Content-Length": str(len(body))},
    )
    response = connection.getresponse()
    answer = response.read(settings.WEBHOOKS["MAX_RESPONSE_BYTES"])
    latency = _since(started)
    status = response.status
    if 200 <= status < 300:
        return Answer(status, latency)
    if 300 <= status < 400:
        location = response.getheader("Location") or "nowhere"
        return Answer(status, latency, f"HTTP {status}: redirect to {location} not followed")
    text = answer[:ERROR_BODY_CHARS].decode("utf-8", "replace")
    return Answer(status, latency, f"HTTP {status}" + (f": {text}" if text else ""))


def _cut(connection: PinnedConnection) -> None:
    """Ends a send past its deadline: the socket is shut down, so the read waiting on it
    returns at once and the exchange fails."""
    connection.cut = True
    sock = connection.sock
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def _describe(failure: Exception, doing: str, address: str) -> str:
    if isinstance(failure, TimeoutError):
        return f"timed out {doing} {address}"
    return f"{type(failure).__name__} {doing} {address}: {failure}"


def _since(started: float) -> int:
    return round((time.monotonic() - started) * 1000)
