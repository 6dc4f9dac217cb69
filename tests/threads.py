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
