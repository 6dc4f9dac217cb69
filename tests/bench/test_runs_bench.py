"""The runs measurement's pure figures (bench/runs.py): which sizes it measures, the longest gap
between progress moves, the growth of the per-row cost, each size's summary over its rounds,
and which of issue 23's targets fail `--check`. The measurement itself runs in the benchmark's
smoke run (tests/bench/test_smoke.py)."""

import pytest

from bench import runs, runs_concurrency


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


# -- bench/runs_concurrency.py: pages during a run, one worker against two -------------------


def pages_results(median_ratio=1.2, p95_ratio=1.4, complete=True) -> dict:
    return {
        "runs_during_pages": {
            "size": 200_000,
            "idle": {"n": 120, "median_ms": 20.0, "p95_ms": 25.0},
            "during": {"n": 500, "median_ms": 24.0, "p95_ms": 35.0},
            "median_ratio": median_ratio,
            "p95_ratio": p95_ratio,
            "run": {
                "job_seconds": 40.0,
                "changed": 90_000,
                "skipped": 110_000,
                "unchanged": 0,
                "complete": complete,
            },
        }
    }


def throughput_results(speedup=1.8, complete=True) -> dict:
    one = {"runs_per_second": 10.0, "span_seconds": 20.0, "done": 200, "complete": True}
    two = {"runs_per_second": 18.0, "span_seconds": 11.1, "done": 200, "complete": complete}
    return {
        "runs_throughput": {
            "runs": 200,
            "rows": 50,
            "one_worker": one,
            "two_workers": two,
            "speedup": speedup,
        }
    }


def test_a_page_counts_as_during_the_run_only_inside_the_window_seen():
    assert runs_concurrency.within(1.0, 1.1, (0.5, 2.0))
    assert not runs_concurrency.within(0.4, 0.6, (0.5, 2.0))  # sent before RUNNING was seen
    assert not runs_concurrency.within(1.9, 2.1, (0.5, 2.0))  # answered after it finished
    assert runs_concurrency.within(0.0, 9.0, (None, None))


def test_page_figures_are_ms_summaries_and_ratios_of_median_and_p95():
    figures = runs_concurrency.page_figures([0.010] * 19 + [0.020], [0.015] * 19 + [0.040])
    assert (figures["idle"]["median_ms"], figures["idle"]["p95_ms"]) == (10.0, 10.0)
    assert (figures["during"]["median_ms"], figures["during"]["p95_ms"]) == (15.0, 15.0)
    assert (figures["median_ratio"], figures["p95_ratio"]) == (1.5, 1.5)
    assert runs_concurrency.page_figures([0.0], [0.01])["median_ratio"] is None
    with pytest.raises(ValueError, match="no samples"):
        runs_concurrency.page_figures([], [0.01])


def test_throughput_is_runs_over_the_first_start_to_the_last_finish():
    assert runs_concurrency.throughput(10, [5.0, 3.0], [7.0, 8.0]) == {
        "runs": 10,
        "span_seconds": 5.0,
        "runs_per_second": 2.0,
    }
    assert runs_concurrency.throughput(1, [3.0], [3.0])["runs_per_second"] is None
    with pytest.raises(ValueError, match="no runs"):
        runs_concurrency.throughput(0, [1.0], [2.0])
    with pytest.raises(ValueError, match="no runs"):
        runs_concurrency.throughput(3, [], [])


def test_speedup_is_two_workers_over_one():
    assert runs_concurrency.speedup({"runs_per_second": 10.0}, {"runs_per_second": 17.0}) == 1.7
    assert runs_concurrency.speedup({"runs_per_second": None}, {"runs_per_second": 17.0}) is None
    assert runs_concurrency.speedup({"runs_per_second": 10.0}, {"runs_per_second": None}) is None


@pytest.mark.parametrize(
    ("median_ratio", "p95_ratio", "met"),
    [(1.2, 1.4, True), (1.2, 1.6, False), (1.6, 1.2, False), (None, 1.2, None)],
)
def test_pages_meet_the_target_only_when_median_and_p95_are_within_1_5x(
    median_ratio, p95_ratio, met
):
    found = runs_concurrency.checks(pages_results(median_ratio, p95_ratio))
    assert [(check.met, check.correctness) for check in found] == [(met, False), (True, True)]
    assert "200,000 rows" in found[0].target


def test_two_workers_meet_the_target_from_1_6x_and_an_incomplete_run_fails_the_check():
    assert [c.met for c in runs_concurrency.checks(throughput_results(1.6))] == [True, True]
    assert [c.met for c in runs_concurrency.checks(throughput_results(1.59))] == [False, True]
    assert runs_concurrency.checks(throughput_results(None))[0].met is None
    failed = runs_concurrency.checks(throughput_results(complete=False))[1]
    assert (failed.met, failed.correctness) == (False, True)
    incomplete = runs_concurrency.checks(pages_results(complete=False))[1]
    assert (incomplete.met, incomplete.correctness) == (False, True)


def test_the_concurrency_table_is_empty_unless_measured_and_names_both_figures():
    assert runs_concurrency.checks({}) == []
    assert runs_concurrency.table({}) == ""
    text = runs_concurrency.table(pages_results() | throughput_results())
    assert "during median 24.0 / p95 35.0 ms" in text
    assert "one worker 10.0 runs/s" in text and "1.8x" in text


def test_phases_of_one_worker_count_combine_into_medians_and_all_complete():
    phases = [
        {"runs_per_second": 40.0, "span_seconds": 5.0, "done": 200, "complete": True},
        {"runs_per_second": 20.0, "span_seconds": 10.0, "done": 200, "complete": True},
        {"runs_per_second": 30.0, "span_seconds": 6.7, "done": 199, "complete": False},
    ]
    combined = runs_concurrency.combine(phases)
    assert (combined["runs_per_second"], combined["span_seconds"]) == (30.0, 6.7)
    assert (combined["done"], combined["complete"]) == (599, False)
    assert combined["phases"] == phases
    assert (
        runs_concurrency.combine([phases[0] | {"runs_per_second": None}])["runs_per_second"] is None
    )
    with pytest.raises(ValueError, match="no phases"):
        runs_concurrency.combine([])
