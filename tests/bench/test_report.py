"""The benchmark's arithmetic and verdicts, without a database: percentiles, summaries, the
data set's shape for small sizes, and which targets a set of figures meets."""

import pytest

from bench.dataset import Shape
from bench.report import checks, table
from bench.timing import Summary, percentile


def test_percentile_is_nearest_rank():
    values = [float(n) for n in range(1, 101)]
    assert percentile(values, 0.95) == 95.0
    assert percentile(values, 0.5) == 50.0
    assert percentile([3.0, 1.0, 2.0], 1.0) == 3.0
    assert percentile([7.0], 0.95) == 7.0


def test_summary_in_milliseconds():
    summary = Summary.of([0.010, 0.020, 0.030, 0.040])
    assert (summary.n, summary.median_ms, summary.min_ms, summary.max_ms) == (4, 25.0, 10.0, 40.0)
    assert summary.p95_ms == 40.0
    with pytest.raises(ValueError):
        Summary.of([])


def test_small_shapes_stay_consistent():
    shape = Shape(enrollments=30, courses=1000, courses_per_user=10).normalized()
    assert shape.courses == 30
    assert shape.courses_per_user == 10
    assert shape.users == 3
    tiny = Shape(enrollments=5, courses=3, courses_per_user=10).normalized()
    assert tiny.courses_per_user == 3 and tiny.users == 2


def _results(*, deep=42.0, queries=5, bulk_ratio=2.5, peak=150.0, errors=0, lost=0) -> dict:
    latency = {"n": 60, "median_ms": 40.0, "p95_ms": 50.0}
    return {
        "dataset": {
            "enrollments": 1000,
            "users": 100,
            "completions": 5000,
            "shape": {"courses": 10, "items_per_course": 20},
        },
        "pages": {
            "deep_rows": 900,
            "latency": {
                "graphql_first": latency,
                "graphql_deep": {**latency, "median_ms": deep},
                "baseline_first": {**latency, "median_ms": 18.0},
                "baseline_deep": {**latency, "median_ms": 18.0},
            },
            "queries": {
                "graphql_first": queries,
                "graphql_deep": queries,
                "graphql_page_of_1": 5,
                "baseline_first": 2,
                "baseline_deep": 2,
            },
            "deep_over_first": round(deep / 40.0, 2),
            "graphql_over_baseline": 2.22,
            "graphql_over_baseline_deep": 2.3,
        },
        "bulk": {
            "size": 100,
            "rounds": [{}],
            "ratio": bulk_ratio,
            "service": {"seconds": 1.0, "changed": 100, "audit_rows": 100},
            "bare_update": {"seconds": 0.4, "updated": 100},
            "memory": {"peak_rss_mb": peak, "service_growth_mb": 10.0},
        },
        "load": {
            "clients": 32,
            "gunicorn_workers": 4,
            "seconds": 60,
            "errors": errors,
            "total": {
                "requests": 100,
                "requests_per_s": 40.0,
                "p50_ms": 600.0,
                "p95_ms": 900.0,
                "p99_ms": 1000.0,
            },
            "by_request": {},
            "extensions": {"successful": 10, "lost": lost, "unexpected": 0, "audit_mismatches": 0},
        },
    }


def _verdicts(results: dict) -> dict[str, bool | None]:
    return {check.target: check.met for check in checks(results)}


def test_figures_within_every_target_meet_them_all():
    verdicts = _verdicts(_results())
    assert len(verdicts) == 8
    assert all(verdicts.values())
    assert "target" in table(_results())


@pytest.mark.parametrize(
    ("figures", "missed"),
    [
        ({"deep": 61.0}, "deep page <= 1.5x first page (median)"),
        ({"queries": 7}, "SQL queries per page constant in page size, <= 6"),
        ({"queries": 6}, "SQL queries per page constant in page size, <= 6"),  # not constant
        ({"bulk_ratio": 3.2}, "bulk extension of 100 <= 3x bare UPDATE"),
        ({"peak": 300.0}, "bulk extension peak memory < 300 MB"),
        ({"errors": 1}, "load: zero errors"),
        ({"lost": 1}, "load: zero lost extensions"),
    ],
)
def test_a_figure_past_its_target_misses_that_target_only(figures, missed):
    verdicts = _verdicts(_results(**figures))
    assert verdicts.pop(missed) is False
    assert all(verdicts.values())


def test_only_correctness_targets_can_fail_a_check_run():
    correctness = {check.target for check in checks(_results()) if check.correctness}
    assert "deep page <= 1.5x first page (median)" not in correctness
    assert "load: zero lost extensions" in correctness
    assert "SQL queries per page constant in page size, <= 6" in correctness
