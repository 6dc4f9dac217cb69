"""The webhooks measurement's pure parts (bench/webhooks.py, bench/receiver.py): what the
receiver counts as delivered, lost and duplicated, what it answers (signature verified with the
`standardwebhooks` library, the outage's 500s, a hang), the backoff scaled to the outage, and
which of issue 24's targets fail `--check`. The measurement itself needs PostgreSQL and real
workers: `python -m bench --only webhooks` (docs/benchmarks.md)."""

import json
import math
from datetime import UTC, datetime

import pytest
from standardwebhooks import Webhook

from bench import webhooks
from bench.receiver import Behaviour, Received, Receiver, Tally, rate

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def signed(event_id: str, *, secret: str = SECRET, body_id: str | None = None):
    body = json.dumps({"event_id": body_id or event_id}).encode()
    signature = Webhook(secret).sign(event_id, datetime.now(UTC), body.decode())
    headers = {
        "webhook-id": event_id,
        "webhook-timestamp": str(int(datetime.now(UTC).timestamp())),
        "webhook-signature": signature,
    }
    return headers, body


# -- Tally -----------------------------------------------------------------------------------


def test_tally_counts_delivered_lost_duplicates_and_refusals():
    received = [
        Received("a", 500, 1.0),
        Received("a", 200, 2.0),
        Received("b", 200, 3.0),
        Received("b", 200, 4.0),
        Received("x", 200, 5.0),
    ]
    tally = Tally.of(received, {"a", "b", "c"})
    assert (tally.expected, tally.delivered, tally.lost) == (3, 2, 1)
    assert tally.duplicates == 1 and tally.duplicate_ids == ["b"]
    assert tally.unexpected == 1  # "x" was not sent by this phase
    assert tally.refused == 1
    # The unexpected id's answer does not stretch the span.
    assert (tally.first_at, tally.last_at) == (2.0, 4.0)
    assert tally.rate() == 1.0  # 2 events over 2 s
    assert tally.rate(since=0.0) == 0.5


def test_tally_of_nothing_received():
    tally = Tally.of([], {"a"})
    assert (tally.delivered, tally.lost, tally.first_at) == (0, 1, None)
    assert tally.rate() is None


@pytest.mark.parametrize(
    ("count", "start", "end", "expected"),
    [(10, 0.0, 2.0, 5.0), (10, None, 2.0, None), (10, 2.0, 2.0, None), (0, 0.0, 1.0, None)],
)
def test_rate(count, start, end, expected):
    assert rate(count, start, end) == expected


# -- the receiver's answers ------------------------------------------------------------------


def test_receiver_answers_200_to_a_verified_delivery_and_counts_it_once():
    receiver = Receiver()
    receiver.expect("/fast", Behaviour("ok", secret=SECRET))
    headers, body = signed("evt-1")
    assert receiver.answer("/fast", headers, body) == 200
    assert receiver.answer("/fast", headers, body) == 200
    assert receiver.delivered_count("/fast") == 1
    assert [item.status for item in receiver.received("/fast")] == [200, 200]


def test_receiver_refuses_a_bad_signature_or_a_body_of_another_event():
    receiver = Receiver()
    receiver.expect("/fast", Behaviour("ok", secret=SECRET))
    headers, body = signed("evt-1", secret="whsec_" + "A" * 32)
    assert receiver.answer("/fast", headers, body) == 400
    headers, body = signed("evt-2", body_id="evt-3")
    assert receiver.answer("/fast", headers, body) == 400
    assert receiver.bad_signatures == 2
    assert receiver.delivered_count("/fast") == 0


def test_receiver_outage_answers_500_until_it_recovers():
    receiver = Receiver()
    behaviour = Behaviour("outage", secret=SECRET)
    receiver.expect("/flaky", behaviour)
    headers, body = signed("evt-1")
    assert behaviour.recover_at == math.inf
    assert receiver.answer("/flaky", headers, body) == 500
    behaviour.recover_at = 0.0  # in the past
    assert receiver.answer("/flaky", headers, body) == 200
    assert receiver.bad_signatures == 0


def test_receiver_hangs_or_answers_404_for_an_unknown_path():
    receiver = Receiver()
    receiver.expect("/hang", Behaviour("hang", secret=SECRET))
    headers, body = signed("evt-1")
    assert receiver.answer("/hang", headers, body) is None
    assert receiver.answer("/nowhere", headers, body) == 404
    assert receiver.received("/hang") == []


