"""A circuit breaker: stop calling a backend that keeps failing, and try it again later.

The rate limiter (apikeys.ratelimit) counts in the cache, and serves requests unlimited when
the cache fails. A cache that is down answers at once (connection refused), but a hung one
(it accepts connections and never answers) costs every request the socket timeout. After
`failure_threshold` failures in a row the breaker *opens*: callers skip the backend for
`cool_down_seconds`. Then it is *half open*: one caller tries the backend (the others keep
skipping it while that trial runs); a success closes the breaker, a failure opens it for
another cool-down.

State is per process (each server worker finds out for itself) and thread-safe. The lock is
held only to read or change the state, never during the call to the backend, so threads of
one worker never queue behind each other's cache round trips. (pybreaker, the usual library,
holds its lock for the whole guarded call and reads the wall clock; this one reads an
injectable monotonic clock, which tests move.)
"""

import threading
import time
from collections.abc import Callable
from enum import StrEnum


class State(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half open"


class CircuitBreaker:
    def __init__(
        self,
        *,
        failure_threshold: int,
        cool_down_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.failure_threshold = max(1, failure_threshold)
        self.cool_down_seconds = cool_down_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._opened_at: float | None = None
        self._trial_running = False

    @property
    def state(self) -> State:
        with self._lock:
            return self._state()

    def _state(self) -> State:
        if self._opened_at is None:
            return State.CLOSED
        if self._clock() - self._opened_at >= self.cool_down_seconds:
            return State.HALF_OPEN
        return State.OPEN

    def allow(self) -> bool:
        """Whether the caller may call the backend now. In the half-open state only the
        first caller may (the trial); it must report back with succeeded() or failed()."""
        with self._lock:
            state = self._state()
            if state is State.CLOSED:
                return True
            if state is State.HALF_OPEN and not self._trial_running:
                self._trial_running = True
                return True
            return False

    def succeeded(self) -> bool:
        """Records a successful call; True when it closed an open breaker."""
        with self._lock:
            was_open = self._opened_at is not None
            self._failures = 0
            self._opened_at = None
            self._trial_running = False
            return was_open

    def failed(self) -> bool:
        """Records a failed call; True when it opened the breaker (again)."""
        with self._lock:
            self._failures += 1
            closed = self._opened_at is None
            if self._trial_running or (closed and self._failures >= self.failure_threshold):
                self._opened_at = self._clock()
                self._trial_running = False
                return True
            return False
