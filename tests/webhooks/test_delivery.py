"""Delivery (enrollments/events/delivery.py) to a real receiver on 127.0.0.1: every request
verified as a receiver would (standardwebhooks, Healthie's steps); retries on the frozen clock
(no real waiting), the retry window, 410, should_retry, redirects, unreachable and refused
targets, the owner's e-mails, resend, replay, the test event and the sweep."""

import socket
from collections import Counter
from datetime import timedelta

import pytest
from django.core import mail
from django.test import TestCase
from django_tasks_db.models import DBTaskResult

from enrollments.events import delivery
from enrollments.events.delivery import EndpointDisabled
from enrollments.events.posting import Answer
from enrollments.models import (
    AccessEvent,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from tests.factories import EnrollmentFactory
from tests.jobs.worker import run_jobs
from tests.webhooks.changes import events, extend
from tests.webhooks.receiver import verify_healthie, verify_standard

pytestmark = pytest.mark.django_db

State = WebhookDelivery.State
Scheme = WebhookEndpoint.Scheme
DAY = timedelta(days=1)
ENVELOPE_KEYS = [
    "resource_id",
    "resource_id_type",
    "event_type",
    "changed_fields",
    "event_id",
    "occurred_at",
    "action",
    "batch_id",
    "sequence",
]


def queued_runs(endpoint):
    """When the endpoint's queued delivery jobs run (None: as soon as a worker is free)."""
    return [
        None if job.run_after.year == 9999 else job.run_after  # the backend's "no run_after"
        for job in DBTaskResult.objects.filter(task_path__endswith="deliver_to_endpoint")
        if job.args_kwargs["args"] == [endpoint.pk]
    ]


class TestThroughTheCore:
    def test_a_change_arrives_as_the_documented_envelope_signed_both_ways(
        self, endpoint_for, receiver, clock
    ):
        standard = endpoint_for("/standard")
        healthie = endpoint_for("/healthie?tenant=7", scheme=Scheme.HEALTHIE)
        enrollment = EnrollmentFactory(
            start_at=clock.current - 10 * DAY, ended_at=clock.current + 10 * DAY
        )
        with TestCase.captureOnCommitCallbacks(execute=True):
            extend(enrollment, days=5)
        run_jobs()  # the fan-out: queues one delivery job per endpoint
        run_jobs()  # the deliveries

        event = AccessEvent.objects.get()
        by_path = {request.path: request for request in receiver.requests}
        assert sorted(by_path) == ["/healthie?tenant=7", "/standard"]
        first = verify_standard(standard.secret, by_path["/standard"])
        second = verify_healthie(healthie.secret, by_path["/healthie?tenant=7"])
        assert first == second
        assert list(first) == ENVELOPE_KEYS
        assert first == {
            "resource_id": str(enrollment.pk),
            "resource_id_type": "CourseMembership",
            "event_type": "course_membership.updated",
            "changed_fields": ["ended_at"],
            "event_id": str(event.event_id),
            "occurred_at": "2026-01-01T00:00:00Z",
            "action": "extend",
            "batch_id": str(event.batch_id),
            "sequence": event.id,
        }
        assert by_path["/standard"].headers["webhook-id"] == str(event.event_id)
        assert by_path["/standard"].headers["Content-Type"] == "application/json"
        assert set(WebhookDelivery.objects.values_list("state", flat=True)) == {State.DELIVERED}
        attempt = WebhookAttempt.objects.filter(delivery__endpoint=standard).get()
        assert (attempt.status, attempt.error) == (200, "")

    def test_deliveries_go_oldest_event_first_with_a_fixed_number_of_queries(
        self, endpoint_for, receiver, clock, django_assert_num_queries
    ):
        hook = endpoint_for()
        made = events(5, clock)
        # endpoint, claim (SELECT FOR UPDATE, UPDATE), the rows, the endpoint again before each
        # of the 5 sends (a disable, delete or rotation meanwhile is seen by the next send), the
        # 2xx (the rows still held, UPDATE, INSERT), then endpoint and an empty claim, then the
        # follow-up's look for a retry to come (none): savepoints included.
        with django_assert_num_queries(21):
            assert delivery.deliver_due(hook.pk) == {"delivered": 5}
        sent = [verify_standard(hook.secret, request)["sequence"] for request in receiver.requests]
        assert sent == [event.id for event in made]


class TestRetries:
    def test_a_500_is_retried_with_backoff_until_it_succeeds(self, endpoint_for, receiver, clock):
        hook = endpoint_for()
        receiver.answers.extend([500, 503])
        (event,) = events(1, clock)
        started = clock.current

        assert delivery.deliver_due(hook.pk) == {"retrying": 1}
        row = WebhookDelivery.objects.get()
        assert (row.state, row.attempts, row.last_status) == (State.PENDING, 1, 500)
        # base 10 s, first retry drawn between its half and its whole
        assert (
            started + timedelta(seconds=5) <= row.next_attempt_at <= started + timedelta(seconds=10)
        )
        assert queued_runs(hook) == [row.next_attempt_at]

        assert delivery.deliver_due(hook.pk) == {}  # not due yet: nothing sent
        assert len(receiver.requests) == 1

        clock.set(row.next_attempt_at)
        assert delivery.deliver_due(hook.pk) == {"retrying": 1}
        row.refresh_from_db()
        wait = row.next_attempt_at - clock.current
        assert timedelta(seconds=10) <= wait <= timedelta(seconds=20)  # doubled

        clock.set(row.next_attempt_at)
        assert delivery.deliver_due(hook.pk) == {"delivered": 1}
        row.refresh_from_db()
        assert (row.state, row.attempts, row.last_status, row.last_error) == (
            State.DELIVERED,
            3,
            200,
            "",
        )
        ids = {request.headers["webhook-id"] for request in receiver.requests}
        assert ids == {str(event.event_id)}  # the same event id on every try
        for request in receiver.requests:
            verify_standard(hook.secret, request)
        tries = list(WebhookAttempt.objects.order_by("attempted_at").values_list("status", "error"))
        assert [status for status, _ in tries] == [500, 503, 200]
        assert tries[0][1] == "HTTP 500: ok"

    def test_should_retry_off_means_one_try(self, endpoint_for, receiver, clock):
        hook = endpoint_for(should_retry=False)
        receiver.answers.append(500)
        events(1, clock)
        assert delivery.deliver_due(hook.pk) == {"failed": 1}
        clock.advance(days=1)
        assert delivery.deliver_due(hook.pk) == {}
        assert len(receiver.requests) == 1
        assert WebhookDelivery.objects.get().state == State.FAILED
        hook.refresh_from_db()
        assert hook.is_enabled and mail.outbox == []

    def test_410_gone_disables_the_endpoint_at_once(self, endpoint_for, receiver, clock):
        hook = endpoint_for()
        receiver.answers.append(410)
        events(3, clock)
        assert delivery.deliver_due(hook.pk) == {"failed": 1}
        hook.refresh_from_db()
        assert not hook.is_enabled and hook.disabled_at == clock.current
        assert hook.disabled_reason == "The receiver answered 410 Gone."
        states = list(WebhookDelivery.objects.order_by("event_id").values_list("state", flat=True))
        assert states == [State.FAILED, State.CANCELLED, State.CANCELLED]
        assert len(receiver.requests) == 1
        (message,) = mail.outbox
        assert message.to == ["owner@example.com"] and "disabled" in message.subject
        assert "410 Gone" in message.body

    def test_failing_for_the_window_warns_after_a_day_then_disables(
        self, endpoint_for, receiver, clock
    ):
        hook = endpoint_for()
        receiver.default = 500
        events(2, clock)
        first_failure = clock.current
        warned_at = None
        for _ in range(200):
            delivery.deliver_due(hook.pk)
            hook.refresh_from_db()
            if not hook.is_enabled:
                break
            if hook.warned_at and warned_at is None:
                warned_at = hook.warned_at
                assert len(mail.outbox) == 1
            clock.set(
                WebhookDelivery.objects.filter(state=State.PENDING)
                .earliest("next_attempt_at")
                .next_attempt_at
            )
        assert not hook.is_enabled
        assert hook.disabled_at == first_failure + 3 * DAY  # the last try at the window's end
        assert "Deliveries failed for 3 days" in hook.disabled_reason
        assert first_failure + DAY <= warned_at < first_failure + DAY + timedelta(hours=4)
        warning, disabled = mail.outbox
        assert "failing" in warning.subject and "disabled" in disabled.subject
        # Both first failed at once: the first past the window fails, the other is cancelled.
        states = sorted(WebhookDelivery.objects.values_list("state", flat=True))
        assert states == [State.CANCELLED, State.FAILED]
        tries = WebhookAttempt.objects.count()
        assert 20 < tries < 200

    def test_a_success_clears_the_warning(self, endpoint_for, receiver, clock):
        hook = endpoint_for()
        hook.warned_at = clock.current
        hook.save()
        events(1, clock)
        delivery.deliver_due(hook.pk)
        hook.refresh_from_db()
        assert hook.warned_at is None

    def test_one_failing_delivery_warns_its_owner_once_while_others_get_through(
        self, endpoint_for, clock, monkeypatch
    ):
        """A success cleared `warned_at` whatever else was failing, and the next failed try of a
        delivery failing for a day warned again: the same "failing since" e-mail after every
        retry round in which another event got through. Cleared once nothing is failing."""
        hook = endpoint_for()
        (poison,) = events(1, clock)
        first_failure = clock.current
        refused = {poison.pk}

        def send(endpoint, event):  # the receiver refuses this one event, takes every other
            if event.pk in refused:
                return Answer(500, 3, "HTTP 500: cannot process")
            return Answer(200, 3)

        monkeypatch.setattr(delivery, "send", send)
        failing = WebhookDelivery.objects.get(event=poison)
        for _ in range(100):
            if clock.current >= first_failure + 2 * DAY:
                break
            delivery.deliver_due(hook.pk)
            failing.refresh_from_db()
            assert failing.state == State.PENDING
            clock.set(failing.next_attempt_at)
            if clock.current > first_failure + DAY:
                events(1, clock)  # other changes keep flowing, and are delivered
                delivery.deliver_due(hook.pk)

        warnings = [message for message in mail.outbox if "failing" in message.subject]
        assert len(warnings) == 1, [message.body.splitlines()[0] for message in warnings[:3]]
        hook.refresh_from_db()
        assert hook.warned_at is not None

        refused.clear()  # the receiver is fixed: the last failing delivery gets through
        failing.refresh_from_db()
        clock.set(failing.next_attempt_at)
        delivery.deliver_due(hook.pk)
        failing.refresh_from_db()
        hook.refresh_from_db()
        assert (failing.state, hook.warned_at) == (State.DELIVERED, None)

    def test_a_redirect_is_a_failed_try_and_is_not_followed(self, endpoint_for, receiver, clock):
        hook = endpoint_for()
        receiver.answers.append(302)
        events(1, clock)
        assert delivery.deliver_due(hook.pk) == {"retrying": 1}
        assert [request.path for request in receiver.requests] == ["/hooks/course-access"]
        attempt = WebhookAttempt.objects.get()
        assert attempt.status == 302
        assert attempt.error == "HTTP 302: redirect to /followed not followed"


class TestReclaimed:
    """A try whose delivery another job reclaimed meanwhile (its lease passed while the answer
    was awaited) records the try and nothing else: no retry of its own, no disabling."""

    def test_a_410_after_the_claim_was_lost_disables_nothing(self, endpoint_for, receiver, clock):
        hook = endpoint_for()
        events(1, clock)
        claimed = delivery.claim(hook)
        # Another job took the delivery back after the lease passed: a new lease on the row.
        WebhookDelivery.objects.update(next_attempt_at=clock.current + timedelta(hours=1))
        answer = Answer(410, 5, "HTTP 410")
        [row] = claimed.deliveries
        counts = Counter()

        assert delivery._failed(hook, claimed, row, answer, clock.current, counts) == (None, False)

        hook.refresh_from_db()
        assert (hook.is_enabled, hook.disabled_at) == (True, None)
        assert WebhookAttempt.objects.filter(delivery=row, status=410).count() == 1
        assert WebhookDelivery.objects.get().state == State.SENDING  # the holder's
        assert counts == Counter()


class TestUnreachable:
    def test_one_timeout_or_refusal_holds_back_the_endpoints_other_deliveries(
        self, endpoint_for, clock, local_targets
    ):
        with socket.socket() as closed:
            closed.bind(("127.0.0.1", 0))
            port = closed.getsockname()[1]
        hook = endpoint_for()
        hook.url = f"http://127.0.0.1:{port}/in"
        hook.save()
        events(3, clock)
        assert delivery.deliver_due(hook.pk) == {"retrying": 1, "released": 2}
        attempt = WebhookAttempt.objects.get()
        assert attempt.status is None and "ConnectionRefusedError" in attempt.error
        rows = WebhookDelivery.objects.all()
        assert {row.state for row in rows} == {State.PENDING}
        assert len({row.next_attempt_at for row in rows}) == 1  # all wait for the same retry
        assert sorted(row.attempts for row in rows) == [0, 0, 1]

    def test_without_retries_each_delivery_still_gets_its_one_try(
        self, endpoint_for, clock, local_targets
    ):
        with socket.socket() as closed:
            closed.bind(("127.0.0.1", 0))
            port = closed.getsockname()[1]
        hook = endpoint_for(should_retry=False)
        hook.url = f"http://127.0.0.1:{port}/in"
        hook.save()
        events(2, clock)
        assert delivery.deliver_due(hook.pk) == {"failed": 2}
        assert WebhookAttempt.objects.count() == 2

    def test_a_claim_sends_only_what_its_lease_covers_and_gives_back_the_rest(
        self, endpoint_for, receiver, clock, settings
    ):
        # A lease shorter than one try's timeouts: one send per claim, the rest given back
        # and claimed again under a new lease.
        settings.WEBHOOKS = {**settings.WEBHOOKS, "LEASE_SECONDS": 1}
        hook = endpoint_for()
        events(3, clock)
        assert delivery.deliver_due(hook.pk) == {"delivered": 3, "released": 3}
        assert len(receiver.requests) == 3

    def test_a_target_that_became_unsafe_is_not_contacted(
        self, endpoint_for, receiver, clock, settings
    ):
        hook = endpoint_for()
        events(1, clock)
        settings.WEBHOOKS = {**settings.WEBHOOKS, "ALLOW_PRIVATE_TARGETS": False}
        assert delivery.deliver_due(hook.pk) == {"retrying": 1}
        assert receiver.requests == []
        assert "is a loopback address" in WebhookAttempt.objects.get().error

    def test_a_url_with_characters_http_cannot_send_is_a_failed_try_not_a_crash(
        self, endpoint_for, receiver, clock
    ):
        # Stored before the URL check refused it: http.client cannot write a non-ASCII path.
        hook = endpoint_for("/hoök?tenant=é")
        events(1, clock)
        assert delivery.deliver_due(hook.pk) == {"retrying": 1}
        assert receiver.requests == []
        assert "percent-encoded" in WebhookAttempt.objects.get().error
        assert WebhookDelivery.objects.get().state == State.PENDING


class TestManagement:
    def test_send_test_posts_a_signed_test_event(self, endpoint_for, receiver):
        hook = endpoint_for(scheme=Scheme.HEALTHIE)
        answer = delivery.send_test(hook)
        assert answer.delivered and answer.status == 200
        body = verify_healthie(hook.secret, receiver.requests[0])
        assert (body["event_type"], body["resource_id_type"]) == ("test.created", "Test")
        assert WebhookDelivery.objects.count() == 0

        receiver.answers.append(500)
        failed = delivery.send_test(hook)
        assert not failed.delivered and failed.error == "HTTP 500: ok"

    def test_resend_sends_the_same_event_again(self, endpoint_for, receiver, clock):
        hook = endpoint_for()
        (event,) = events(1, clock)
        delivery.deliver_due(hook.pk)
        row = WebhookDelivery.objects.get()
        with TestCase.captureOnCommitCallbacks(execute=True):
            delivery.resend(row.pk)
        row.refresh_from_db()
        assert (row.state, row.attempts) == (State.PENDING, 0)
        assert queued_runs(hook)
        assert delivery.deliver_due(hook.pk) == {"delivered": 1}
        assert [r.headers["webhook-id"] for r in receiver.requests] == [str(event.event_id)] * 2

    def test_resend_leaves_a_delivery_being_sent_to_that_send(self, endpoint_for, clock):
        """Made pending while a job was POSTing it, a second job claimed it under the first's
        lease: the event sent twice at once, and the first's 2xx thrown away (no longer its
        claim's). Left as it is, as a replay leaves it; resent as usual once its lease passed."""
        hook = endpoint_for()
        events(1, clock)
        first = delivery.claim(hook)  # worker A: claimed, now POSTing (no lock held meanwhile)
        (row,) = first.deliveries
        assert row.state == State.SENDING

        with TestCase.captureOnCommitCallbacks(execute=True) as queued:
            delivery.resend(row.pk)  # "Resend" in the delivery log meanwhile
        assert queued == []
        row.refresh_from_db()
        assert (row.state, row.next_attempt_at) == (State.SENDING, first.lease)
        assert delivery.claim(hook).deliveries == []  # worker B, at once: nothing to take

        clock.set(first.lease)  # worker A killed: its lease passed
        delivery.resend(row.pk)
        row.refresh_from_db()
        assert (row.state, row.attempts, row.next_attempt_at) == (State.PENDING, 0, clock.current)

    def test_resend_and_replay_refuse_a_disabled_endpoint(self, endpoint_for, clock):
        hook = endpoint_for()
        events(1, clock)
        delivery.disable(hook, "test")
        with pytest.raises(EndpointDisabled, match="is disabled"):
            delivery.resend(WebhookDelivery.objects.get().pk)
        with pytest.raises(EndpointDisabled):
            delivery.replay_since(hook, clock.current - DAY)

    def test_replay_since_requeues_sent_events_and_creates_missing_ones(
        self, endpoint_for, receiver, clock
    ):
        old = endpoint_for("/old")
        made = events(3, clock)
        AccessEvent.objects.filter(pk=made[0].pk).update(occurred_at=clock.current - 2 * DAY)
        delivery.deliver_due(old.pk)
        late = endpoint_for("/late")  # created after the events: it has no deliveries
        receiver.requests.clear()

        assert delivery.replay_since(old, clock.current - DAY) == 2
        assert delivery.replay_since(late, clock.current - DAY) == 2
        assert delivery.replay_since(late, clock.current - DAY) == 0  # pending already
        delivery.deliver_due(old.pk)
        delivery.deliver_due(late.pk)
        sent = sorted((r.path, r.headers["webhook-id"]) for r in receiver.requests)
        expected = sorted(
            (path, str(event.event_id)) for path in ("/old", "/late") for event in made[1:]
        )
        assert sent == expected


class TestSweep:
    def test_it_fans_out_lost_events_and_requeues_stalled_endpoints(
        self, endpoint_for, receiver, clock
    ):
        hook = endpoint_for()
        events(1, clock)
        DBTaskResult.objects.all().delete()
        assert delivery.sweep() == {"events_fanned_out": 0, "endpoints_queued": 0}

        clock.advance(minutes=10)  # its job lost: pending past STALLED_SECONDS
        assert delivery.sweep() == {"events_fanned_out": 0, "endpoints_queued": 1}
        assert queued_runs(hook) == [None]

        AccessEvent.objects.update(fanned_out=False)
        WebhookDelivery.objects.all().delete()
        DBTaskResult.objects.all().delete()
        assert delivery.sweep() == {"events_fanned_out": 1, "endpoints_queued": 1}
        assert WebhookDelivery.objects.get().state == State.PENDING

    def test_a_claim_whose_lease_passed_is_sent_again_with_the_same_event_id(
        self, endpoint_for, receiver, clock
    ):
        hook = endpoint_for()
        (event,) = events(1, clock)
        claim = delivery.claim(hook, delivery.BATCH)  # a worker claims it, then dies
        assert [row.state for row in claim.deliveries] == [State.SENDING]
        assert delivery.deliver_due(hook.pk) == {}  # leased: not sent twice meanwhile
        assert delivery.sweep() == {"events_fanned_out": 0, "endpoints_queued": 0}

        clock.advance(seconds=301)
        assert delivery.sweep()["endpoints_queued"] == 1
        assert delivery.deliver_due(hook.pk) == {"delivered": 1}
        assert [r.headers["webhook-id"] for r in receiver.requests] == [str(event.event_id)]


class TestFollowUp:
    """A job that runs out of due work queues the endpoint's next job for the earliest retry
    still to come, whoever scheduled it, once however many jobs end at once."""

    def test_the_earliest_pending_retry_gets_one_job(self, endpoint_for, clock, monkeypatch):
        queued = []
        monkeypatch.setattr(
            delivery, "_queue", lambda pk, run_after=None: queued.append((pk, run_after))
        )
        hook = endpoint_for()
        event = AccessEvent.objects.create(
            enrollment=EnrollmentFactory(),
            event_type="course_membership.updated",
            action="extend",
            occurred_at=clock.current,
            fanned_out=True,
        )
        later = clock.current + timedelta(minutes=5)
        WebhookDelivery.objects.create(
            endpoint=hook, event=event, created_at=clock.current, next_attempt_at=later
        )

        assert delivery.follow_up(hook.pk) == later
        assert delivery.follow_up(hook.pk) is None  # queued already for that time
        assert queued == [(hook.pk, later)]
        hook.refresh_from_db()
        assert hook.next_job_at == later

        clock.advance(minutes=6)  # that job ran (the marker passed); a new retry gets its own
        WebhookDelivery.objects.update(next_attempt_at=clock.current + timedelta(minutes=1))
        assert delivery.follow_up(hook.pk) == clock.current + timedelta(minutes=1)
        assert len(queued) == 2

    def test_nothing_to_come_queues_nothing(self, endpoint_for, monkeypatch):
        monkeypatch.setattr(delivery, "_queue", lambda *a, **k: pytest.fail("queued"))
        assert delivery.follow_up(endpoint_for().pk) is None
