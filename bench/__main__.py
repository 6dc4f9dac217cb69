"""`python -m bench`: build the data set, measure, print a table and write the figures as JSON.

    .venv/bin/python -m bench                      # 1,000,000 enrollments (docs/benchmarks.md)
    .venv/bin/python -m bench --enrollments 20000 --load-seconds 20 --json bench.json
    .venv/bin/python -m bench --skip-load          # measure again on the data set already built
    .venv/bin/python -m bench --skip-load --fastpaths-off   # the same, every fast path off

The database (--database-url, default postgres://postgres@127.0.0.1:5432/bench) is the
benchmark's own: it is created when missing and emptied by every build.
"""

import argparse
import json
import os
import platform
import random
import sys
import tempfile
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from bench import environment, runs_concurrency, shared

STEPS = ("pages", "scope", "extension", "cost", "bulk", "runs", "load")
#: Steps run only when named with --only (minutes each: past the smoke run's budget).
OPT_IN = ("webhooks",)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--enrollments", type=int, default=1_000_000)
    parser.add_argument("--courses", type=int, default=1_000)
    parser.add_argument("--items-per-course", type=int, default=20)
    parser.add_argument("--courses-per-user", type=int, default=10)
    parser.add_argument("--seed", type=int, default=20260101)
    parser.add_argument("--database-url", default=environment.DEFAULT_DATABASE_URL)
    parser.add_argument("--skip-load", action="store_true", help="reuse the data set built before")
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    parser.add_argument(
        "--requests", type=int, default=60, help="measured requests per figure (median, p95)"
    )
    parser.add_argument("--warmup", type=int, default=5, help="unmeasured requests before them")
    parser.add_argument(
        "--peer-deep-rounds",
        type=int,
        default=3,
        help="rounds of the peers' deep pages (OFFSET: tens of seconds each at 1M)",
    )
    parser.add_argument("--bulk-size", type=int, default=100_000)
    parser.add_argument(
        "--bulk-rounds", type=int, default=2, help="bulk vs UPDATE rounds, alternating order"
    )
    parser.add_argument(
        "--bulk-small-size", type=int, default=2_000, help="the small bulk extension (0: none)"
    )
    parser.add_argument("--bulk-small-rounds", type=int, default=10)
    parser.add_argument(
        "--runs-sizes",
        type=lambda text: [int(value) for value in text.split(",") if value.strip()],
        default=[10_000, 100_000, 1_000_000],
        help="rows of each run measured, comma-separated (those the data set holds; issue 23;"
        " empty: none, for the opt-in parts alone)",
    )
    parser.add_argument(
        "--runs-rounds", type=int, default=2, help="run vs UPDATE rounds, alternating order"
    )
    parser.add_argument(
        "--runs-fresh-data",
        action="store_true",
        help="runs: build the data set afresh (same seed) before the job and before the bare"
        " UPDATE, so both change the same rows of the same table (a build each: about a minute"
        " at 1M)",
    )
    parser.add_argument(
        "--runs-during-pages",
        type=int,
        nargs="?",
        const=runs_concurrency.DEFAULT_PAGES_SIZE,
        default=0,
        metavar="ROWS",
        help="runs (opt-in): the first page of 100 idle and while a run of ROWS rows "
        f"(default {runs_concurrency.DEFAULT_PAGES_SIZE:,}) is applied by a worker",
    )
    parser.add_argument(
        "--runs-workers-throughput",
        action="store_true",
        help="runs (opt-in): many small runs drained by one worker, then by two",
    )
    parser.add_argument(
        "--runs-throughput-runs", type=int, default=runs_concurrency.DEFAULT_THROUGHPUT_RUNS
    )
    parser.add_argument(
        "--runs-throughput-rows", type=int, default=runs_concurrency.DEFAULT_THROUGHPUT_ROWS
    )
    parser.add_argument(
        "--runs-throughput-rounds", type=int, default=1, help="one vs two workers, alternating"
    )
    parser.add_argument(
        "--webhooks-size",
        type=int,
        default=100_000,
        help="webhooks (opt-in): the bulk extension recorded and delivered (issue 24)",
    )
    parser.add_argument(
        "--webhooks-rounds", type=int, default=2, help="webhooks: with/without events rounds"
    )
    parser.add_argument(
        "--webhooks-outage-seconds",
        type=float,
        default=60.0,
        help="webhooks: the receiver's outage (500s); the backoff is scaled to it (0: none)",
    )
    parser.add_argument(
        "--webhooks-outage-size", type=int, default=1_000, help="webhooks: events in the outage"
    )
    parser.add_argument(
        "--webhooks-hang-size",
        type=int,
        default=20_000,
        help="webhooks: events to an endpoint alone, then beside a hanging one (0: none)",
    )
    parser.add_argument(
        "--webhooks-no-sweep",
        action="store_true",
        help="webhooks: no delivery sweep (cron) during the outage",
    )
    parser.add_argument("--load-seconds", type=int, default=60)
    parser.add_argument("--load-clients", type=int, default=32)
    parser.add_argument(
        "--compare-seconds",
        type=int,
        default=30,
        help="pages-only load on the API and on the values() view, each run (0: none)",
    )
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers under load")
    parser.add_argument(
        "--only",
        action="append",
        choices=STEPS + OPT_IN,
        help=f"run only these measurements (repeatable; {', '.join(OPT_IN)} only when named)",
    )
    parser.add_argument(
        "--fastpaths-off",
        action="store_true",
        help="every fast path off (FASTPATHS_DISABLED=all) in every process measured",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="exit 1 when a correctness target fails (queries, memory, errors, lost updates)",
    )
    return parser