# -- settings and figures --------------------------------------------------------------------


def test_retry_settings_scale_the_backoff_to_the_outage():
    assert webhooks.retry_settings(600) == {
        "WEBHOOK_RETRY_BASE_SECONDS": "10",
        "WEBHOOK_RETRY_MAX_SECONDS": "14400",
    }
    assert webhooks.retry_settings(60) == {
        "WEBHOOK_RETRY_BASE_SECONDS": "1",
        "WEBHOOK_RETRY_MAX_SECONDS": "1440",
    }


def test_worker_environment_allows_a_private_http_receiver(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_x")
    env = webhooks.worker_environment({"WEBHOOK_RETRY_BASE_SECONDS": "1"})
    assert env["WEBHOOK_ALLOW_PRIVATE_TARGETS"] == "true"
    assert env["WEBHOOK_REQUIRE_HTTPS"] == "false"
    assert env["WEBHOOK_RETRY_BASE_SECONDS"] == "1"
    assert env["DATABASE_URL"].endswith("/bench_x")


def test_overhead():
    assert webhooks.overhead(11.5, 10.0) == 0.15
    assert webhooks.overhead(1.0, 0.0) is None


def receiver_figures(**values) -> dict:
    figures = {
        "expected": 100,
        "delivered": 100,
        "lost": 0,
        "duplicates": 0,
        "duplicate_ids": [],
        "unexpected": 0,
        "refused_answers": 0,
        "delivery_seconds": 0.2,
        "per_second": 500.0,
        "end_to_end_seconds": 0.3,
        "end_to_end_per_second": 333.3,
    }
    return figures | values


def results_of(**parts) -> dict:
    figures = {
        "recording": {
            "size": 100,
            "rounds": [{"with_seconds": 1.1, "without_seconds": 1.0, "first": "with"}],
            "with_seconds": 1.1,
            "without_seconds": 1.0,
            "overhead": 0.1,
            "changed_with": 100,
            "changed_without": 100,
            "events_recorded": 100,
            "events_without": 0,
        },
        "throughput": {
            "workers": 2,
            "receiver": receiver_figures(),
            "bad_signatures": 0,
            "fan_out_seconds": 0.1,
            "worker_cpu_seconds": [1.0, 0.1],
        },
        "outage": {
            "outage_seconds": 60.0,
            "scale": 0.1,
            "receiver": receiver_figures(refused_answers=500),
            "all_delivered_after_recovery": True,
            "last_after_recovery_seconds": 3.0,
            "endpoint_enabled": True,
            "sweep_every_seconds": 6.0,
            "sweep_queued_after_recovery": 0,
        },
        "hang": {
            "size": 100,
            "alone": receiver_figures(),
            "beside_hang": receiver_figures(per_second=450.0),
            "ratio": 0.9,
            "hanging_tries": 3,
        },
    }
    for name, changes in parts.items():
        figures[name] = figures[name] | changes
    return {"webhooks": figures}


def failing(results: dict) -> dict[str, bool]:
    """Each failed check's target -> whether it is a correctness check."""
    return {c.target: c.correctness for c in webhooks.checks(results) if c.met is False}


def test_every_target_met():
    assert failing(results_of()) == {}
    assert "8. webhooks" in webhooks.table(results_of())


def test_no_figures_no_checks():
    assert webhooks.checks({}) == []
    assert webhooks.table({}) == ""


def test_timing_targets_are_reported_not_failed():
    results = results_of(
        recording={"overhead": 0.4},
        throughput={
            "workers": 2,
            "receiver": receiver_figures(per_second=120.0),
            "bad_signatures": 0,
        },
        hang={"ratio": 0.5},
    )
    failed = failing(results)
    assert len(failed) == 3
    assert not any(failed.values())


@pytest.mark.parametrize(
    "parts",
    [
        {"throughput": {"receiver": receiver_figures(lost=1), "bad_signatures": 0}},
        {"throughput": {"receiver": receiver_figures(duplicates=1), "bad_signatures": 0}},
        {"throughput": {"receiver": receiver_figures(), "bad_signatures": 2}},
        {"recording": {"events_recorded": 99}},
        {"recording": {"events_without": 5}},
        {"outage": {"all_delivered_after_recovery": False}},
        {"hang": {"beside_hang": receiver_figures(lost=3)}},
    ],
)
def test_correctness_targets_fail_check(parts):
    failed = failing(results_of(**parts))
    assert failed and all(failed.values())
