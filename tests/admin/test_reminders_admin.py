"""The expiry reminders in the admin (issue 26 item 5, enrollments/admin/reminders.py): listed
read-only with state, learner, course, end, sent at, attempts and last error; filtered by state;
seen with `enrollments.view_expiryreminder` globally or through a course role, in that course
only; nobody adds, changes or deletes one."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from enrollments.models import ExpiryReminder
from enrollments.permissions import VIEW_EXPIRY_REMINDER
from tests.admin.conftest import grant, logged_in
from tests.factories import CourseFactory, CourseRoleFactory, EnrollmentFactory, StaffFactory

pytestmark = pytest.mark.django_db

LIST = reverse("admin:enrollments_expiryreminder_changelist")


def reminder(clock, course, email, **fields) -> ExpiryReminder:
    enrollment = EnrollmentFactory(
        course=course,
        user__email=email,
        ended_at=clock.current + timedelta(days=5, hours=13),  # 2026-01-06 13:00 UTC
    )
    return ExpiryReminder.objects.create(
        enrollment=enrollment,
        ended_at=enrollment.ended_at,
        claimed_at=clock.current,
        **fields,
    )


@pytest.fixture
def reminders(clock):
    python = CourseFactory(title="Python Basics")
    sql = CourseFactory(title="SQL for Everyone")
    return {
        "sent": reminder(
            clock,
            python,
            "sent@example.com",
            state=ExpiryReminder.State.SENT,
            attempts=2,
            sent_at=clock.current + timedelta(hours=1),
            last_error="SMTPServerDisconnected: Connection unexpectedly closed",
        ),
        "failed": reminder(
            clock,
            sql,
            "failed@example.com",
            state=ExpiryReminder.State.FAILED,
            attempts=5,
            last_error="SMTPRecipientsRefused: 550 no such mailbox",
        ),
        "pending": reminder(clock, python, "pending@example.com"),
    }


def test_the_permission_is_djangos_view_permission():
    assert VIEW_EXPIRY_REMINDER.codename == "view_expiryreminder"
    assert Permission.objects.filter(
        content_type__app_label="enrollments", codename=VIEW_EXPIRY_REMINDER.codename
    ).exists()


@pytest.mark.parametrize(
    "codename", ["view_expiryreminder", "view_enrollment", "change_enrollment"]
)
def test_seen_with_the_reminders_or_the_enrollments_view_permission(clock, reminders, codename):
    response = logged_in(grant(StaffFactory(), codename)).get(LIST)
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == 3


def test_lists_state_learner_course_end_sent_attempts_and_error(clock, reminders):
    staff = grant(StaffFactory(time_zone="Europe/Berlin"), "view_expiryreminder")
    response = logged_in(staff).get(LIST)
    assert response.status_code == 200
    text = response.content.decode()
    for header in ("learner", "course", "state", "end it announced", "sent at", "attempts"):
        assert f">{header.capitalize()}<" in text or f">{header}<" in text.lower(), header
    assert {r.pk for r in response.context["cl"].result_list} == {r.pk for r in reminders.values()}
    assert "sent@example.com" in text and "SQL for Everyone" in text
    assert "failed for good" in text and "waiting for its send job" in text
    assert "550 no such mailbox" in text
    assert "2026-01-06" in text and "14:00 CET" in text  # the end, in the staff member's zone
    assert "02:00 CET" in text  # sent at 01:00 UTC


@pytest.mark.parametrize("state", ["sent", "failed", "pending"])
def test_filters_by_state(clock, reminders, state):
    staff = grant(StaffFactory(), "view_expiryreminder")
    response = logged_in(staff).get(LIST, {"state__exact": state})
    assert [r.pk for r in response.context["cl"].result_list] == [reminders[state].pk]


def test_read_only_for_everyone_even_a_superuser(clock, reminders, admin_user):
    client = logged_in(admin_user)
    sent = reminders["sent"]
    change = reverse("admin:enrollments_expiryreminder_change", args=[sent.pk])
    page = client.get(change)
    assert page.status_code == 200
    text = page.content.decode()
    assert 'name="_save"' not in text and "deletelink" not in text
    assert "Connection unexpectedly closed" in text
    assert client.get(reverse("admin:enrollments_expiryreminder_add")).status_code == 403
    delete = reverse("admin:enrollments_expiryreminder_delete", args=[sent.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert client.post(change, {"state": "pending", "attempts": "0"}).status_code == 403
    listing = client.get(LIST)
    assert "delete_selected" not in listing.content.decode()
    sent.refresh_from_db()
    assert (sent.state, sent.attempts) == (ExpiryReminder.State.SENT, 2)
    assert ExpiryReminder.objects.count() == 3


def test_without_the_permission_neither_listed_nor_on_the_home_page(clock, reminders):
    staff = grant(StaffFactory(), "view_accesschange", "extend_access")
    client = logged_in(staff)
    assert client.get(LIST).status_code == 403
    sent = reminders["sent"]
    page = client.get(reverse("admin:enrollments_expiryreminder_change", args=[sent.pk]))
    assert page.status_code == 403
    assert LIST not in client.get(reverse("admin:index")).content.decode()


def test_a_course_staff_member_sees_their_courses_reminders_only(clock, reminders):
    staff = StaffFactory()
    CourseRoleFactory(user=staff, course=reminders["sent"].enrollment.course)  # Python Basics
    client = logged_in(staff)

    response = client.get(LIST)

    assert response.status_code == 200
    assert {r.pk for r in response.context["cl"].result_list} == {
        reminders["sent"].pk,
        reminders["pending"].pk,
    }
    assert "failed@example.com" not in response.content.decode()
    assert LIST in client.get(reverse("admin:index")).content.decode()
    # Another course's reminder is not found, like a missing one.
    other = reverse("admin:enrollments_expiryreminder_change", args=[reminders["failed"].pk])
    assert client.get(other).status_code == 302
    failed = client.get(LIST, {"state__exact": "failed"})
    assert list(failed.context["cl"].result_list) == []


def test_search_by_learner_email(clock, reminders):
    staff = grant(StaffFactory(), "view_expiryreminder")
    response = logged_in(staff).get(LIST, {"q": "failed@example"})
    assert [r.pk for r in response.context["cl"].result_list] == [reminders["failed"].pk]


def test_statements_do_not_grow_with_the_rows(clock):
    staff = StaffFactory()
    course = CourseFactory()
    CourseRoleFactory(user=staff, course=course)
    client = logged_in(staff)
    reminder(clock, course, "one@example.com")
    client.get(LIST)  # warm the caches
    counts = []
    for n in range(2):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(LIST).status_code == 200
        counts.append(len(queries))
        for extra in range(5):
            reminder(clock, course, f"more{n}-{extra}@example.com")
    assert counts[0] == counts[1]
