"""The webhooks measurement's receiver: a threaded HTTP server on 127.0.0.1 in the benchmark's
process, one path per endpoint, that verifies each delivery's signature with the Standard
Webhooks library (`standardwebhooks`, which nobody here wrote) and counts event ids.

Each path behaves as the measurement says (`Behaviour`): answer 200 at once, answer 500 until
a moment then 200 (an outage), or hang (never answer: the worker's read timeout ends the try).
Every answer is recorded (event id, status, when) so `Tally` can say what arrived: distinct
events delivered, lost ones, duplicates and their ids, the delivery rate.

The server runs in the benchmark's own process, on the same shared 2-core machine as the
workers and PostgreSQL: its CPU time is part of what the figures pay for.
"""

import json
import math
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook, WebhookVerificationError

#: How long a hanging answer waits at most (far past the worker's read timeout).
HANG_SECONDS = 120.0


@dataclass(slots=True)
class Behaviour:
    """What one path answers. `mode`: "ok" (200), "outage" (500 until `recover_at`, a
    time.monotonic moment, then 200) or "hang" (no answer). `secret`: the endpoint's, to
    verify signatures with (a delivery that does not verify gets 400)."""

    mode: str = "ok"
    secret: str = ""
    recover_at: float = math.inf


@dataclass(frozen=True, slots=True)
class Received:
    """One answered request: the event id (webhook-id), the status answered, when."""

    event_id: str
    status: int
    at: float


@dataclass(frozen=True, slots=True)
class Tally:
    """What a path received, judged against the event ids that should have arrived."""

    expected: int
    delivered: int
    lost: int
    duplicates: int
    duplicate_ids: list[str]
    unexpected: int
    refused: int
    first_at: float | None
    last_at: float | None

    @classmethod
    def of(cls, received: Iterable[Received], expected: set[str]) -> "Tally":
        """`received`: every request the path answered; `expected`: the event ids sent.
        Delivered: expected ids answered 2xx at least once; duplicates: 2xx answers past an
        id's first; refused: non-2xx answers (the outage's 500s, bad signatures' 400s)."""
        ok = [item for item in received if 200 <= item.status < 300]
        counts = Counter(item.event_id for item in ok)
        delivered = expected & counts.keys()
        times = [item.at for item in ok if item.event_id in delivered]
        refused = sum(1 for item in received if not 200 <= item.status < 300)
        return cls(
            expected=len(expected),
            delivered=len(delivered),
            lost=len(expected - delivered),
            duplicates=sum(n - 1 for n in counts.values() if n > 1),
            duplicate_ids=sorted(key for key, n in counts.items() if n > 1)[:10],
            unexpected=len(counts.keys() - expected),
            refused=refused,
            first_at=min(times) if times else None,
            last_at=max(times) if times else None,
        )

    def rate(self, since: float | None = None) -> float | None:
        """Deliveries per second from `since` (default: the first delivery) to the last."""
        return rate(self.delivered, since if since is not None else self.first_at, self.last_at)


def rate(count: int, start: float | None, end: float | None) -> float | None:
    """`count` per second over [start, end]; None when the span is empty or unknown."""
    if start is None or end is None or end <= start or count <= 0:
        return None
    return round(count / (end - start), 1)


@dataclass
class Receiver:
    """The server's state: each path's behaviour and what it answered."""

    behaviours: dict[str, Behaviour] = field(default_factory=dict)
    answered: dict[str, list[Received]] = field(default_factory=dict)
    #: Each path's distinct event ids answered 2xx (polled while waiting).
    delivered_ids: dict[str, set[str]] = field(default_factory=dict)
    bad_signatures: int = 0
    released: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    port: int = 0

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def expect(self, path: str, behaviour: Behaviour) -> None:
        with self.lock:
            self.behaviours[path] = behaviour
            self.answered[path] = []
            self.delivered_ids[path] = set()

    def received(self, path: str) -> list[Received]:
        with self.lock:
            return list(self.answered.get(path, ()))

    def delivered_count(self, path: str) -> int:
        """Distinct event ids answered 2xx on `path` (cheap enough to poll)."""
        with self.lock:
            return len(self.delivered_ids.get(path, ()))

    def answer(self, path: str, headers: dict[str, str], body: bytes) -> int | None:
        """The status to answer (None: hang), the request recorded."""
        with self.lock:
            behaviour = self.behaviours.get(path)
        if behaviour is None:
            return 404
        if behaviour.mode == "hang":
            return None
        event_id = headers.get("webhook-id", "")
        try:
            Webhook(behaviour.secret).verify(body, headers)
            outage = behaviour.mode == "outage" and time.monotonic() < behaviour.recover_at
            status = 500 if outage else 200
        except WebhookVerificationError:
            status = 400
        try:
            if json.loads(body)["event_id"] != event_id:
                status = 400
        except (ValueError, KeyError):
            status = 400
        with self.lock:
            if status == 400:
                self.bad_signatures += 1
            self.answered.setdefault(path, []).append(Received(event_id, status, time.monotonic()))
            if status == 200:
                self.delivered_ids.setdefault(path, set()).add(event_id)
        return status


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {key.lower(): value for key, value in self.headers.items()}
            status = receiver.answer(self.path, headers, body)
            if status is None:
                receiver.released.wait(HANG_SECONDS)
                self.close_connection = True
                return
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format, *args) -> None:  # noqa: A002 - http.server's name
            pass

    return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the workers connect once per delivery


@contextmanager
def serving() -> Iterator[Receiver]:
    """A receiver listening on 127.0.0.1 (a free port) until the block ends."""
    receiver = Receiver()
    server = _Server(("127.0.0.1", 0), _handler(receiver))
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2})
    thread.daemon = True
    thread.start()
    try:
        yield receiver
    finally:
        receiver.released.set()
        server.shutdown()
        server.server_close()
        thread.join()
