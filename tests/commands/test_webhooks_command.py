"""`manage.py webhooks`: list, create (the secret printed once), update, delete, rotate, test,
resend, replay, each with its errors and exit statuses (0 done, 1 refused by the endpoint's
state, 2 usage)."""

from datetime import timedelta

import pytest

from enrollments.events import delivery, endpoints
from enrollments.events.posting import Answer
from enrollments.models import AccessEvent, WebhookDelivery, WebhookEndpoint
from tests.commands.conftest import exit_status, run_command

pytestmark = pytest.mark.django_db

URL = "https://93.184.216.34/hooks"


def made(**kwargs) -> WebhookEndpoint:
    return endpoints.create(URL, **kwargs).endpoint


def test_create_prints_the_secret_once_and_list_never_does():
    run = run_command(
        "webhooks",
        "create",
        URL,
        "--scheme",
        "healthie",
        "--event-type",
        "COURSE_MEMBERSHIP_DELETED",
        "--event-type",
        "course_membership.created",
        "--owner-email",
        "ops@example.com",
        "--description",
        "forum",
    )
    assert run.status == 0, run.error
    endpoint = WebhookEndpoint.objects.get()
    assert f"Created webhook {endpoint.pk}: {URL}" in run.stdout
    assert f"Signing secret (shown once, store it now): {endpoint.secret}" in run.stdout
    assert endpoint.scheme == "healthie"
    assert endpoint.event_types == ["course_membership.created", "course_membership.deleted"]
    assert (endpoint.owner_email, endpoint.description) == ("ops@example.com", "forum")

    listed = run_command("webhooks", "list")
    assert listed.status == 0
    assert endpoint.secret not in listed.stdout
    assert URL in listed.stdout and "forum" in listed.stdout


def test_list_without_endpoints():
    assert run_command("webhooks", "list").stdout == "No webhook endpoints.\n"


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["create", "https://127.0.0.1/hook"], "127.0.0.1"),
        (["create", URL, "--event-type", "appointment.created"], "UNKNOWN_EVENT_TYPE"),
        (["create", URL, "--scheme", "hmac"], "UNKNOWN_SIGNATURE_SCHEME"),
        (["create", URL, "--owner-email", "nope"], "INVALID_EMAIL"),
        # validate_email admits 320 characters; the column holds 254 (PostgreSQL: DataError).
        (["create", URL, "--owner-email", "a" * 250 + "@example.com"], "INVALID_EMAIL"),
    ],
)
def test_create_refusals_are_usage_errors(argv, words):
    run = run_command("webhooks", *argv)
    assert run.status == 2
    assert words in run.error
    assert not WebhookEndpoint.objects.exists()


def test_create_refuses_http_when_https_is_required(settings):
    settings.WEBHOOKS = {**settings.WEBHOOKS, "REQUIRE_HTTPS": True}
    run = run_command("webhooks", "create", "http://93.184.216.34/hook")
    assert run.status == 2 and "https" in run.error


def test_update_changes_only_what_is_given():
    endpoint = made(event_types_=["course_membership.created"], description="kept")
    run = run_command(
        "webhooks", "update", str(endpoint.pk), "--no-retry", "--every-event-type", "--disable"
    )
    assert run.status == 0, run.error
    assert "disabled, one attempt, every event type" in run.stdout
    endpoint.refresh_from_db()
    assert endpoint.event_types == [] and not endpoint.should_retry and not endpoint.is_enabled
    assert endpoint.description == "kept" and endpoint.url == URL
    run = run_command("webhooks", "update", str(endpoint.pk), "--enable", "--url", URL + "/v2")
    endpoint.refresh_from_db()
    assert run.status == 0 and endpoint.is_enabled and endpoint.url == URL + "/v2"


def test_update_needs_a_change_and_consistent_options():
    endpoint = made()
    assert run_command("webhooks", "update", str(endpoint.pk)).status == 2
    contradicting = run_command(
        "webhooks", "update", str(endpoint.pk), "--every-event-type", "--event-type", "x"
    )
    assert contradicting.status == 2


@pytest.mark.parametrize("action", ["update", "delete", "rotate", "test", "replay"])
@pytest.mark.parametrize("given", ["999", "abc"])
def test_an_unknown_endpoint_is_a_usage_error(action, given):
    extra = {
        "update": ["--no-retry"],
        "replay": ["--since", "2026-01-01T00:00:00Z"],
    }.get(action, [])
    run = run_command("webhooks", action, given, *extra)
    assert run.status == 2
    assert run.error == "Webhook not found (NOT_FOUND)"


def test_delete():
    endpoint = made()
    run = run_command("webhooks", "delete", str(endpoint.pk))
    assert run.status == 0 and f"Deleted webhook {endpoint.pk}" in run.stdout
    assert not WebhookEndpoint.objects.exists()


