"""The benchmark runs end to end at a tiny size (issue 6): a smoke test, not a measurement.

It runs `python -m bench` as a user would, in a database of its own next to the test database
(dropped afterwards), and checks what does not depend on the machine's speed: every
measurement is there, the query counts, the bulk extension's rows and audit rows, no error and
no lost extension under load. Timing targets are the full benchmark's business
(docs/benchmarks.md).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from bench import environment
from tests.markers import requires_postgres

pytestmark = [requires_postgres, pytest.mark.postgres]

PROJECT_ROOT = Path(__file__).resolve().parents[2]
ENROLLMENTS = 3_000
BULK = 300
REQUESTS = 10


@pytest.fixture
def bench_database_url():
    """A database of the smoke run's own, on the test database's server."""
    settings = connection.settings_dict
    credentials = settings["USER"] + (f":{settings['PASSWORD']}" if settings["PASSWORD"] else "")
    host = settings["HOST"] or "127.0.0.1"
    url = (
        f"postgres://{credentials}@{host}:{settings['PORT'] or 5432}/{settings['NAME']}_bench_smoke"
    )
    yield url
    environment.drop_database(url)


def test_benchmark_runs_end_to_end_at_a_tiny_size(bench_database_url, tmp_path):
    output = tmp_path / "bench.json"
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            f"--database-url={bench_database_url}",
            f"--enrollments={ENROLLMENTS}",
            "--courses=50",
            f"--requests={REQUESTS}",
            "--warmup=2",
            f"--bulk-size={BULK}",
            "--bulk-small-size=50",
            "--bulk-small-rounds=1",
            "--peer-deep-rounds=1",
            "--compare-seconds=3",
            "--load-seconds=10",
            "--load-clients=8",
            "--workers=2",
            f"--json={output}",
            "--check",
        ],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout[-4000:] + completed.stderr[-4000:]
    assert "target" in completed.stdout and "measured" in completed.stdout

    results = json.loads(output.read_text())
    assert results["dataset"]["enrollments"] == ENROLLMENTS
    assert results["dataset"]["completions"] > 0

    pages = results["pages"]
    assert pages["deep_rows"] == int(ENROLLMENTS * 0.9)
    assert {summary["n"] for summary in pages["latency"].values()} == {REQUESTS}
    queries = pages["queries"]
    assert queries["graphql_page_of_1"] == queries["graphql_first"] == queries["graphql_deep"]
    # The key, the page (permissions cached; the statement timeout is the API's read
    # connection's, no SET or RESET: enrollments.graphql.statement_timeout); a cold key reads
    # its permissions (1 more).
    assert queries["graphql_first"] == 2
    assert queries["graphql_first_cold_permissions"] == 3
    assert queries["baseline_first"] == 2
    assert "graphene" in pages["peers"]
    for figures in pages["peers"].values():
        assert figures["first"]["n"] == REQUESTS and figures["deep"]["n"] == 1
        assert figures["first_over_ours"] > 0
    assert set(pages["course_status"]) == {"not_started", "in_progress", "completed"}
    assert sum(f["rows"] for f in pages["course_status"].values()) == ENROLLMENTS

    extension = results["extension"]
    assert extension["latency"]["n"] == REQUESTS
    assert 0 < extension["queries"] <= 15

    small = results["bulk_small"]  # at most 50: fewer when the large run took the candidates
    assert small["service"]["changed"] == small["size"] == small["service"]["audit_rows"] > 0

    bulk = results["bulk"]
    assert bulk["size"] == BULK
    assert bulk["service"]["changed"] == bulk["service"]["audit_rows"] == BULK
    assert bulk["bare_update"]["updated"] == BULK
    assert 0 < bulk["memory"]["peak_rss_mb"] < 300

    scope = results["scope"]  # issue 25: a course staff member's page, one condition more
    assert scope["queries"]["course_staff_first"] == scope["queries"]["global_first"]
    assert scope["queries"]["course_staff_second"] == scope["queries"]["global_second"]
    cost = results["cost"]  # issue 21: what the cost model admits, and the audit's document
    assert cost["refused"]["refused"] and cost["refused"]["cost"] > cost["budget"]
    assert cost["heaviest"] in cost["documents"]
    for figures in cost["documents"].values():
        assert 0 < figures["cost"] <= cost["budget"] and figures["values"] > 0
        assert figures["latency"]["n"] == REQUESTS
    load = results["load"]
    assert load["total"]["requests"] > 0
    assert load["errors"] == 0, load["failure_samples"]
    extensions = load["extensions"]
    assert extensions["successful"] > 0
    assert extensions["lost"] == extensions["unexpected"] == extensions["audit_mismatches"] == 0
    compare = results["load_compare"]
    assert compare["errors"] == 0
    assert compare["api"]["requests_per_s"] > 0 and compare["baseline"]["requests_per_s"] > 0

    assert all(target["met"] is not None for target in results["targets"])
