"""A webhook receiver on 127.0.0.1 for the tests: a real HTTP server in a thread that records
every request (path, headers, raw body) and answers as the test scripts it, and the two ways a
receiver verifies a delivery: the `standardwebhooks` package (a library nobody here wrote) and
Healthie's published steps (WEBHOOKS-AND-VERSIONS.md 4.2-4.3: its JavaScript sample, step by
step, including its `split('=')[1]` and its re-serialisation of the parsed body)."""

import hashlib
import hmac
import json
import threading
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from standardwebhooks import Webhook

#: A scripted answer that holds the request open until `Receiver.release` (or the server stops).
HOLD = "hold"


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body)


class Receiver:
    """`answers`: statuses (or HOLD) given in order, then `default` for every later request.
    A 3xx answer carries `Location: /followed` (a request there would be recorded too)."""

    def __init__(self, *, default: int = 200) -> None:
        self.default = default
        self.answers: deque = deque()
        self.requests: list[Request] = []
        self.holding = threading.Event()
        self._release = threading.Event()
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with receiver._lock:
                    receiver.requests.append(Request(self.path, dict(self.headers), body))
                    answer = receiver.answers.popleft() if receiver.answers else receiver.default
                if answer == HOLD:
                    receiver.holding.set()
                    receiver._release.wait(timeout=60)
                    answer = receiver.default
                self.send_response(answer)
                if 300 <= answer < 400:
                    self.send_header("Location", "/followed")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def url(self, path: str = "/hooks/course-access") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def release(self) -> None:
        self._release.set()

    def __enter__(self) -> "Receiver":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.release()
        self.server.shutdown()
        self.server.server_close()


def verify_standard(secret: str, request: Request) -> dict:
    """Standard Webhooks: the reference library's Webhook(secret).verify (raises if invalid)."""
    return Webhook(secret).verify(request.body, request.headers)


def verify_healthie(secret: str, request: Request, *, signature_item: int = 0) -> dict:
    """Healthie's sample (verify-signature.js), step by step; raises AssertionError if the
    signature does not match. `signature_item` picks an entry of the Signature header during a
    rotation (the sample itself reads only a header of one entry: item 0 then is the whole)."""
    headers = {name.lower(): value for name, value in request.headers.items()}
    body = json.loads(request.body)
    digest = headers["content-digest"].split("=")[1]  # the sample's split('=')[1]
    entries = headers["signature"].split(", ")
    signature = entries[signature_item].split("=")[1]
    parts = urlsplit(request.path)
    # JSON.stringify(body).length: the compact re-serialisation's character count.
    length = len(json.dumps(body, separators=(",", ":"), ensure_ascii=False))
    data = f"post {parts.path} {parts.query} {digest} application/json {length}"
    expected = hmac.new(secret.encode("utf-8"), data.encode("utf-8"), hashlib.sha256).hexdigest()
    assert expected == signature, "Healthie signature mismatch"
    # And the digest is the body's: what the sample leaves the receiver to check.
    assert hashlib.sha256(request.body).hexdigest() == digest
    return body
