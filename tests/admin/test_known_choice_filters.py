"""A list filter's value that is none of its choices never reaches the database.

Django's filter of a field with choices passes `?state__exact=` on as typed and applies a bare
`?state=` as a plain lookup; the jobs list's state filter did the same. Text holding a NUL
character is refused by PostgreSQL (DataError): the reminders, webhooks, jobs and audit lists
answered 500 for `?state=a%00b` and its like, and the audit export broke mid-stream. Now a
field's filter (`filters.KnownChoiceFilter`) refuses any value that is not a choice as Django
refuses an invalid lookup (the unfiltered list, `?e=1`), and the jobs list ignores an unknown
state as the enrollment list's filters ignore theirs. Run on SQLite and on PostgreSQL. (A NUL
in any admin query string is now a 400 before a list reads it: config.admin_query_guard,
tests/config/test_admin_query_guard.py; the filters are tested here with the other values a
URL may hold, and with a NUL on the filter itself, below.)
"""

from datetime import timedelta

import pytest
from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ERROR_FLAG
from django.test import RequestFactory
from django.urls import reverse

from enrollments.admin.filters import KnownChoiceFilter
from enrollments.events import endpoints
from enrollments.models import AccessChange, ExpiryReminder, OperationRun, WebhookEndpoint
from tests.admin.conftest import grant, logged_in
from tests.factories import AccessChangeFactory, EnrollmentFactory, StaffFactory

pytestmark = pytest.mark.django_db

NOT_CHOICES = ["nonsense", "", "Sent", "sent%20"]

REMINDERS = reverse("admin:enrollments_expiryreminder_changelist")
WEBHOOKS = reverse("admin:enrollments_webhookendpoint_changelist")
JOBS = reverse("admin:enrollments_operationrun_changelist")


@pytest.fixture
def reminders(clock):
    def one(state):
        enrollment = EnrollmentFactory(ended_at=clock.current + timedelta(days=5))
        return ExpiryReminder.objects.create(
            enrollment=enrollment,
            ended_at=enrollment.ended_at,
            claimed_at=clock.current,
            state=state,
        )

    return {state: one(state) for state in (ExpiryReminder.State.SENT, ExpiryReminder.State.FAILED)}


@pytest.fixture
def reminder_client(db):
    return logged_in(grant(StaffFactory(), "view_expiryreminder"))


@pytest.fixture
def webhook_client(db):
    endpoints.create("https://93.184.216.34/a", scheme=WebhookEndpoint.Scheme.STANDARD)
    endpoints.create("https://93.184.216.34/b", scheme=WebhookEndpoint.Scheme.HEALTHIE)
    return logged_in(grant(StaffFactory(), "manage_webhooks"))


def shown(response) -> list:
    assert response.status_code == 200
    return list(response.context["cl"].result_list)


@pytest.mark.parametrize("value", NOT_CHOICES)
@pytest.mark.parametrize("form", ["state", "state__exact", "state__in"])
def test_the_reminders_list_refuses_a_state_that_is_no_choice(
    reminder_client, reminders, form, value
):
    response = reminder_client.get(f"{REMINDERS}?{form}={value}")
    assert response.status_code == 302
    assert response["Location"] == f"{REMINDERS}?{ERROR_FLAG}=1"


@pytest.mark.parametrize("form", ["state", "state__exact", "state__in"])
def test_the_reminders_list_still_filters_by_a_state(reminder_client, reminders, form):
    rows = shown(reminder_client.get(f"{REMINDERS}?{form}=failed"))
    assert [row.pk for row in rows] == [reminders[ExpiryReminder.State.FAILED].pk]
    both = shown(reminder_client.get(f"{REMINDERS}?state__in=failed,sent"))
    assert len(both) == 2


@pytest.mark.parametrize("value", NOT_CHOICES)
def test_the_webhooks_list_refuses_a_scheme_that_is_no_choice(webhook_client, value):
    response = webhook_client.get(f"{WEBHOOKS}?scheme={value}")
    assert response.status_code == 302
    assert response["Location"] == f"{WEBHOOKS}?{ERROR_FLAG}=1"
    rows = shown(webhook_client.get(f"{WEBHOOKS}?scheme__exact=healthie"))
    assert [row.scheme for row in rows] == [WebhookEndpoint.Scheme.HEALTHIE]


@pytest.mark.parametrize("value", NOT_CHOICES)
def test_the_jobs_list_ignores_a_state_it_does_not_offer(clock, value):
    staff = grant(StaffFactory(), "view_enrollment")
    for state in (OperationRun.State.FAILED, OperationRun.State.DONE):
        OperationRun.objects.create(
            parts={},
            description=f"Extend by 30 days ({state})",
            state=state,
            actor=staff,
            source=AccessChange.Source.ADMIN,
            created_at=clock.current,
        )
    client = logged_in(staff)
    assert len(shown(client.get(f"{JOBS}?state={value}"))) == 2
    failed = shown(client.get(f"{JOBS}?state=failed"))
    assert [run.state for run in failed] == [OperationRun.State.FAILED]


class TrailWithKnownChoices(admin.ModelAdmin):
    """The audit trail's two choice filters as its admin declares them with the shared class
    (enrollments/admin/access_changes.py `list_filter`)."""

    list_filter = (("action", KnownChoiceFilter), ("source", KnownChoiceFilter))


@pytest.mark.parametrize("field", ["action", "source"])
@pytest.mark.parametrize("value", ["a\x00b", "nonsense"])
def test_the_shared_filter_refuses_the_audit_trails_unknown_choices(field, value):
    AccessChangeFactory(action=AccessChange.Action.EXTEND)
    request = RequestFactory().get("/", {field: value})
    request.user = StaffFactory(is_superuser=True)
    model_admin = TrailWithKnownChoices(AccessChange, admin.site)
    with pytest.raises(IncorrectLookupParameters):
        model_admin.get_changelist_instance(request)

    request = RequestFactory().get("/", {"action__exact": AccessChange.Action.EXTEND})
    request.user = StaffFactory(is_superuser=True)
    listed = model_admin.get_changelist_instance(request).queryset
    assert [change.action for change in listed] == [AccessChange.Action.EXTEND]
