"""The runs measurement's pure figures (bench/runs.py): which sizes it measures, the longest gap
between progress moves, the growth of the per-row cost, each size's summary over its rounds,
and which of issue 23's targets fail `--check`. The measurement itself runs in the benchmark's
smoke run (tests/bench/test_smoke.py)."""

import pytest

from bench import runs


def a_round(**figures) -> dict:
    values = {
        "start_seconds": 0.1,
        "confirm_seconds": 0.01,
        "job_seconds": 1.0,
        "bare_seconds": 0.5,
        "worker_startup_seconds": 0.5,
        "longest_gap_seconds": 0.3,
        "peak_rss_mb": 90.0,
        "changed": 4,
        "skipped": 5,
        "unchanged": 1,
        "audit_rows": 4,
        "complete": True,
    }
    return values | figures


def results_of(*sizes: dict, growth: float | None = None) -> dict:
    return {
        "runs": {
            "days": 30,
            "chunk_size": 2000,
            "rounds": 1,
            "sizes": list(sizes),
            "growth": growth,
        }
    }


@pytest.mark.parametrize(
    ("requested", "total", "expected"),
    [
        ([10_000, 100_000, 1_000_000], 1_000_000, [10_000, 100_000, 1_000_000]),
        ([1_000_000, 10_000, 100_000, 10_000], 150_000, [10_000, 100_000]),
        ([10_000, 100_000], 3_000, [3_000]),  # none fits: the whole table
        ([10_000], 0, []),
        ([0, -5, 20], 100, [20]),
    ],
)
def test_sizes_are_those_the_data_set_holds_else_the_whole_table(requested, total, expected):
    assert runs.sizes_for(requested, total) == expected


def test_the_longest_gap_is_between_consecutive_moments_in_time_order():
    assert runs.longest_gap([3.0, 0.0, 1.0, 1.5]) == 1.5
    assert runs.longest_gap([2.0]) is None
    assert runs.longest_gap([]) is None


def test_growth_is_the_largest_per_row_cost_over_the_smallest():
    assert runs.growth({10_000: 80.0, 100_000: 100.0, 1_000_000: 96.0}) == 1.25
    assert runs.growth({10_000: 80.0}) is None
    assert runs.growth({10_000: 0.0, 100_000: 1.0}) is None


def test_a_size_is_summarized_by_medians_its_worst_gap_and_memory():
    summary = runs.summarize(
        10_000,
        [
            a_round(job_seconds=1.0, bare_seconds=0.4, longest_gap_seconds=0.2, peak_rss_mb=90),
            a_round(job_seconds=3.0, bare_seconds=0.6, longest_gap_seconds=0.9, peak_rss_mb=95),
            a_round(job_seconds=2.0, bare_seconds=0.5, longest_gap_seconds=None, peak_rss_mb=91),
        ],
    )
    assert (summary["job_seconds"], summary["bare_seconds"], summary["ratio"]) == (2.0, 0.5, 4.0)
    assert summary["longest_gap_seconds"] == 0.9
    assert summary["peak_rss_mb"] == 95
    assert summary["per_row_us"] == 200.0
    assert summary["complete"] is True
    assert runs.summarize(10, [a_round(complete=False)])["complete"] is False


def test_the_progress_watch_gap_runs_from_running_to_finished():
    watch = runs.ProgressWatch(run_id=None)
    assert watch.longest_gap() is None  # never seen running
    watch.running_at, watch.moves, watch.finished_at = 10.0, [10.5, 11.0, 13.5], 13.6
    assert watch.longest_gap() == 2.5
    watch.moves = []
    assert watch.longest_gap() == pytest.approx(3.6)


def test_correctness_and_memory_fail_the_check_and_times_are_only_reported():
    small = runs.summarize(10_000, [a_round()])
    large = runs.summarize(
        100_000,
        [a_round(job_seconds=30.0, bare_seconds=3.0, start_seconds=6.0, longest_gap_seconds=7.0)],
    )
    found = runs.checks(results_of(small, large, growth=2.0))

    assert [(check.met, check.correctness) for check in found] == [
        (True, True),  # every row done once, one audit row each
        (True, True),  # memory
        (False, False),  # start of the largest size: 6 s
        (True, False),  # confirm
        (False, False),  # ratio 10x
        (False, False),  # a gap of 7 s
        (False, False),  # growth 2x
    ]
    assert "100,000" in found[2].target and "10.0x" in found[4].measured


def test_an_incomplete_run_or_a_worker_past_300_mb_fails_the_check():
    found = runs.checks(
        results_of(runs.summarize(10_000, [a_round(complete=False, peak_rss_mb=300.0)]))
    )
    assert [check.met for check in found if check.correctness] == [False, False]
    # One size: no growth figure, and every check has a verdict.
    assert all(check.met is not None for check in found)
    assert not any("per-row" in check.target for check in found)


def test_no_runs_measured_no_checks_and_no_table():
    assert runs.checks({}) == []
    assert runs.checks(results_of()) == []
    assert runs.table({}) == ""


def test_the_table_names_each_size_and_the_targets():
    text = runs.table(results_of(runs.summarize(10_000, [a_round()])))
    assert "10,000 rows: start 0.1 s" in text
    assert "ratio 2.0x" in text
    assert "runs: worker's peak memory < 300 MB" in text
