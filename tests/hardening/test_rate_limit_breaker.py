"""A hung Redis (it accepts connections and never answers) behind the rate limit (issue 14,
finding 4): it used to add redis-py's timeout to every authenticated request. The settings'
short socket timeouts bound the first failures, and the circuit breaker
(apikeys.circuit_breaker) then skips the cache until a cool-down has passed.

The hung Redis is a real socket on 127.0.0.1 that accepts and reads but never writes; the
cache is configured by config/settings.py itself (CACHE_URL pointing at that socket). Timings
are generous upper bounds only (the machine may be loaded); what is asserted is the breaker's
state and whether the cache was asked at all (bytes reaching the socket)."""

import runpy
import selectors
import socket
import threading
import time
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache

from apikeys import ratelimit
from apikeys.circuit_breaker import CircuitBreaker, State
from apikeys.ratelimit import Kind

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
QUERY = "{ courseMemberships(first: 1) { total_count } }"
FAILURES = 3
COOL_DOWN = 30.0


class HungServer:
    """Accepts TCP connections on 127.0.0.1 and reads whatever is sent, never answering.
    A connection is closed after `hold_seconds`, so that a client without a timeout fails
    the test instead of hanging it."""

    def __init__(self, hold_seconds: float = 10.0) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.setblocking(False)
        self.port = self.listener.getsockname()[1]
        self.hold_seconds = hold_seconds
        self.connections = 0
        self.bytes_received = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        selector = selectors.DefaultSelector()
        selector.register(self.listener, selectors.EVENT_READ)
        opened: dict[socket.socket, float] = {}
        while not self._stop.is_set():
            for key, _ in selector.select(timeout=0.05):
                if key.fileobj is self.listener:
                    connection, _ = self.listener.accept()
                    connection.setblocking(False)
                    selector.register(connection, selectors.EVENT_READ)
                    opened[connection] = time.monotonic()
                    self.connections += 1
                else:
                    data = key.fileobj.recv(65536)
                    self.bytes_received += len(data)
                    if not data:
                        selector.unregister(key.fileobj)
                        opened.pop(key.fileobj)
                        key.fileobj.close()
            for connection, since in list(opened.items()):
                if time.monotonic() - since > self.hold_seconds:
                    selector.unregister(connection)
                    opened.pop(connection)
                    connection.close()
        for connection in opened:
            connection.close()
        selector.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.listener.close()


@pytest.fixture
def hung_server():
    server = HungServer()
    yield server
    server.close()


