"""Running work in threads released together: the concurrency tests' one way to make requests
meet (PostgreSQL; each thread has its own database connection, closed when it is done)."""

import threading
from concurrent.futures import ThreadPoolExecutor

from django.db import connection


def run_at_once(count: int, work):
    """Runs `work(i)` in `count` threads released together; returns results or exceptions."""
    barrier = threading.Barrier(count)

    def worker(i):
        try:
            barrier.wait(timeout=10)
            return work(i)
        except Exception as error:  # noqa: BLE001 - the test inspects what each thread got
            return error
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(worker, range(count)))


def in_thread(work, outcome: dict | None = None, name: str = "") -> threading.Thread:
    """`work()` started in a thread of its own (its own database connection, closed when it
    ends), as another request runs it; with `outcome`, its result or what it raised is kept in
    `outcome[name]` for the test to inspect."""

    def run():
        try:
            result = work()
        except Exception as error:  # noqa: BLE001 - the test inspects what each thread got
            if outcome is None:
                raise
            result = error
        finally:
            connection.close()
        if outcome is not None:
            outcome[name] = result

    thread = threading.Thread(target=run)
    thread.start()
    return thread


class RowsHeld:
    """A queryset's rows locked FOR UPDATE by another thread's transaction (its own
    connection), as a change in flight holds them, from entering the block until `release()`
    (the change commits) or the block's end, whichever comes first."""

    def __init__(self, queryset, *, timeout: float = 20):
        self.queryset, self.timeout = queryset, timeout
        self._locked, self._release = threading.Event(), threading.Event()
        self._thread = threading.Thread(target=self._hold)

    def _hold(self) -> None:
        from django.db import transaction

        try:
            with transaction.atomic():
                list(self.queryset.select_for_update())
                self._locked.set()
                self._release.wait(timeout=self.timeout)
        finally:
            connection.close()

    def __enter__(self) -> "RowsHeld":
        self._thread.start()
        assert self._locked.wait(timeout=10), "the rows were not locked within 10 s"
        return self

    def release(self) -> None:
        self._release.set()
        self._thread.join(timeout=self.timeout)

    def __exit__(self, *exc_info) -> None:
        self.release()
