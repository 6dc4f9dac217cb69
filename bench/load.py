"""Measurement 5: gunicorn with several workers under 32 concurrent locust clients, then the
check that no extension was lost (or counted twice).

Throughput and latency percentiles are locust's own (its CSV summary: response times above
100 ms are rounded to two significant digits). The no-lost-update check compares, for every
enrollment of the extension pool, `ended_at` after the run with its value before plus one day
per extension that the client saw succeed, and the audit rows written during the run with the
same count.
"""

import csv
import json
import os
import random
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench import fixtures
from bench.latency import PAGE_SIZE
from bench.server import PROJECT_ROOT
from enrollments.models import AccessChange


@dataclass(frozen=True, slots=True)
class LoadSettings:
    seconds: int = 60
    clients: int = 32
    workers: int = 4
    pool: int = 100


def _plan(
    api_key: str, rng: random.Random, pool: int
) -> tuple[dict, list[fixtures.ExtensionTarget]]:
    targets = fixtures.extension_targets(pool, from_end=True)
    plan = {
        "api_key": api_key,
        "page_size": PAGE_SIZE,
        "cursors": fixtures.sample_cursors(500, rng),
        "course_ids": fixtures.course_ids(200, rng),
        "user_ids": fixtures.user_ids(500, rng),
        "targets": [
            {"enrollment_id": t.enrollment_id, "user_id": t.user_id, "course_id": t.course_id}
            for t in targets
        ],
    }
    return plan, targets


def _stats(path: Path) -> dict:
    with path.open() as handle:
        rows = list(csv.DictReader(handle))

    def figures(row: dict) -> dict:
        return {
            "requests": int(row["Request Count"]),
            "failures": int(row["Failure Count"]),
            "requests_per_s": round(float(row["Requests/s"]), 1),
            "p50_ms": _number(row["50%"]),
            "p95_ms": _number(row["95%"]),
            "p99_ms": _number(row["99%"]),
            "max_ms": _number(row["Max Response Time"]),
        }

    by_name = {row["Name"]: figures(row) for row in rows if row["Name"] != "Aggregated"}
    total = next(figures(row) for row in rows if row["Name"] == "Aggregated")
    return {"total": total, "by_request": by_name}


def _number(text: str) -> float | None:
    return None if text in ("", "N/A") else round(float(text), 1)


def _locust(
    *, base_url: str, settings: LoadSettings, workdir: Path, plan: dict, user_class: str, tag: str
) -> tuple[dict, Path]:
    """Runs locust headless with `user_class` of bench/locustfile.py; returns (its statistics,
    the extension log)."""
    plan_path, log_path = workdir / f"{tag}-plan.json", workdir / f"{tag}-extensions.log"
    plan_path.write_text(json.dumps(plan))
    log_path.write_text("")
    command = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(PROJECT_ROOT / "bench" / "locustfile.py"),
        "--headless",
        "--only-summary",
        f"--users={settings.clients}",
        f"--spawn-rate={settings.clients}",
        f"--run-time={settings.seconds}s",
        "--stop-timeout=60",
        f"--host={base_url}",
        f"--csv={workdir / tag}",
        "--loglevel=WARNING",
        user_class,
    ]
    env = {
        **os.environ,
        "BENCH_LOAD_PLAN": str(plan_path),
        "BENCH_LOAD_LOG": str(log_path),
        "PYTHONPATH": str(PROJECT_ROOT),
    }
    completed = subprocess.run(  # noqa: S603 - our own interpreter and arguments
        command,
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=settings.seconds + 180,
        check=False,
    )
    (workdir / f"{tag}-locust.log").write_text(completed.stdout + completed.stderr)
    stats_path = workdir / f"{tag}_stats.csv"
    if not stats_path.exists():
        raise RuntimeError(f"locust wrote no statistics: {completed.stderr[-2000:]}")
    stats = _stats(stats_path)
    stats["failure_samples"] = _failures(workdir / f"{tag}_failures.csv")
    return stats, log_path


