"""The job worker of the runs measurement (`python -m bench.runs_worker`): the deployed worker,
`manage.py db_worker --batch`, in a process of its own: it runs the jobs queued (the run's, then
the ones its chunks queue, such as the webhooks' fan-out) and exits when none is left.

A process of its own so that its peak memory is the worker's and nothing else's: the kernel's
high-water mark of its resident set (`VmHWM` in /proc/self/status, the interpreter with Django
loaded), read when the job is done. Not `getrusage(RUSAGE_CHILDREN).ru_maxrss` in the parent:
Linux carries a parent's peak over into a child across fork and exec, so a child of a large
parent would report the parent's peak (bench/bulk.py says the same).

Prints one line of JSON: the worker's seconds (Django set up to exit) and its peak RSS.
"""

import json
import time

from bench.shared import peak_rss_mb


def main() -> None:
    import django
    from django.core.management import call_command

    django.setup()
    started = time.perf_counter()
    # Every job queued, then exit (bench.runs drains the queue before it queues the run's job).
    call_command("db_worker", batch=True, startup_delay=False, reload=False)
    figures = {
        "seconds": round(time.perf_counter() - started, 3),
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }
    print(json.dumps(figures))  # noqa: T201


if __name__ == "__main__":
    main()
