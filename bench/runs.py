"""Measurement 7 (issue 23): a select-all extension applied as a run by the job worker.

For each size N (10,000, 100,000 and 1,000,000 by default; the sizes the data set holds), the
selection is a filter: the first N enrollments in id order (`id <= the N-th id`). Ids are
random, so at every size it is a random sample of the table with the same mix of rows (active,
expired, indefinite, paused), and at N = the table it is every row ("select all"). Each round:

1. `runs.start` of `Extend(days=30)` bound to its preview, as a draft (PREVIEWED): what the
   admin writes down when it shows the preview (`INSERT ... SELECT` of the selection), timed;
2. `runs.confirm` and the job's enqueue in one transaction: what the admin's Confirm request
   does, timed to its commit;
3. the job run by the deployed worker (`manage.py db_worker --batch`: the run's job, then any
   job its chunks queued) in a process of its own (bench/runs_worker.py: its peak RSS), the
   queue drained before the round by an unmeasured worker, while this process reads the run's
   counters from another connection every POLL_SECONDS: the longest time the progress staff
   see did not move (an upper bound of the longest gap between two chunk commits, within
   POLL_SECONDS). The job's time is the run's own `started_at` to `finished_at` (the
   worker's start-up is reported apart: a deployed worker is already running);
4. the bare `UPDATE ... SET ended_at = ended_at + interval '30 days', updated_at = now()` of
   the same rows, committed.

Rounds alternate which of 3 and 4 goes first, each after a VACUUM ANALYZE of the tables they
write, so neither always finds the other's dead rows. The figures are medians over rounds.
With `rebuild` (`--runs-fresh-data`), each of 3 and 4 starts instead on the data set built
afresh (the same seed, so the same rows): without it the second step of a round runs on rows
the first has just extended by 30 days (a job after the bare UPDATE changed 500,017 rows where
one before it changed 443,567) and on a table and indexes the first has just rewritten.
The run's chunks (OperationRunChunk) are deleted after each round, so every size starts with the
same table; its audit rows stay.

The job extends only the rows whose new end is after now (an expired one is skipped with
STILL_EXPIRED, an indefinite one is unchanged); the bare UPDATE rewrites every row of the
selection: the comparison the issue's target names (the job against the bare UPDATE of the
same rows).
"""

import statistics
import threading
import time
import uuid
from collections.abc import Callable, Sequence

from bench import shared
from bench.report import Check

DEFAULT_SIZES = (10_000, 100_000, 1_000_000)
DAYS = 30
POLL_SECONDS = 0.1

# The targets (at 1,000,000 enrollments).
START_LIMIT_SECONDS = 5.0
CONFIRM_LIMIT_SECONDS = 1.0
RATIO_LIMIT = 2.5
GAP_LIMIT_SECONDS = 5.0
GROWTH_LIMIT = 1.3
MEMORY_LIMIT_MB = 300


# -- pure figures ----------------------------------------------------------------------------


def sizes_for(requested: Sequence[int], total: int) -> list[int]:
    """The requested sizes the data set holds, ascending, once each; the whole table when it
    holds none of them (a small data set still measures one run)."""
    fitting = sorted({size for size in requested if 0 < size <= total})
    if fitting:
        return fitting
    return [total] if total > 0 else []


def longest_gap(moments: Sequence[float]) -> float | None:
    """The longest time between two consecutive moments (seconds); None for fewer than two."""
    ordered = sorted(moments)
    if len(ordered) < 2:
        return None
    return max(later - earlier for earlier, later in zip(ordered, ordered[1:], strict=False))


def growth(per_row: dict[int, float]) -> float | None:
    """How far apart the per-row costs of the sizes are: the largest over the smallest; None
    for fewer than two sizes."""
    if len(per_row) < 2:
        return None
    smallest = min(per_row.values())
    if smallest <= 0:
        return None
    return round(max(per_row.values()) / smallest, 2)