def _say(message: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {message}", flush=True)  # noqa: T201


def _machine() -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT version(), current_setting('shared_buffers')")
        version, shared_buffers = cursor.fetchone()
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "postgresql": version.split(" on ")[0],
        "shared_buffers": shared_buffers,
    }


def _fastpaths() -> dict:
    """Which fast paths the measured processes run with (they share this one's environment and
    dependencies, so its checks and setting are theirs): FASTPATHS_DISABLED as set, and each
    fast path's state."""
    from enrollments import fastpaths

    return {
        "disabled": os.environ.get("FASTPATHS_DISABLED", ""),
        "enabled": {name: path.enabled for name, path in sorted(fastpaths.REGISTRY.items())},
    }


def _dataset(args: argparse.Namespace) -> dict:
    from bench import dataset

    shape = dataset.Shape(
        enrollments=args.enrollments,
        courses=args.courses,
        items_per_course=args.items_per_course,
        courses_per_user=args.courses_per_user,
        seed=args.seed,
    )
    if args.skip_load:
        recorded = dataset.recorded()
        if recorded is None:
            raise SystemExit("--skip-load: this database holds no data set yet; build one first")
        _say(f"reusing the data set built at {recorded['built_at']}")
        return recorded
    _say(f"building {shape.normalized().enrollments:,} enrollments")
    stats = dataset.build(shape, now=datetime.now(UTC), progress=_say)
    _say(f"built in {stats.seconds:.1f}s; VACUUM ANALYZE")
    dataset.vacuum_analyze()
    return dataset.recorded()


def _rebuild(args: argparse.Namespace) -> None:
    """The data set built afresh with the arguments' shape (`--runs-fresh-data`)."""
    _dataset(argparse.Namespace(**{**vars(args), "skip_load": False}))


STATUSES = ("not_started", "in_progress", "completed")


