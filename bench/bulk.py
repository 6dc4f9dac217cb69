"""Measurement 4, run in a process of its own (`python -m bench.bulk SIZE DAYS`) so that its peak
memory is the bulk extension's and nothing else's.

Two disjoint sets of SIZE enrollments, both "end of access after now, id in a range" (random
ids: both are random samples of the table):

- set B gets one bare SQL UPDATE (`ended_at + N days`, `updated_at`), committed;
- set A goes through `services.enrollments_extend_access_bulk` (row locks, the plan of rules,
  chunked UPDATEs, one audit row per enrollment), committed.

Disjoint sets need no restore in between and neither run finds the other's dead rows in its
way. Memory is the process's peak resident set size, read from the kernel's high-water mark
(`VmHWM` in /proc/self/status: the whole interpreter with Django loaded), and how much the
service call raised it. Not `getrusage().ru_maxrss`: Linux carries that over from the parent
process across fork and exec, so a child started by a big parent reports the parent's peak.

Prints one line of JSON.
"""

import gc
import json
import resource
import sys
import time
from datetime import UTC, datetime
from pathlib import Path


def _max_rss_mb() -> float:
    """This process's peak resident set size so far, in MiB."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:  # not Linux: the best figure there is
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kilobytes = next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:"))
    return int(kilobytes) / 1024


def measure(size: int, days: int) -> dict:
    from django.db import connection, transaction

    from bench.fixtures import bench_user
    from enrollments.models import AccessChange, Enrollment
    from enrollments.services import enrollments_extend_access_bulk

    threshold = datetime.now(UTC)
    candidates = Enrollment.objects.filter(ended_at__gt=threshold).order_by("pk")
    ids = candidates.values_list("pk", flat=True)
    total = candidates.count()
    if total < 2 * size:
        size = total // 2
    if size == 0:
        raise SystemExit("no enrollment with an end of access after now: nothing to extend")
    boundary = ids[size]
    last = ids[2 * size - 1]
    actor = bench_user()

    gc.collect()
    rss_before = _max_rss_mb()
    sql = (
        "UPDATE enrollments_enrollment SET ended_at = ended_at + %s * interval '1 day', "
        "updated_at = now() WHERE ended_at > %s AND id >= %s AND id <= %s"
    )
    params = [days, threshold, boundary, last]
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        updated = cursor.rowcount
    bare_seconds = time.perf_counter() - started

    gc.collect()
    rss_service_start = _max_rss_mb()
    started = time.perf_counter()
    result = enrollments_extend_access_bulk(
        queryset=Enrollment.objects.filter(ended_at__gt=threshold, pk__lt=boundary),
        days=days,
        actor=actor,
        source=AccessChange.Source.COMMAND,
        reason="benchmark: bulk extension",
    )
    service_seconds = time.perf_counter() - started
    rss_after = _max_rss_mb()
    audit_rows = AccessChange.objects.filter(batch_id=result.batch_id).count()
    return {
        "size": size,
        "days": days,
        "service": {
            "seconds": round(service_seconds, 3),
            "changed": len(result.changed),
            "skipped": len(result.skipped),
            "audit_rows": audit_rows,
        },
        "bare_update": {"seconds": round(bare_seconds, 3), "updated": updated},
        "ratio": round(service_seconds / bare_seconds, 2),
        "memory": {
            "method": "peak resident set size of the process (VmHWM, /proc/self/status)",
            "peak_rss_mb": round(rss_after, 1),
            "rss_before_mb": round(rss_before, 1),
            "service_growth_mb": round(rss_after - rss_service_start, 1),
        },
    }


def main() -> None:
    import django

    size, days = int(sys.argv[1]), int(sys.argv[2])
    django.setup()
    print(json.dumps(measure(size, days)))  # noqa: T201


if __name__ == "__main__":
    main()
