"""Lifecycle actions in the admin home's "Recent actions" (enrollments/admin/recent_actions.py):
after a Confirm that changed rows, one LogEntry per enrollment (up to ten) or one for the whole
batch; none when nothing changed or Confirm refused; shown on the admin home."""

from datetime import timedelta

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.urls import reverse

from enrollments.admin.recent_actions import PER_ENROLLMENT
from enrollments.models import AccessChange
from tests.admin.conftest import grant, logged_in
from tests.admin.helpers import confirm_page, post_action
from tests.factories import CourseFactory, EnrollmentFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db


def running(clock, count: int):
    return [EnrollmentFactory(ended_at=clock.current + timedelta(days=9)) for _ in range(count)]


def test_a_small_confirm_logs_one_entry_per_changed_enrollment(operator_client, operator, clock):
    rows = running(clock, 2)
    paused = EnrollmentFactory(
        ended_at=clock.current + timedelta(days=9), is_paused=True, paused_at=clock.current
    )
    shown = post_action(operator_client, "pause_enrollments", [e.pk for e in [*rows, paused]])
    assert not LogEntry.objects.exists(), "the preview logs nothing"

    done = confirm_page(operator_client, shown, "Leave")
    assert done.status_code == 302
    entries = LogEntry.objects.order_by("object_repr")
    assert {entry.object_id for entry in entries} == {str(e.pk) for e in rows}  # not the skipped
    batch = AccessChange.objects.get(enrollment=rows[0]).batch_id
    for entry in entries:
        assert (entry.user_id, entry.action_flag) == (operator.pk, CHANGE)
        assert entry.content_type.model == "enrollment"
        assert entry.change_message == f"Pause (batch {batch})"
        assert entry.get_change_message() == f"Pause (batch {batch})"
        assert entry.get_admin_url() == reverse(
            "admin:enrollments_enrollment_change", args=[entry.object_id]
        )
    named = {f"Pause: {e.user.email} in {e.course.title}" for e in rows}
    assert {entry.object_repr for entry in entries} == named

    # The admin home shows them under "Recent actions", linked to each enrollment.
    home = operator_client.get(reverse("admin:index")).content.decode()
    for e in rows:
        assert f"Pause: {e.user.email} in {e.course.title}" in home
        assert reverse("admin:enrollments_enrollment_change", args=[e.pk]) in home


def test_a_large_confirm_logs_one_entry_for_the_batch(operator_client, operator, clock):
    rows = running(clock, PER_ENROLLMENT + 1)
    shown = post_action(operator_client, "pause_enrollments", [e.pk for e in rows])
    confirm_page(operator_client, shown)

    (entry,) = LogEntry.objects.all()
    first = AccessChange.objects.order_by("created_at", "id").first()
    assert entry.content_type.model == "accesschange"
    assert entry.object_id == str(first.pk)  # its page links to every row of the batch
    assert entry.object_repr == f"Paused 11 enrollments (batch {str(first.batch_id)[:8]}…)"
    assert entry.change_message == f"Paused 11 enrollments (batch {first.batch_id})"


def test_one_enrollments_button_logs_it(operator_client, clock):
    (row,) = running(clock, 1)
    shown = operator_client.get(reverse("admin:enrollments_enrollment_pause_one", args=[row.pk]))
    confirm_page(operator_client, shown)
    (entry,) = LogEntry.objects.all()
    assert entry.object_id == str(row.pk)


def test_nothing_changed_logs_nothing(operator_client, clock):
    paused = EnrollmentFactory(
        ended_at=clock.current + timedelta(days=9), is_paused=True, paused_at=clock.current
    )
    shown = post_action(operator_client, "pause_enrollments", [paused.pk])
    done = confirm_page(operator_client, shown)
    assert done.status_code == 302
    assert not AccessChange.objects.exists()
    assert not LogEntry.objects.exists()


def test_a_refused_confirm_logs_nothing(operator_client, clock):
    rows = running(clock, 2)
    shown = post_action(operator_client, "pause_enrollments", [e.pk for e in rows])
    refused = confirm_page(operator_client, shown, fingerprint="stale")
    assert refused.status_code == 200  # the new preview
    assert not AccessChange.objects.exists()
    assert not LogEntry.objects.exists()


def test_enroll_learners_logs_the_new_and_the_existing_learners(clock):
    """The entries are read from the batch's audit rows: an enrollment created by the Confirm
    (a new account's) is named like an existing one's."""
    client = logged_in(grant(StaffFactory(), "view_enrollment", "enroll_learners"))
    course = CourseFactory(title="Python", access_days=30)
    UserFactory(email="bob@example.com")
    url = reverse("admin:enrollments_enrollment_enroll")
    learners = "bob@example.com\nnew@example.com,New Person"
    shown = client.post(url, {"course": str(course.pk), "learners": learners, "_preview": "1"})
    done = client.post(
        url,
        {
            "course": str(course.pk),
            "learners": learners,
            "fingerprint": shown.context["fingerprint"],
            "_confirm": "1",
        },
    )
    assert done.status_code == 302
    assert sorted(LogEntry.objects.values_list("object_repr", flat=True)) == [
        "Enroll: bob@example.com in Python",
        "Enroll: new@example.com in Python",
    ]