def _pages(api_key: str, base_url: str, args: argparse.Namespace) -> dict:
    from bench import fixtures, latency, peers
    from enrollments.models import Enrollment

    total = Enrollment.objects.count()
    deep = fixtures.deep_position(total)
    deep_cursor = fixtures.cursor_at(deep - 1)
    first = latency.page_request("graphql_first", after=None)
    deep_page = latency.page_request("graphql_deep", after=deep_cursor)
    one = latency.page_request("graphql_page_of_1", after=None, first=1)
    baseline_first = latency.baseline_request("baseline_first", after=None)
    baseline_deep = latency.baseline_request("baseline_deep", after=deep_cursor)
    peer_names = sorted(peers.available())
    peer_first = [latency.peer_request(f"{name}_first", name, offset=None) for name in peer_names]
    # The peer's cursor of row deep - 1: its page starts at row `deep`, as ours does.
    peer_deep = [latency.peer_request(f"{name}_deep", name, offset=deep - 1) for name in peer_names]
    counts = [latency.status_count_request(f"count_{s}", status=s) for s in STATUSES]
    status_pages = [
        latency.status_page_request(
            f"status_page_{s}",
            status=s,
            rows=min(latency.PAGE_SIZE, Enrollment.objects.filter(course_status=s).count()),
        )
        for s in STATUSES
    ]
    queries = {}
    payloads = {}
    counted = [first, deep_page, one, baseline_first, baseline_deep, *peer_first, *counts]
    for request in [*counted, *status_pages]:
        queries[request.name], payloads[request.name] = latency.count_queries(api_key, request)
    # A key whose permission set is not cached (its first request, or after the cache's
    # seconds): the page reads the set again.
    from apikeys import permission_cache

    permission_cache.clear()
    queries["graphql_first_cold_permissions"], _ = latency.count_queries(api_key, first, repeat=1)
    # The deep page starts where it should, and the baseline and the peers serve the same rows.
    ordered = Enrollment.objects.order_by("created_at", "id").values_list("pk", flat=True)
    expected_id = str(ordered[deep])
    graphql_ids = latency.row_ids(deep_page, payloads["graphql_deep"])
    if graphql_ids[0] != expected_id:
        raise latency.BadResponse(f"deep page starts at {graphql_ids[0]}, not {expected_id}")
    if latency.row_ids(baseline_deep, payloads["baseline_deep"]) != graphql_ids:
        raise latency.BadResponse("the baseline view serves other rows than the API")
    first_ids = latency.row_ids(first, payloads["graphql_first"])
    for request in peer_first:
        if latency.row_ids(request, payloads[request.name]) != first_ids:
            raise latency.BadResponse(f"{request.name} serves other rows than the API")
    for status, request in zip(STATUSES, counts, strict=True):
        counted_rows = payloads[request.name]["data"]["courseMemberships"]["total_count"]
        if counted_rows != Enrollment.objects.filter(course_status=status).count():
            raise latency.BadResponse(f"{request.name}: total_count {counted_rows} is wrong")
    _say(f"SQL queries per request: {queries}")
    session = latency.HttpSession(base_url, api_key)
    try:
        summaries = latency.interleaved(
            session,
            [
                first,
                deep_page,
                baseline_first,
                baseline_deep,
                *peer_first,
                *counts,
                *status_pages,
            ],
            rounds=args.requests,
            warmup=args.warmup,
        )
        deep_summaries, timed_out = {}, {}
        if peer_deep and args.peer_deep_rounds:
            _say(f"the peers' deep pages ({args.peer_deep_rounds} rounds, OFFSET {deep:,})")
            deep_summaries, timed_out = _peer_deep_pages(
                session, [deep_page, baseline_deep, *peer_deep], graphql_ids, args
            )
    finally:
        session.close()
    median = {name: summary.median_ms for name, summary in summaries.items()}
    peer_figures = {}
    for name in peer_names:
        figures = {
            "first": asdict(summaries[f"{name}_first"]),
            "queries_first": queries[f"{name}_first"],
            "first_over_ours": round(median[f"{name}_first"] / median["graphql_first"], 2),
        }
        if f"{name}_deep" in timed_out:
            figures |= {"deep_timed_out_after_ms": timed_out[f"{name}_deep"]}
        elif f"{name}_deep" in deep_summaries:
            deep_figures = deep_summaries[f"{name}_deep"]
            ours_deep = deep_summaries["graphql_deep"].median_ms
            figures |= {
                "deep": asdict(deep_figures),
                "deep_over_ours": round(deep_figures.median_ms / ours_deep, 4),
                "ours_deep_same_rounds": asdict(deep_summaries["graphql_deep"]),
            }
        peer_figures[name] = figures
    return {
        "deep_rows": deep,
        "page_size": latency.PAGE_SIZE,
        "latency": {name: asdict(summary) for name, summary in summaries.items()},
        "queries": queries,
        "deep_over_first": round(median["graphql_deep"] / median["graphql_first"], 2),
        "graphql_over_baseline": round(median["graphql_first"] / median["baseline_first"], 2),
        "graphql_over_baseline_deep": round(median["graphql_deep"] / median["baseline_deep"], 2),
        "peers": peer_figures,
        "course_status": {
            status: {
                "count_ms": median[f"count_{status}"],
                "page_ms": median[f"status_page_{status}"],
                "rows": Enrollment.objects.filter(course_status=status).count(),
            }
            for status in STATUSES
        },
    }