def settings_module_caches(monkeypatch, cache_url: str) -> dict:
    """CACHES as config/settings.py builds them for CACHE_URL."""
    monkeypatch.setenv("CACHE_URL", cache_url)
    for name in ("CACHE_SOCKET_TIMEOUT", "CACHE_CONNECT_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    return runpy.run_path(str(ROOT / "config" / "settings.py"))["CACHES"]


class MonotonicClock:
    def __init__(self) -> None:
        self.current = 1000.0

    def __call__(self) -> float:
        return self.current


@pytest.fixture
def breaker_clock(monkeypatch) -> MonotonicClock:
    clock = MonotonicClock()
    monkeypatch.setattr(ratelimit, "monotonic", clock)
    return clock


@pytest.fixture
def limited_by_hung_redis(settings, monkeypatch, hung_server, breaker_clock):
    """The rate limit counting in a Redis cache (the production settings) that hangs."""
    production = settings_module_caches(monkeypatch, f"redis://127.0.0.1:{hung_server.port}/0")
    settings.CACHES = {**settings.CACHES, "ratelimit": production["default"]}
    settings.RATE_LIMIT = {
        "ENABLED": True,
        "QUERIES": 100,
        "MUTATIONS": 100,
        "WINDOW_SECONDS": 60,
        "CACHE": "ratelimit",
        "KEY_PREFIX": f"breaker-test-{uuid.uuid4()}",
        "BREAKER_FAILURES": FAILURES,
        "BREAKER_COOL_DOWN_SECONDS": COOL_DOWN,
    }
    yield
    caches["ratelimit"].close()


@pytest.fixture
def key(make_key, manager):
    return make_key(manager)


def timed_requests(api, key, times: int) -> tuple[list[int], float]:
    statuses = []
    started = time.perf_counter()
    for _ in range(times):
        api.post(QUERY, key=key)
        statuses.append(api.last_response.status_code)
    return statuses, time.perf_counter() - started


def test_the_settings_give_redis_short_timeouts_and_no_retries(monkeypatch):
    options = settings_module_caches(monkeypatch, "redis://127.0.0.1:6379/0")["default"]["OPTIONS"]
    assert options == {
        "socket_connect_timeout": 0.1,
        "socket_timeout": 0.1,
        "retry_on_timeout": False,
    }
    assert "OPTIONS" not in settings_module_caches(monkeypatch, "locmemcache://")["default"]


def test_a_hung_redis_opens_the_breaker_then_requests_skip_it(
    api, key, limited_by_hung_redis, hung_server, caplog
):
    api.post("{ __typename }")  # warm up (anonymous: not counted, the cache is not asked)
    assert hung_server.bytes_received == 0
    # The first failures each wait for the socket timeout (0.1 s), not redis-py's default
    # (none: the server would hold the connection for 10 s).
    for _ in range(FAILURES):
        statuses, elapsed = timed_requests(api, key, 1)
        assert statuses == [200]  # fail open: served, unlimited
        assert elapsed < 5.0  # generous (a loaded machine); the server holds 10 s
    assert ratelimit.cache_breaker().state is State.OPEN
    assert caplog.text.count("Rate limit suspended for 30.0 s") == 1
    asked = hung_server.bytes_received
    assert asked > 0  # the cache was really tried

    caplog.clear()
    statuses, elapsed = timed_requests(api, key, 10)
    assert statuses == [200] * 10
    assert hung_server.bytes_received == asked  # not one byte: the cache was not asked
    assert ratelimit.cache_breaker().state is State.OPEN
    assert "Rate limit" not in caplog.text  # no log line per request while open
    assert elapsed < 5.0  # generous: each request takes milliseconds on an idle machine

    # What the rate limit itself costs a request while the breaker is open: microseconds.
    request = SimpleNamespace(api_key=SimpleNamespace(prefix="abcdefgh"), user=None)
    started = time.perf_counter()
    for _ in range(1000):
        assert ratelimit.enforce(request, None, None) is None
    assert time.perf_counter() - started < 1.0  # under 1 ms each, against a 50 ms budget
    assert hung_server.bytes_received == asked


def test_after_the_cool_down_one_request_tries_the_hung_cache_and_reopens_the_breaker(
    api, key, limited_by_hung_redis, hung_server, breaker_clock, caplog
):
    timed_requests(api, key, FAILURES)
    assert ratelimit.cache_breaker().state is State.OPEN
    asked = hung_server.bytes_received

    breaker_clock.current += COOL_DOWN - 1
    timed_requests(api, key, 3)
    assert hung_server.bytes_received == asked  # still cooling down

    breaker_clock.current += 1
    assert ratelimit.cache_breaker().state is State.HALF_OPEN
    statuses, _ = timed_requests(api, key, 1)
    assert statuses == [200]
    assert hung_server.bytes_received > asked  # the trial asked the cache ...
    assert ratelimit.cache_breaker().state is State.OPEN  # ... which failed: open again
    assert caplog.text.count("Rate limit suspended") == 2


def test_a_cache_that_answers_again_closes_the_breaker_and_counts_again(
    api, key, limited_by_hung_redis, breaker_clock, monkeypatch, caplog
):
    timed_requests(api, key, FAILURES)
    assert ratelimit.cache_breaker().state is State.OPEN
    # Redis is back (a working cache under the same alias).
    working = LocMemCache(f"breaker-{uuid.uuid4()}", {})
    monkeypatch.setattr(ratelimit, "caches", {"ratelimit": working})
    breaker_clock.current += COOL_DOWN
    assert timed_requests(api, key, 2)[0] == [200, 200]
    assert ratelimit.cache_breaker().state is State.CLOSED
    assert "Rate limit resumed" in caplog.text
    client = f"key:{key.split('.')[0]}"
    assert ratelimit.spend(client, Kind.QUERY, 0).used == 2  # both requests were counted


class TestCircuitBreaker:
    def breaker(self, clock, threshold=3, cool_down=10.0) -> CircuitBreaker:
        return CircuitBreaker(failure_threshold=threshold, cool_down_seconds=cool_down, clock=clock)

    def test_opens_after_the_threshold_of_failures_in_a_row(self):
        clock = MonotonicClock()
        breaker = self.breaker(clock)
        assert [breaker.failed(), breaker.failed()] == [False, False]
        assert breaker.state is State.CLOSED and breaker.allow()
        assert breaker.failed() is True
        assert breaker.state is State.OPEN
        assert not breaker.allow()

    def test_a_success_resets_the_count(self):
        breaker = self.breaker(MonotonicClock())
        breaker.failed(), breaker.failed()
        assert breaker.succeeded() is False  # it was not open
        breaker.failed(), breaker.failed()
        assert breaker.state is State.CLOSED

    def test_half_open_lets_one_trial_through_and_its_result_decides(self):
        clock = MonotonicClock()
        breaker = self.breaker(clock, threshold=1)
        breaker.failed()
        clock.current += 9.999
        assert not breaker.allow()
        clock.current += 0.001
        assert breaker.state is State.HALF_OPEN
        assert breaker.allow() is True  # the trial
        assert breaker.allow() is False  # the others wait for it
        assert breaker.failed() is True  # the trial failed: a new cool-down
        assert breaker.state is State.OPEN
        clock.current += 10
        assert breaker.allow()
        assert breaker.succeeded() is True
        assert breaker.state is State.CLOSED
        assert breaker.allow() and breaker.allow()

    def test_a_failure_while_open_does_not_reopen(self):
        """A request let through before the breaker opened may fail after: not a new opening
        (one log line), and the cool-down does not move."""
        clock = MonotonicClock()
        breaker = self.breaker(clock, threshold=1)
        assert breaker.failed() is True
        clock.current += 5
        assert breaker.failed() is False
        clock.current += 5
        assert breaker.state is State.HALF_OPEN
