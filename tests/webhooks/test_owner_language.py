"""The webhook owner's e-mails in the owner's language (enrollments/events/delivery.py): a user
here with User.language gets theirs, an address that is no user here gets LANGUAGE_CODE. The
reason stays English where it is stored (`disabled_reason`, which the API answers), whatever
language the job or command runs in. tests/fake_catalogue.py stands in for the catalogue."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.utils import translation

from enrollments.events import delivery
from enrollments.events.posting import Answer
from enrollments.models import WebhookEndpoint
from tests import fake_catalogue
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def catalogue(monkeypatch):
    fake_catalogue.install(monkeypatch, delivery)


def endpoint(owner_email: str) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(
        url="https://hooks.example.com/course-access",
        secret="whsec_" + "A" * 32,
        owner_email=owner_email,
        created_at=NOW,
        updated_at=NOW,
    )


def test_a_german_owner_is_told_in_german_and_the_stored_reason_stays_english():
    UserFactory(email="owner@example.com", language="de")
    hook = endpoint("Owner@Example.com")
    with translation.override("de"):  # a job or command run with LANGUAGE_CODE de, say
        reason = delivery.expired_reason(timedelta(days=3), 500)
        assert delivery.disable(hook, reason, now=NOW)
    hook.refresh_from_db()
    assert hook.disabled_reason == "Deliveries failed for 3 days: the last answer was 500."
    (message,) = mail.outbox
    assert (
        message.subject == "[de] Webhook endpoint disabled: https://hooks.example.com/course-access"
    )
    assert message.body.split("\n\n") == [
        "[de] The webhook endpoint https://hooks.example.com/course-access was disabled on "
        "2026-01-01 12:00 UTC.",
        "[de] Reason: [de] Deliveries failed for [de] 3 days: the last answer was 500.",
        "[de] Its undelivered events were cancelled. Once the receiver works again, enable the "
        "endpoint and replay the events since the first failure.\n",
    ]


@pytest.mark.parametrize("owner", ["someone@elsewhere.example", "english@example.com"])
def test_an_owner_who_is_no_user_or_reads_english_gets_the_default(owner):
    UserFactory(email="english@example.com", language="")
    hook = endpoint(owner)
    with translation.override("de"):
        delivery.disable(hook, delivery.GONE_REASON, now=NOW)
    (message,) = mail.outbox
    assert message.subject == "Webhook endpoint disabled: https://hooks.example.com/course-access"
    assert "Reason: The receiver answered 410 Gone.\n" in message.body
    hook.refresh_from_db()
    assert hook.disabled_reason == "The receiver answered 410 Gone."


def test_the_warning_is_in_the_owners_language_too():
    UserFactory(email="owner@example.com", language="de")
    hook = endpoint("owner@example.com")
    answer = Answer(status=503, latency_ms=12, error="HTTP 503: busy")
    delivery._warn(hook, None, answer, NOW, NOW + timedelta(days=1))
    (message,) = mail.outbox
    assert message.subject.startswith("[de] Webhook deliveries failing: ")
    first, second = message.body.strip().split("\n\n")
    assert first.startswith("[de] Deliveries to the webhook endpoint ")
    assert "(last answer: HTTP 503: busy)" in first
    assert second.startswith("[de] They are retried until 2026-01-04 12:00 UTC")


def test_english_e_mails_are_word_for_word_as_before():
    hook = endpoint("owner@example.com")
    answer = Answer(status=500, latency_ms=5, error="")
    delivery._warn(hook, None, answer, NOW, NOW + timedelta(days=1))
    delivery.disable(hook, delivery.expired_reason(timedelta(days=1), 500), now=NOW)
    warning, disabled = mail.outbox
    url = "https://hooks.example.com/course-access"
    assert warning.body == (
        f"Deliveries to the webhook endpoint {url} have been failing since 2026-01-01 12:00 UTC "
        "(last answer: 500).\n\nThey are retried until 2026-01-04 12:00 UTC; if they still fail "
        "then, the endpoint is disabled.\n"
    )
    assert disabled.body == (
        f"The webhook endpoint {url} was disabled on 2026-01-01 12:00 UTC.\n\nReason: Deliveries "
        "failed for 1 day: the last answer was 500.\n\nIts undelivered events were cancelled. "
        "Once the receiver works again, enable the endpoint and replay the events since the "
        "first failure.\n"
    )