def _peer_deep_pages(session, requests, expected_ids, args) -> tuple[dict, dict]:
    """The deep pages, the peers' included, interleaved: ({name: Summary}, {peer request name:
    its timeout in ms} for the peers whose OFFSET query the database cancelled)."""
    from bench import latency
    from bench.peers.common import STATEMENT_TIMEOUT
    from bench.settings import BENCH_PEER_STATEMENT_TIMEOUT_MS
    from bench.timing import Summary

    samples: dict[str, list[float]] = {request.name: [] for request in requests}
    timed_out: dict[str, int] = {}
    for _ in range(args.peer_deep_rounds):
        for request in requests:
            if request.name in timed_out:
                continue
            try:
                elapsed, payload = session.send(request)
            except latency.BadResponse as error:
                if request.peer is None or STATEMENT_TIMEOUT not in str(error):
                    raise
                timed_out[request.name] = BENCH_PEER_STATEMENT_TIMEOUT_MS
                _say(f"{request.name}: cancelled after {BENCH_PEER_STATEMENT_TIMEOUT_MS} ms")
                continue
            if latency.row_ids(request, payload) != expected_ids:
                raise latency.BadResponse(f"{request.name} serves other rows than the API")
            samples[request.name].append(elapsed)
    summaries = {name: Summary.of(values) for name, values in samples.items() if values}
    return summaries, timed_out


def _extension(api_key: str, base_url: str, args: argparse.Namespace) -> dict:
    from bench import fixtures, latency

    targets = fixtures.extension_targets(args.requests + args.warmup + 1)
    queries, _ = latency.count_queries(api_key, latency.extend_request(targets[-1]), repeat=1)
    session = latency.HttpSession(base_url, api_key)
    try:
        summary, _ = latency.extension_latency(session, targets[:-1], warmup=args.warmup)
    finally:
        session.close()
    return {"latency": asdict(summary), "queries": queries, "days": 1}


def _cost(api_key: str, base_url: str, args: argparse.Namespace) -> dict:
    from bench import cost, latency

    session = latency.HttpSession(base_url, api_key)
    try:
        # The heavy documents take up to a second each at 1M: fewer rounds than the pages.
        return cost.run(session, rounds=min(args.requests, 10), warmup=min(args.warmup, 1))
    finally:
        session.close()