def summarize(size: int, rounds: list[dict]) -> dict:
    """The size's figures over its rounds: medians of times, the worst gap and memory."""

    def median(key: str) -> float:
        return round(statistics.median(item[key] for item in rounds), 3)

    job, bare = median("job_seconds"), median("bare_seconds")
    gaps = [item["longest_gap_seconds"] for item in rounds if item["longest_gap_seconds"]]
    return {
        "size": size,
        "rounds": rounds,
        "start_seconds": median("start_seconds"),
        "confirm_seconds": median("confirm_seconds"),
        "job_seconds": job,
        "bare_seconds": bare,
        "ratio": round(job / bare, 2) if bare > 0 else None,
        "worker_startup_seconds": median("worker_startup_seconds"),
        "longest_gap_seconds": round(max(gaps), 3) if gaps else None,
        "peak_rss_mb": max(item["peak_rss_mb"] for item in rounds),
        "per_row_us": round(job / size * 1e6, 2),
        "complete": all(item["complete"] for item in rounds),
    }


def checks(results: dict) -> list[Check]:
    """Issue 23's targets for the runs (the largest size measured for the times; every size
    for correctness and memory). Every row changed once with one audit row, and the worker's
    memory, fail `--check`; the times are reported only."""
    figures = results.get("runs")
    if not figures or not figures["sizes"]:
        return []
    sizes = figures["sizes"]
    largest = sizes[-1]
    label = f"{largest['size']:,}"
    every = ", ".join(f"{s['size']:,}" for s in sizes)
    found = [
        Check(
            f"runs: every row of each run done once, one audit row per changed row ({every})",
            "; ".join(
                f"{s['size']:,}: "
                + ", ".join(
                    f"{r['changed']:,} changed / {r['skipped']:,} skipped / "
                    f"{r['unchanged']:,} unchanged, {r['audit_rows']:,} audit rows"
                    for r in s["rounds"][:1]
                )
                for s in sizes
            ),
            all(s["complete"] for s in sizes),
            True,
        ),
        Check(
            f"runs: worker's peak memory < {MEMORY_LIMIT_MB} MB (every size)",
            ", ".join(f"{s['peak_rss_mb']} MB at {s['size']:,}" for s in sizes),
            all(s["peak_rss_mb"] < MEMORY_LIMIT_MB for s in sizes),
            True,
        ),
        Check(
            f"runs: runs.start (preview's draft) of {label} <= {START_LIMIT_SECONDS:g} s",
            f"{largest['start_seconds']} s",
            largest["start_seconds"] <= START_LIMIT_SECONDS,
            False,
        ),
        Check(
            f"runs: Confirm (confirm + enqueue) of {label} <= {CONFIRM_LIMIT_SECONDS:g} s",
            f"{largest['confirm_seconds']} s",
            largest["confirm_seconds"] <= CONFIRM_LIMIT_SECONDS,
            False,
        ),
        Check(
            f"runs: job of {label} <= {RATIO_LIMIT}x the bare UPDATE",
            f"{largest['ratio']}x ({largest['job_seconds']} s vs {largest['bare_seconds']} s)",
            None if largest["ratio"] is None else largest["ratio"] <= RATIO_LIMIT,
            False,
        ),
        Check(
            f"runs: progress moves at least every {GAP_LIMIT_SECONDS:g} s (every size)",
            ", ".join(f"{s['longest_gap_seconds']} s at {s['size']:,}" for s in sizes),
            all((s["longest_gap_seconds"] or 0) <= GAP_LIMIT_SECONDS for s in sizes),
            False,
        ),
    ]
    ratio = figures.get("growth")
    if ratio is not None:
        found.append(
            Check(
                f"runs: per-row cost within {GROWTH_LIMIT}x across sizes",
                f"{ratio}x ("
                + ", ".join(f"{s['per_row_us']} us at {s['size']:,}" for s in sizes)
                + ")",
                ratio <= GROWTH_LIMIT,
                False,
            )
        )
    return found


def table(results: dict) -> str:
    """The runs' figures and targets as plain text."""
    figures = results.get("runs")
    if not figures:
        return ""
    lines = [
        f"7. runs: Extend(days={figures['days']}) of the first N enrollments, chunks of "
        f"{figures['chunk_size']:,}, by `db_worker` (medians of {figures['rounds']} rounds)"
    ]
    for s in figures["sizes"]:
        lines.append(
            f"   {s['size']:,} rows: start {s['start_seconds']} s, confirm+enqueue "
            f"{s['confirm_seconds']} s, job {s['job_seconds']} s ({s['per_row_us']} us/row), "
            f"bare UPDATE {s['bare_seconds']} s, ratio {s['ratio']}x, longest gap "
            f"{s['longest_gap_seconds']} s, worker start-up {s['worker_startup_seconds']} s, "
            f"peak RSS {s['peak_rss_mb']} MB"
        )
    lines += shared.targets_lines(checks(results))
    return "\n".join(lines)


