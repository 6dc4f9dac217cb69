"""Python's cyclic garbage collector, paused while the core works through many rows."""

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Pauses Python's cyclic garbage collector while the core plans and writes, and while a
    run applies a chunk: they build a few objects per row (row, states, change, audit values,
    a chunk's ids), none in a reference cycle, all freed by reference counting.

    The collector's passes over them cost more than building them. It runs every 700
    allocations, and a chunk's objects still alive at a pass are promoted until its oldest
    generation walks every object of the process: about 1.3 s of a bulk extension of 100,000
    rows (docs/benchmarks.md; weighed again by issue 22: 6.96 / 7.05 s paused against
    8.34 / 8.51 s running, so kept). A run's chunk is paused whole: with only the core's part
    paused, and a reference cycle per skipped row (base.Operation.plan), the passes took about
    a fifth of a chunk's CPU (docs/benchmarks.md, issue 23). Process-wide, so another thread's
    collections wait too (a gunicorn sync worker serves one request at a time, a `db_worker`
    runs one job at a time); restored as it was found, so pauses nest."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
