"""Issue 23's runs targets that need a second party (opt-in parts of the `runs` step):

- `--runs-during-pages`: "API pages served meanwhile stay within 1.5x of their idle time". The
  first page of 100 (the `pages` step's `graphql_first`, through gunicorn with one worker, one
  client) is timed idle, then while `db_worker` applies a run's job of `size` rows (the first
  `size` enrollments in id order, `Extend(days=30)`, as bench/runs.py), then idle again. The
  client pauses PAUSE_SECONDS between requests in every phase: API traffic beside a job, not a
  client that takes a core for itself on a 2-core machine. Only the requests sent after the
  run was seen RUNNING and answered before it was seen finished count as "during".
- `--runs-workers-throughput`: "Two workers on one queue: throughput at least 1.6x one
  worker's for many small jobs". `count` runs of `rows` rows each (disjoint slices of the
  table in id order, fresh ones for each phase) are queued, then drained by one `db_worker`,
  then the same number of new runs by two at once (`rounds` rounds alternate which goes
  first; medians). Throughput is runs per second from the
  first run's `started_at` to the last run's `finished_at` (the workers' start-up, about 1 s
  each, is reported apart as the wall time: deployed workers are already running).

Both read the machine's load average before and after: the machine has 2 cores and is shared.
"""

import os
import statistics
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict

from bench import shared
from bench.report import Check
from bench.timing import Summary

DAYS = 30
PAUSE_SECONDS = 0.05
STATE_EVERY_SECONDS = 0.25

# The targets.
PAGES_RATIO_LIMIT = 1.5
THROUGHPUT_RATIO_LIMIT = 1.6

DEFAULT_PAGES_SIZE = 200_000
DEFAULT_THROUGHPUT_RUNS = 200
DEFAULT_THROUGHPUT_ROWS = 50


# -- pure figures ----------------------------------------------------------------------------


def within(started: float, ended: float, window: tuple[float | None, float | None]) -> bool:
    """Whether a request sent at `started` and answered at `ended` falls inside the window
    (seen RUNNING, seen finished); an open end is no bound."""
    low, high = window
    return (low is None or started >= low) and (high is None or ended <= high)


def page_figures(idle: Sequence[float], during: Sequence[float]) -> dict:
    """Idle and during summaries (seconds in, ms out) and the ratios of median and p95."""
    idle_summary, during_summary = Summary.of(list(idle)), Summary.of(list(during))

    def ratio(key: str) -> float | None:
        base = getattr(idle_summary, key)
        return round(getattr(during_summary, key) / base, 2) if base > 0 else None

    return {
        "idle": asdict(idle_summary),
        "during": asdict(during_summary),
        "median_ratio": ratio("median_ms"),
        "p95_ratio": ratio("p95_ms"),
    }


def throughput(count: int, started: Sequence[float], finished: Sequence[float]) -> dict:
    """Runs per second of `count` runs, from the earliest start to the latest finish (epoch
    seconds)."""
    if count <= 0 or not started or not finished:
        raise ValueError("no runs")
    span = max(finished) - min(started)
    return {
        "runs": count,
        "span_seconds": round(span, 3),
        "runs_per_second": round(count / span, 2) if span > 0 else None,
    }


def speedup(one: dict, two: dict) -> float | None:
    """Two workers' runs per second over one worker's."""
    if not one.get("runs_per_second") or two.get("runs_per_second") is None:
        return None
    return round(two["runs_per_second"] / one["runs_per_second"], 2)