# -- the measurement -------------------------------------------------------------------------


class ProgressWatch(threading.Thread):
    """Reads a run's counters from a connection of its own (this thread's) every `every`
    seconds, as a job page would: when it was first seen RUNNING, each time the rows done
    moved, and when it was seen finished (time.perf_counter moments)."""

    def __init__(self, run_id: uuid.UUID, every: float = POLL_SECONDS) -> None:
        super().__init__(daemon=True)
        self.run_id, self.every = run_id, every
        self.running_at: float | None = None
        self.finished_at: float | None = None
        self.moves: list[float] = []
        self.error: BaseException | None = None
        self._done = threading.Event()

    def stop(self) -> None:
        self._done.set()

    def run(self) -> None:
        from django.db import connection

        from enrollments.models import OperationRun

        finished = (
            OperationRun.State.DONE,
            OperationRun.State.CANCELLED,
            OperationRun.State.FAILED,
        )
        last = None
        try:
            while True:
                row = (
                    OperationRun.objects.filter(pk=self.run_id)
                    .values_list("state", "changed", "skipped", "unchanged")
                    .first()
                )
                now = time.perf_counter()
                if row is None:
                    raise RuntimeError(f"run {self.run_id} is gone")
                state, done = row[0], sum(row[1:])
                if state == OperationRun.State.RUNNING and self.running_at is None:
                    self.running_at = now
                if last is not None and done != last:
                    self.moves.append(now)
                last = done
                if state in finished:
                    self.finished_at = now
                    break
                if self._done.wait(self.every):
                    break
        except BaseException as error:  # reported by the measurement
            self.error = error
        finally:
            connection.close()

    def longest_gap(self) -> float | None:
        """The longest time the progress did not move, from the run seen RUNNING to it seen
        finished."""
        if self.running_at is None:
            return None
        moments = [self.running_at, *self.moves]
        if self.finished_at is not None:
            moments.append(self.finished_at)
        return longest_gap(moments)


def _vacuum() -> None:
    """VACUUM ANALYZE of the tables a round writes, events included: the worker's fan-out marks
    every event of a run fanned out after the run, and autovacuum would otherwise clean those
    dead rows during the round's next step."""
    from django.db import connection

    from enrollments.models import AccessChange, AccessEvent, Enrollment, OperationRunChunk

    tables = ", ".join(
        connection.ops.quote_name(model._meta.db_table)
        for model in (Enrollment, OperationRunChunk, AccessChange, AccessEvent)
    )
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {tables}")


def _run_round(bound: uuid.UUID, size: int, actor) -> dict:
    """Steps 1-3 of the module's docstring: start, confirm and enqueue, the worker's job."""
    from django.db import transaction
    from django_tasks_db.models import DBTaskResult

    from enrollments.jobs import runs as run_jobs
    from enrollments.models import AccessChange, Enrollment, OperationRun, OperationRunChunk
    from enrollments.operations import Extend, Selection
    from enrollments.operations import runs as operation_runs
    from enrollments.operations.audit import Attribution

    if DBTaskResult.objects.ready().exists():
        _work()  # jobs left by an earlier run: not this round's
    selection = Selection.by_filter(Enrollment.objects.filter(pk__lte=bound))
    admin = AccessChange.Source.ADMIN
    started = time.perf_counter()
    draft = operation_runs.start(
        [(Extend(days=DAYS), selection)],
        Attribution(actor, admin, ""),
        bound_to_preview=True,
        state=OperationRun.State.PREVIEWED,
    )
    start_seconds = time.perf_counter() - started
    started = time.perf_counter()
    with transaction.atomic():
        run = operation_runs.confirm(draft.pk, Attribution(actor, admin, "benchmark: runs"))
        run_jobs.enqueue(run)
    confirm_seconds = time.perf_counter() - started

    watch = ProgressWatch(run.pk)
    watch.start()
    spawned = time.perf_counter()
    try:
        worker = _work()
    finally:
        watch.stop()
        watch.join()
    worker_wall = time.perf_counter() - spawned
    if watch.error is not None:
        raise RuntimeError(f"reading the progress failed: {watch.error!r}")
    run.refresh_from_db()
    if run.started_at is None or run.finished_at is None:
        raise RuntimeError(f"run {run.pk} did not finish: {run.state} {run.error}")
    audit = AccessChange.objects.filter(batch_id=run.batch_id)
    audit_rows = audit.count()
    audited = audit.values("enrollment").distinct().count()
    pending = OperationRunChunk.objects.filter(run=run, done=False)
    complete = (
        run.state == OperationRun.State.DONE
        and run.total == size == run.changed + run.skipped + run.unchanged
        and audit_rows == audited == run.changed
        and not pending.exists()
    )
    OperationRunChunk.objects.filter(run=run).delete()
    return {
        "run": str(run.pk),
        "start_seconds": round(start_seconds, 3),
        "confirm_seconds": round(confirm_seconds, 3),
        "job_seconds": round((run.finished_at - run.started_at).total_seconds(), 3),
        "worker_seconds": worker["seconds"],
        "worker_wall_seconds": round(worker_wall, 3),
        "worker_startup_seconds": round(watch.running_at - spawned, 3)
        if watch.running_at is not None
        else None,
        "longest_gap_seconds": watch.longest_gap(),
        "progress_moves": len(watch.moves),
        "peak_rss_mb": worker["peak_rss_mb"],
        "state": run.state,
        "total": run.total,
        "changed": run.changed,
        "skipped": run.skipped,
        "unchanged": run.unchanged,
        "audit_rows": audit_rows,
        "complete": complete,
    }