def run(
    *, base_url: str, api_key: str, settings: LoadSettings, workdir: Path, rng: random.Random
) -> dict:
    plan, targets = _plan(api_key, rng, settings.pool)
    ids = [t.enrollment_id for t in targets]
    before = fixtures.ended_at_of(ids)
    started_at = datetime.now(UTC)
    stats, log_path = _locust(
        base_url=base_url,
        settings=settings,
        workdir=workdir,
        plan=plan,
        user_class="ApiClient",
        tag="load",
    )
    successes = Counter(line for line in log_path.read_text().split() if line)
    failure_samples = stats.pop("failure_samples")
    return {
        "seconds": settings.seconds,
        "clients": settings.clients,
        "gunicorn_workers": settings.workers,
        "mix": "90% courseMemberships (100 rows, every field) / 10% extendStudentCourseAccess",
        "extension_pool": len(targets),
        **stats,
        "errors": stats["total"]["failures"],
        "failure_samples": failure_samples,
        "extensions": verify(before, successes, started_at=started_at),
    }


def compare(
    *,
    base_url: str,
    api_key: str,
    settings: LoadSettings,
    workdir: Path,
    rng: random.Random,
    rounds: int = 2,
) -> dict:
    """Pages only, after a random cursor: the API against the plain values() view under the
    same load (same clients, workers, cursors), alternating, `rounds` runs of each. The ratio
    is the API's requests per second over the view's (issue 15: at least 0.6)."""
    plan, _ = _plan(api_key, rng, 1)
    runs: dict[str, list[dict]] = {"api": [], "baseline": []}
    for number in range(rounds):
        order = ("api", "baseline") if number % 2 == 0 else ("baseline", "api")
        for name in order:
            user_class = "ApiPagesClient" if name == "api" else "BaselinePagesClient"
            stats, _ = _locust(
                base_url=base_url,
                settings=settings,
                workdir=workdir,
                plan=plan,
                user_class=user_class,
                tag=f"compare-{name}-{number}",
            )
            runs[name].append(
                {
                    "requests": stats["total"]["requests"],
                    "requests_per_s": stats["total"]["requests_per_s"],
                    "p50_ms": stats["total"]["p50_ms"],
                    "failures": stats["total"]["failures"],
                }
            )

    def mean_rps(name: str) -> float:
        return round(sum(r["requests_per_s"] for r in runs[name]) / len(runs[name]), 1)

    api, baseline = mean_rps("api"), mean_rps("baseline")
    return {
        "seconds": settings.seconds,
        "clients": settings.clients,
        "gunicorn_workers": settings.workers,
        "rounds": rounds,
        "mix": "pages of 100 after a random cursor (every field), no extensions",
        "api": {"requests_per_s": api, "runs": runs["api"]},
        "baseline": {"requests_per_s": baseline, "runs": runs["baseline"]},
        "ratio": round(api / baseline, 2) if baseline else None,
        "errors": sum(r["failures"] for runs_ in runs.values() for r in runs_),
    }


def _failures(path: Path) -> list[dict]:
    if not path.exists():
        return []
    with path.open() as handle:
        return [
            {"name": row["Name"], "error": row["Error"][:300], "count": int(row["Occurrences"])}
            for row in list(csv.DictReader(handle))[:5]
        ]


def verify(before: dict, successes: Counter, *, started_at: datetime) -> dict:
    """Each enrollment's `ended_at` must be its value before the run plus one day per successful
    extension; the audit trail must hold one row per successful extension too."""
    after = fixtures.ended_at_of(list(before))
    audits = Counter(
        str(pk)
        for pk in AccessChange.objects.filter(
            enrollment_id__in=list(before),
            source=AccessChange.Source.GRAPHQL,
            created_at__gte=started_at,
        ).values_list("enrollment_id", flat=True)
    )
    lost, extra, audit_mismatch = [], [], []
    for pk, old in before.items():
        expected = old + timedelta(days=successes[pk])
        actual = after[pk]
        if actual < expected:
            lost.append(pk)
        elif actual > expected:
            extra.append(pk)
        if audits[pk] != successes[pk]:
            audit_mismatch.append(pk)
    return {
        "successful": sum(successes.values()),
        "enrollments_extended": len([pk for pk in before if successes[pk]]),
        "enrollments_checked": len(before),
        "lost": len(lost),
        "unexpected": len(extra),
        "audit_mismatches": len(audit_mismatch),
        "examples": (lost + extra + audit_mismatch)[:5],
    }