def checks(results: dict) -> list[Check]:
    """The two targets, reported only (times depend on the machine); each phase's runs all
    DONE with one audit row per changed row fails `--check`."""
    found: list[Check] = []
    pages = results.get("runs_during_pages")
    if pages:
        found.append(
            Check(
                f"runs: first page of 100 during a run of {pages['size']:,} rows <= "
                f"{PAGES_RATIO_LIMIT}x idle (median and p95)",
                f"median {pages['median_ratio']}x ({pages['during']['median_ms']} vs "
                f"{pages['idle']['median_ms']} ms), p95 {pages['p95_ratio']}x "
                f"({pages['during']['p95_ms']} vs {pages['idle']['p95_ms']} ms)",
                None
                if pages["median_ratio"] is None or pages["p95_ratio"] is None
                else max(pages["median_ratio"], pages["p95_ratio"]) <= PAGES_RATIO_LIMIT,
                False,
            )
        )
        found.append(
            Check(
                "runs: the run applied beside the pages is done, one audit row per change",
                f"{pages['run']['changed']:,} changed / {pages['run']['skipped']:,} skipped / "
                f"{pages['run']['unchanged']:,} unchanged",
                pages["run"]["complete"],
                True,
            )
        )
    workers = results.get("runs_throughput")
    if workers:
        one, two = workers["one_worker"], workers["two_workers"]
        found.append(
            Check(
                f"runs: two workers >= {THROUGHPUT_RATIO_LIMIT}x one worker's throughput "
                f"({workers['runs']} runs of {workers['rows']} rows)",
                f"{workers['speedup']}x ({two['runs_per_second']} vs "
                f"{one['runs_per_second']} runs/s)",
                None
                if workers["speedup"] is None
                else workers["speedup"] >= THROUGHPUT_RATIO_LIMIT,
                False,
            )
        )
        found.append(
            Check(
                "runs: every small run done, one audit row per change (one and two workers)",
                f"{one['done']} + {two['done']} of "
                f"{2 * workers['runs'] * workers.get('rounds', 1)} done",
                one["complete"] and two["complete"],
                True,
            )
        )
    return found


def table(results: dict) -> str:
    """The figures as plain text (empty when neither was measured)."""
    lines = []
    pages = results.get("runs_during_pages")
    if pages:
        lines.append(
            f"7b. first page of 100 idle and during a run of {pages['size']:,} rows "
            f"(job {pages['run']['job_seconds']} s): idle median {pages['idle']['median_ms']} / "
            f"p95 {pages['idle']['p95_ms']} ms (n={pages['idle']['n']}), during median "
            f"{pages['during']['median_ms']} / p95 {pages['during']['p95_ms']} ms "
            f"(n={pages['during']['n']}): {pages['median_ratio']}x / {pages['p95_ratio']}x"
        )
    workers = results.get("runs_throughput")
    if workers:
        one, two = workers["one_worker"], workers["two_workers"]
        lines.append(
            f"7c. {workers['runs']} runs of {workers['rows']} rows (medians of "
            f"{workers.get('rounds', 1)} rounds): one worker "
            f"{one['runs_per_second']} runs/s ({one['span_seconds']} s), two workers "
            f"{two['runs_per_second']} runs/s ({two['span_seconds']} s): {workers['speedup']}x"
        )
    if not lines:
        return ""
    lines += shared.targets_lines(checks(results))
    return "\n".join(lines)


# -- the measurements ------------------------------------------------------------------------


def _load() -> list[float]:
    return [round(value, 2) for value in os.getloadavg()]


def _wait(worker: subprocess.Popen, log) -> None:
    worker.communicate()
    if worker.returncode != 0:
        log.seek(0)
        raise RuntimeError(f"the worker failed: {log.read()[-3000:]}")


def _drain() -> None:
    """Runs the jobs already queued (not the measurement's) with an unmeasured worker."""
    from django_tasks_db.models import DBTaskResult

    if DBTaskResult.objects.ready().exists():
        with tempfile.TemporaryFile("w+") as log:
            _wait(shared.spawn_worker(log), log)


def _queue_run(lower, upper, actor, reason: str) -> uuid.UUID:
    """A run of Extend(days=30) over the enrollments with lower < id <= upper (lower None: no
    lower bound), drafted, confirmed and its job queued, as the admin's Confirm does."""
    from django.db import transaction

    from enrollments.jobs import runs as run_jobs
    from enrollments.models import AccessChange, Enrollment, OperationRun
    from enrollments.operations import Extend, Selection
    from enrollments.operations import runs as operation_runs
    from enrollments.operations.audit import Attribution

    rows = Enrollment.objects.filter(pk__lte=upper)
    if lower is not None:
        rows = rows.filter(pk__gt=lower)
    admin = AccessChange.Source.ADMIN
    draft = operation_runs.start(
        [(Extend(days=DAYS), Selection.by_filter(rows))],
        Attribution(actor, admin, ""),
        bound_to_preview=True,
        state=OperationRun.State.PREVIEWED,
    )
    with transaction.atomic():
        run = operation_runs.confirm(draft.pk, Attribution(actor, admin, reason))
        run_jobs.enqueue(run)
    return run.pk