def test_rotate_prints_the_new_secret_and_keeps_the_old_one_signing(clock):
    endpoint = made()
    old = endpoint.secret
    run = run_command("webhooks", "rotate", str(endpoint.pk), "--overlap-hours", "2")
    endpoint.refresh_from_db()
    assert run.status == 0, run.error
    assert f"Signing secret (shown once, store it now): {endpoint.secret}" in run.stdout
    assert old not in run.stdout
    assert endpoint.previous_secret == old
    assert endpoint.previous_secret_expires_at == clock.current + timedelta(hours=2)


@pytest.mark.parametrize(("scheme", "hours"), [("standard", 24), ("healthie", None)])
def test_rotate_without_an_overlap_takes_the_schemes_default(clock, scheme, hours):
    """Healthie's sample verifier reads one signature: by default its secret changes at once."""
    endpoint = made(scheme=scheme)
    run = run_command("webhooks", "rotate", str(endpoint.pk))
    endpoint.refresh_from_db()
    assert run.status == 0, run.error
    expected = None if hours is None else clock.current + timedelta(hours=hours)
    assert endpoint.previous_secret_expires_at == expected


def test_rotate_refuses_a_long_overlap():
    endpoint = made()
    run = run_command("webhooks", "rotate", str(endpoint.pk), "--overlap-hours", "1000")
    assert run.status == 2
    endpoint.refresh_from_db()
    assert endpoint.previous_secret == ""


@pytest.mark.parametrize(
    ("answer", "status", "words"),
    [
        (Answer(204, 12), 0, "Test event: 204 in 12 ms: delivered."),
        (Answer(500, 30, "HTTP 500"), 1, "Test event: 500 in 30 ms: not delivered (HTTP 500)"),
        (Answer(None, 0, "connection refused", unreachable=True), 1, "no answer"),
    ],
)
def test_test_sends_a_test_event(monkeypatch, answer, status, words):
    endpoint = made()
    sent = []
    monkeypatch.setattr(delivery, "send_test", lambda e: sent.append(e.pk) or answer)
    run = run_command("webhooks", "test", str(endpoint.pk))
    assert run.status == status
    assert words in (run.stdout + run.error)
    assert sent == [endpoint.pk]


@pytest.fixture
def failed_delivery(clock, enrollment) -> WebhookDelivery:
    endpoint = made()
    event = AccessEvent.objects.create(
        enrollment=enrollment,
        event_type=AccessEvent.EventType.UPDATED,
        action="extend",
        occurred_at=clock.current,
        fanned_out=True,
    )
    return WebhookDelivery.objects.create(
        endpoint=endpoint,
        event=event,
        state=WebhookDelivery.State.FAILED,
        attempts=7,
        created_at=clock.current,
        next_attempt_at=clock.current,
    )


def test_resend_queues_a_delivery_again(failed_delivery):
    run = run_command("webhooks", "resend", str(failed_delivery.pk))
    assert run.status == 0, run.error
    failed_delivery.refresh_from_db()
    assert failed_delivery.state == WebhookDelivery.State.PENDING
    assert failed_delivery.attempts == 0


def test_resend_of_a_delivery_being_sent_says_it_is_left_to_that_send(failed_delivery, clock):
    WebhookDelivery.objects.filter(pk=failed_delivery.pk).update(
        state=WebhookDelivery.State.SENDING, next_attempt_at=clock.current + timedelta(minutes=5)
    )
    run = run_command("webhooks", "resend", str(failed_delivery.pk))
    assert run.status == 0, run.error
    assert "is being sent now to webhook" in run.stdout and "left to that send" in run.stdout
    failed_delivery.refresh_from_db()
    assert failed_delivery.state == WebhookDelivery.State.SENDING


def test_resend_of_an_unknown_delivery_or_to_a_disabled_endpoint(failed_delivery):
    unknown = run_command("webhooks", "resend", "424242")
    assert (unknown.status, unknown.error) == (2, "Webhook delivery not found (NOT_FOUND)")
    endpoints.set_enabled(failed_delivery.endpoint_id, False)
    disabled = run_command("webhooks", "resend", str(failed_delivery.pk))
    assert disabled.status == 1 and "WEBHOOK_DISABLED" in disabled.error


def test_replay_since_queues_the_events(failed_delivery, clock):
    endpoint = failed_delivery.endpoint
    since = (clock.current - timedelta(hours=1)).isoformat()
    run = run_command("webhooks", "replay", str(endpoint.pk), "--since", since)
    assert run.status == 0, run.error
    assert "Queued 1 deliveries" in run.stdout
    failed_delivery.refresh_from_db()
    assert failed_delivery.state == WebhookDelivery.State.PENDING


def test_argparse_errors_exit_2(capsys):
    assert exit_status("webhooks", "replay", "1") == 2  # --since is required
    assert exit_status("webhooks", "replay", "1", "--since", "yesterday") == 2
    assert exit_status("webhooks", "sideways") == 2
    assert "--since" in capsys.readouterr().err
