"""Measurement 4, run in a process of its own (`python -m bench.bulk SIZE DAYS ROUNDS [SKIP]`)
so that its peak memory is the bulk extension's and nothing else's. SKIP leaves the first SKIP
candidates to another run (the benchmark's large and small sizes use disjoint sets).

Each round takes two disjoint sets of SIZE enrollments, both "end of access after now, id in a
range" (random ids: both are random samples of the table):

- set B gets one bare SQL UPDATE (`ended_at + N days`, `updated_at`), committed;
- set A goes through the operation core's `apply(Extend(days=N), ...)` (row locks, the plan of
  rules, the UPDATE within the selection, one audit row per enrollment), committed.

Disjoint sets need no restore in between and neither run finds the other's dead rows in its
way. Rounds alternate which of the two runs first; the ratio is total service time over total
UPDATE time (fewer rounds when the data set has too few candidates).

Memory is the process's peak resident set size, read from the kernel's high-water mark (`VmHWM`
in /proc/self/status: the whole interpreter with Django loaded), and how much a service call
raised it. Not `getrusage().ru_maxrss`: Linux carries that over from the parent process across
fork and exec, so a child started by a big parent reports the parent's peak.

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


def measure(size: int, days: int, rounds: int, skip: int = 0) -> dict:
    from django.db import connection, transaction

    from bench.fixtures import bench_user
    from enrollments.models import AccessChange, Enrollment
    from enrollments.operations import Extend, Selection, apply
    from enrollments.operations.audit import Attribution

    threshold = datetime.now(UTC)
    candidates = Enrollment.objects.filter(ended_at__gt=threshold).order_by("pk")
    ids = candidates.values_list("pk", flat=True)
    # `skip`: leave the first candidates to another run of this measurement (its sets).
    total = max(0, candidates.count() - skip)
    rounds = max(1, min(rounds, total // (2 * size))) if size else 1
    size = min(size, total // (2 * rounds))
    if size == 0:
        raise SystemExit("no enrollment with an end of access after now: nothing to extend")
    # Set k: the k-th run of `size` candidates in id order, as an id range. The ids are read in
    # one pass (not ids[n] per bound: each would be an OFFSET query) and streamed, so only the
    # bounds stay in memory and the peak-memory figures below are not raised by the list.
    positions = {skip + n for k in range(2 * rounds) for n in (k * size, (k + 1) * size - 1)}
    at = {
        n - skip: pk
        for n, pk in enumerate(ids[: skip + 2 * rounds * size].iterator(chunk_size=10_000))
        if n in positions
    }
    bounds = [(at[k * size], at[(k + 1) * size - 1]) for k in range(2 * rounds)]
    actor = bench_user()

    def bare(low, high) -> tuple[float, int]:
        started = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "UPDATE enrollments_enrollment SET ended_at = ended_at + %s * interval '1 day', "
                "updated_at = now() WHERE ended_at > %s AND id >= %s AND id <= %s",
                [days, threshold, low, high],
            )
            updated = cursor.rowcount
        return time.perf_counter() - started, updated

    def service(low, high) -> tuple[float, object, float]:
        gc.collect()
        peak_before = _max_rss_mb()
        started = time.perf_counter()
        result = apply(
            Extend(days=days),
            Selection.by_filter(
                Enrollment.objects.filter(ended_at__gt=threshold, pk__gte=low, pk__lte=high)
            ),
            Attribution(actor, AccessChange.Source.COMMAND, "benchmark: bulk extension"),
        )
        return time.perf_counter() - started, result, _max_rss_mb() - peak_before

    measured = []
    for number in range(rounds):
        service_set, bare_set = bounds[2 * number], bounds[2 * number + 1]
        # Alternate which goes first, so neither always finds the caches the other warmed.
        if number % 2 == 0:
            bare_seconds, updated = bare(*bare_set)
            service_seconds, result, growth = service(*service_set)
        else:
            service_seconds, result, growth = service(*service_set)
            bare_seconds, updated = bare(*bare_set)
        measured.append(
            {
                "service_seconds": round(service_seconds, 3),
                "bare_seconds": round(bare_seconds, 3),
                "ratio": round(service_seconds / bare_seconds, 2),
                "changed": len(result.changes),
                "skipped": len(result.skips),
                "audit_rows": AccessChange.objects.filter(batch_id=result.batch_id).count(),
                "updated": updated,
                "growth_mb": growth,
            }
        )
    service_total = sum(item["service_seconds"] for item in measured)
    bare_total = sum(item["bare_seconds"] for item in measured)
    return {
        "size": size,
        "days": days,
        "rounds": measured,
        "service": {
            "seconds": round(service_total / len(measured), 3),
            "changed": min(item["changed"] for item in measured),
            "skipped": max(item["skipped"] for item in measured),
            "audit_rows": min(item["audit_rows"] for item in measured),
        },
        "bare_update": {
            "seconds": round(bare_total / len(measured), 3),
            "updated": min(item["updated"] for item in measured),
        },
        "ratio": round(service_total / bare_total, 2),
        "memory": {
            "method": "peak resident set size of the process (VmHWM, /proc/self/status)",
            "peak_rss_mb": round(_max_rss_mb(), 1),
            "service_growth_mb": round(max(item["growth_mb"] for item in measured), 1),
        },
    }


def main() -> None:
    import django

    size, days, rounds = (int(value) for value in sys.argv[1:4])
    skip = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    django.setup()
    print(json.dumps(measure(size, days, rounds, skip)))  # noqa: T201


if __name__ == "__main__":
    main()