def _outcome(run_ids: Sequence[uuid.UUID], sizes: Sequence[int]) -> dict:
    """The runs' counts and whether each is DONE with every row done once and one audit row
    per changed row; their chunks (OperationRunChunk) deleted afterwards, as bench/runs.py does."""
    from enrollments.models import AccessChange, OperationRun, OperationRunChunk

    done = changed = skipped = unchanged = 0
    complete = True
    started, finished = [], []
    for run_id, size in zip(run_ids, sizes, strict=True):
        run = OperationRun.objects.get(pk=run_id)
        audit = AccessChange.objects.filter(batch_id=run.batch_id)
        ok = (
            run.state == OperationRun.State.DONE
            and run.total == size == run.changed + run.skipped + run.unchanged
            and audit.count() == audit.values("enrollment").distinct().count() == run.changed
        )
        complete = complete and ok
        done += run.state == OperationRun.State.DONE
        changed, skipped, unchanged = (
            changed + run.changed,
            skipped + run.skipped,
            unchanged + run.unchanged,
        )
        if run.started_at is not None and run.finished_at is not None:
            started.append(run.started_at.timestamp())
            finished.append(run.finished_at.timestamp())
    OperationRunChunk.objects.filter(run_id__in=list(run_ids)).delete()
    return {
        "done": done,
        "changed": changed,
        "skipped": skipped,
        "unchanged": unchanged,
        "complete": complete,
        "started": started,
        "finished": finished,
    }


def _timed_pages(session, request, *, count: int, until: Callable[[], bool] | None = None):
    """(sent, answered, seconds) of page requests, `count` of them or, with `until`, as many
    as are sent before it says stop; each answer must be a full page."""
    from bench import latency

    samples = []
    while (until is None and len(samples) < count) or (until is not None and not until()):
        sent = time.perf_counter()
        _, payload = session.send(request)
        answered = time.perf_counter()
        if len(latency.rows_of(request, payload)) != request.rows:
            raise latency.BadResponse(f"{request.name}: not a full page of {request.rows}")
        samples.append((sent, answered, answered - sent))
        time.sleep(PAUSE_SECONDS)
    return samples


def measure_during_pages(
    api_key: str,
    base_url: str,
    *,
    size: int,
    requests: int,
    warmup: int,
    progress: Callable[[str], None] = lambda _: None,
) -> dict:
    """The first page of 100 idle, during a run of `size` rows, idle again (see the module)."""
    from bench import latency
    from bench.fixtures import bench_user
    from bench.runs import _vacuum
    from enrollments.models import Enrollment, OperationRun

    total = Enrollment.objects.count()
    size = min(size, total)
    bound = Enrollment.objects.order_by("pk").values_list("pk", flat=True)[size - 1]
    actor = bench_user()
    request = latency.page_request("graphql_first", after=None)
    load_before = _load()
    _drain()
    _vacuum()
    session = latency.HttpSession(base_url, api_key)
    try:
        _timed_pages(session, request, count=warmup)
        progress(f"7b. pages idle ({requests} requests)")
        idle_before = _timed_pages(session, request, count=requests)
        run_id = _queue_run(None, bound, actor, "benchmark: runs during pages")
        finished_states = (
            OperationRun.State.DONE,
            OperationRun.State.CANCELLED,
            OperationRun.State.FAILED,
        )
        window: list[float | None] = [None, None]
        checked = [0.0]

        def finished() -> bool:
            """Reads the run's state every STATE_EVERY_SECONDS; notes when it was first seen
            RUNNING and when it was seen finished."""
            now = time.perf_counter()
            if now - checked[0] < STATE_EVERY_SECONDS:
                return False
            checked[0] = now
            state = OperationRun.objects.values_list("state", flat=True).get(pk=run_id)
            if state == OperationRun.State.RUNNING and window[0] is None:
                window[0] = now
            if state in finished_states:
                window[1] = now
                return True
            return False

        progress(f"7b. pages during the run of {size:,} rows")
        with tempfile.TemporaryFile("w+") as log:
            worker = shared.spawn_worker(log)
            try:
                meanwhile = _timed_pages(session, request, count=0, until=finished)
            finally:
                _wait(worker, log)
        load_during = _load()
        progress(f"7b. pages idle again ({requests} requests)")
        idle_after = _timed_pages(session, request, count=requests)
    finally:
        session.close()
    during = [
        seconds
        for sent, answered, seconds in meanwhile
        if window[0] is not None and within(sent, answered, (window[0], window[1]))
    ]
    if not during:
        raise RuntimeError("no page was served while the run was seen running")
    run = OperationRun.objects.get(pk=run_id)
    outcome = _outcome([run_id], [size])
    idle = [seconds for _, _, seconds in idle_before + idle_after]
    figures = page_figures(idle, during)
    return figures | {
        "size": size,
        "pause_seconds": PAUSE_SECONDS,
        "idle_before": asdict(Summary.of([s for _, _, s in idle_before])),
        "idle_after": asdict(Summary.of([s for _, _, s in idle_after])),
        "run": {
            "id": str(run_id),
            "job_seconds": round((run.finished_at - run.started_at).total_seconds(), 3),
            "changed": outcome["changed"],
            "skipped": outcome["skipped"],
            "unchanged": outcome["unchanged"],
            "complete": outcome["complete"],
        },
        "load_average": {"before": load_before, "after_run": load_during, "end": _load()},
    }