def _work() -> dict:
    """Runs the worker (bench/runs_worker.py) until the queue is empty; its figures."""
    return shared.run_json(shared.WORKER_MODULE, failure="the worker failed")


def _bare_round(bound: uuid.UUID) -> tuple[float, int]:
    """Step 4: the bare UPDATE of the same rows, committed; (seconds, rows)."""
    from django.db import connection, transaction

    from enrollments.models import Enrollment

    table = connection.ops.quote_name(Enrollment._meta.db_table)
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET ended_at = ended_at + %s * interval '1 day', "  # noqa: S608
            "updated_at = now() WHERE id <= %s",
            [DAYS, bound],
        )
        updated = cursor.rowcount
    return time.perf_counter() - started, updated


def measure(
    sizes: Sequence[int],
    rounds: int,
    *,
    progress: Callable[[str], None] = lambda _: None,
    rebuild: Callable[[], None] | None = None,
) -> dict:
    """Every size's rounds (see the module); the sizes the data set holds. `rebuild`: builds
    the data set afresh, before each measured step."""
    from bench.fixtures import bench_user
    from enrollments.models import Enrollment
    from enrollments.operations.runs import run_setting

    def fresh() -> None:
        if rebuild is not None:
            rebuild()
        _vacuum()

    def bound_of(size: int) -> uuid.UUID:
        return Enrollment.objects.order_by("pk").values_list("pk", flat=True)[size - 1]

    total = Enrollment.objects.count()
    measured = []
    for size in sizes_for(sizes, total):
        done = []
        for number in range(max(1, rounds)):
            progress(f"7. runs: {size:,} rows, round {number + 1} of {rounds}")
            fresh()
            if number % 2 == 0:
                figures = _run_round(bound_of(size), size, bench_user())
                fresh()
                bare_seconds, updated = _bare_round(bound_of(size))
            else:
                bare_seconds, updated = _bare_round(bound_of(size))
                fresh()
                figures = _run_round(bound_of(size), size, bench_user())
            figures |= {"bare_seconds": round(bare_seconds, 3), "bare_updated": updated}
            figures["complete"] = figures["complete"] and updated == size
            done.append(figures)
        summary = summarize(size, done)
        progress(
            f"7. runs: {size:,} rows: start {summary['start_seconds']} s, confirm "
            f"{summary['confirm_seconds']} s, job {summary['job_seconds']} s, bare UPDATE "
            f"{summary['bare_seconds']} s ({summary['ratio']}x), longest gap "
            f"{summary['longest_gap_seconds']} s, peak RSS {summary['peak_rss_mb']} MB"
        )
        measured.append(summary)
    return {
        "days": DAYS,
        "chunk_size": run_setting("CHUNK_SIZE"),
        "rounds": max(1, rounds),
        "fresh_data": rebuild is not None,
        "poll_seconds": POLL_SECONDS,
        "sizes": measured,
        "growth": growth({s["size"]: s["per_row_us"] for s in measured}),
    }