def _bulk(size: int, rounds: int, *, skip: int = 0) -> dict:
    return shared.run_json(
        "bench.bulk", str(size), "30", str(rounds), str(skip), failure="bulk measurement failed"
    )


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    steps = set(args.only or STEPS)
    try:
        environment.check_dedicated(args.database_url)
    except environment.UnsafeDatabase as error:
        raise SystemExit(f"refusing to run: {error}") from None
    environment.configure(args.database_url, fastpaths_off=args.fastpaths_off)
    if environment.ensure_database(args.database_url):
        _say(f"created database {environment.database_name(args.database_url)}")

    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)

    from bench import fixtures, load, report
    from bench.server import gunicorn

    started = time.monotonic()
    results: dict = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": environment.database_name(args.database_url),
        "machine": _machine(),
        "fastpaths": _fastpaths(),
        "dataset": _dataset(args),
    }
    api_key = fixtures.api_key()
    rng = random.Random(args.seed)  # noqa: S311 - sampling, not secrets
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        workdir = Path(tmp)
        if steps & {"pages", "scope", "extension", "cost"}:
            with gunicorn(workers=1, log=workdir / "gunicorn-latency.log") as base_url:
                if "pages" in steps:
                    _say("1-2. membership pages and the values() baseline")
                    results["pages"] = _pages(api_key, base_url, args)
                if "scope" in steps:
                    from bench import scope

                    _say("9. a course staff member's page against a global staff member's")
                    results["scope"] = scope.measure(
                        api_key, base_url, requests=args.requests, warmup=args.warmup
                    )
                if "extension" in steps:
                    _say("3. extendStudentCourseAccess")
                    results["extension"] = _extension(api_key, base_url, args)
                if "cost" in steps:
                    _say("6. the heaviest documents the cost model admits, and the audit's")
                    results["cost"] = _cost(api_key, base_url, args)
        if "bulk" in steps:
            _say(f"4. bulk extension of {args.bulk_size:,}")
            results["bulk"] = _bulk(args.bulk_size, args.bulk_rounds)
            if args.bulk_small_size:
                _say(f"4. bulk extension of {args.bulk_small_size:,}")
                # Sets after the large run's, so neither extends rows the other did.
                skip = 2 * len(results["bulk"]["rounds"]) * results["bulk"]["size"]
                results["bulk_small"] = _bulk(
                    args.bulk_small_size, args.bulk_small_rounds, skip=skip
                )
        if "runs" in steps:
            from bench import runs

            if args.runs_sizes:
                _say(f"7. runs: {args.runs_sizes} rows, {args.runs_rounds} rounds")
                rebuild = (lambda: _rebuild(args)) if args.runs_fresh_data else None
                results["runs"] = runs.measure(
                    args.runs_sizes, args.runs_rounds, progress=_say, rebuild=rebuild
                )
            if args.runs_during_pages:
                with gunicorn(workers=1, log=workdir / "gunicorn-runs.log") as base_url:
                    results["runs_during_pages"] = runs_concurrency.measure_during_pages(
                        api_key,
                        base_url,
                        size=args.runs_during_pages,
                        requests=args.requests,
                        warmup=args.warmup,
                        progress=_say,
                    )
            if args.runs_workers_throughput:
                results["runs_throughput"] = runs_concurrency.measure_throughput(
                    count=args.runs_throughput_runs,
                    rows=args.runs_throughput_rows,
                    rounds=args.runs_throughput_rounds,
                    progress=_say,
                )
        if "webhooks" in steps:
            from bench import webhooks

            _say(f"8. webhooks: {args.webhooks_size:,} events")
            results["webhooks"] = webhooks.measure(
                size=args.webhooks_size,
                rounds=args.webhooks_rounds,
                outage_seconds=args.webhooks_outage_seconds,
                outage_size=args.webhooks_outage_size,
                hang_size=args.webhooks_hang_size,
                sweep=not args.webhooks_no_sweep,
                logdir=workdir,
                progress=_say,
            )
        if "load" in steps:
            _say(
                f"5. load: {args.load_clients} clients, {args.workers} workers, "
                f"{args.load_seconds}s"
            )
            settings = load.LoadSettings(
                seconds=args.load_seconds, clients=args.load_clients, workers=args.workers
            )
            with gunicorn(workers=args.workers, log=workdir / "gunicorn-load.log") as base_url:
                results["load"] = load.run(
                    base_url=base_url,
                    api_key=api_key,
                    settings=settings,
                    workdir=workdir,
                    rng=rng,
                )
                if args.compare_seconds:
                    _say(
                        f"5. load, pages only: the API against the values() view, "
                        f"{args.compare_seconds}s each, twice"
                    )
                    results["load_compare"] = load.compare(
                        base_url=base_url,
                        api_key=api_key,
                        settings=load.LoadSettings(
                            seconds=args.compare_seconds,
                            clients=args.load_clients,
                            workers=args.workers,
                        ),
                        workdir=workdir,
                        rng=rng,
                    )
    results["seconds"] = round(time.monotonic() - started, 1)
    from bench import runs, webhooks

    found = (
        report.checks(results)
        + runs.checks(results)
        + runs_concurrency.checks(results)
        + webhooks.checks(results)
    )
    results["targets"] = [asdict(check) for check in found]
    print(report.table(results))  # noqa: T201
    if "runs" in results:
        print("\n" + runs.table(results))  # noqa: T201
    if runs_concurrency.table(results):
        print("\n" + runs_concurrency.table(results))  # noqa: T201
    if "webhooks" in results:
        print("\n" + webhooks.table(results))  # noqa: T201
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2, default=str) + "\n")
        _say(f"wrote {args.json}")
    failed = [check for check in found if check.correctness and check.met is False]
    if args.check and failed:
        _say("correctness targets failed: " + "; ".join(check.target for check in failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