def _phase(workers: int, bounds: Sequence, actor, progress: Callable[[str], None]) -> dict:
    """Queues a run per slice (bounds[i] < id <= bounds[i + 1]), then drains them with
    `workers` workers at once; its throughput and outcome."""
    from enrollments.models import Enrollment

    _drain()
    run_ids, sizes = [], []
    for lower, upper in zip(bounds, bounds[1:], strict=False):
        run_ids.append(_queue_run(lower, upper, actor, f"benchmark: {workers} worker(s)"))
        rows = Enrollment.objects.filter(pk__gt=lower, pk__lte=upper).count()
        sizes.append(rows)
    progress(f"7c. {len(run_ids)} runs queued; draining with {workers} worker(s)")
    load_before = _load()
    with tempfile.TemporaryFile("w+") as log:
        spawned = time.perf_counter()
        processes = [shared.spawn_worker(log) for _ in range(workers)]
        for process in processes:
            _wait(process, log)
        wall = time.perf_counter() - spawned
    outcome = _outcome(run_ids, sizes)
    figures = throughput(len(run_ids), outcome.pop("started"), outcome.pop("finished"))
    return (
        figures
        | outcome
        | {
            "workers": workers,
            "wall_seconds": round(wall, 3),
            "load_average": {"before": load_before, "after": _load()},
        }
    )


def combine(phases: Sequence[dict]) -> dict:
    """One worker count's phases over the rounds: the median runs per second and span, the runs
    done in all, whether every phase was complete, and the phases themselves."""
    if not phases:
        raise ValueError("no phases")
    rates = [phase["runs_per_second"] for phase in phases if phase["runs_per_second"]]
    return {
        "runs_per_second": round(statistics.median(rates), 2) if rates else None,
        "span_seconds": round(statistics.median(phase["span_seconds"] for phase in phases), 3),
        "done": sum(phase["done"] for phase in phases),
        "complete": all(phase["complete"] for phase in phases),
        "phases": list(phases),
    }


def measure_throughput(
    *, count: int, rows: int, rounds: int = 1, progress: Callable[[str], None] = lambda _: None
) -> dict:
    """One worker and two, each phase on `count` fresh runs of `rows` rows (see the module);
    `rounds` rounds alternating which goes first (one, two; then two, one; ...), medians."""
    from bench.fixtures import bench_user
    from bench.runs import _vacuum
    from enrollments.models import Enrollment

    actor = bench_user()
    rounds = max(1, rounds)
    needed = 2 * rounds * count * rows + 1
    total = Enrollment.objects.count()
    if needed > total:
        raise RuntimeError(f"{2 * rounds} x {count} runs of {rows} rows need {needed:,} rows")
    # From the end of the table in id order: not the rows the other measurements extend.
    keys = list(Enrollment.objects.order_by("-pk").values_list("pk", flat=True)[:needed:rows])[::-1]
    phases: dict[int, list[dict]] = {1: [], 2: []}
    for number in range(rounds):
        order = (1, 2) if number % 2 == 0 else (2, 1)
        for step, workers in enumerate(order):
            start = (2 * number + step) * count
            _vacuum()
            progress(f"7c. round {number + 1} of {rounds}")
            phases[workers].append(
                _phase(workers, keys[start : start + count + 1], actor, progress)
            )
    one, two = combine(phases[1]), combine(phases[2])
    return {
        "runs": count,
        "rows": rows,
        "rounds": rounds,
        "one_worker": one,
        "two_workers": two,
        "speedup": speedup(one, two),
    }
