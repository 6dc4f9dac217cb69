"""Pause and Resume: changelist actions and the change page's buttons."""

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from enrollments.models import AccessChange, Enrollment
from tests.admin.helpers import post_action
from tests.factories import EnrollmentFactory

pytestmark = pytest.mark.django_db


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def mixed(clock):
    """Two running enrollments and one paused for two days."""
    running = [EnrollmentFactory(ended_at=clock.current + timedelta(days=9)) for _ in range(2)]
    paused = EnrollmentFactory(
        ended_at=clock.current + timedelta(days=9),
        is_paused=True,
        paused_at=clock.current - timedelta(days=2),
    )
    return running, paused


def test_pause_action_pauses_and_names_the_skipped_rows(operator_client, operator, mixed):
    running, paused = mixed
    response = post_action(operator_client, "pause_enrollments", [e.pk for e in [*running, paused]])
    assert response.status_code == 302
    texts = messages_of(response)
    assert "Paused 2 enrollments." in texts
    assert (
        f"Skipped 1 enrollment: {paused.user.email} in {paused.course.title} "
        "(Course membership is already paused)." in texts
    )
    assert Enrollment.objects.filter(is_paused=True).count() == 3
    audits = AccessChange.objects.filter(action="pause")
    assert {a.enrollment_id for a in audits} == {e.pk for e in running}
    assert {(a.actor_id, a.source) for a in audits} == {(operator.pk, "admin")}


def test_resume_action_resumes_and_names_the_skipped_rows(operator_client, mixed, clock):
    running, paused = mixed
    response = post_action(
        operator_client, "resume_enrollments", [e.pk for e in [*running, paused]]
    )
    texts = messages_of(response)
    assert "Resumed 1 enrollment." in texts
    [warning] = [t for t in texts if t.startswith("Skipped")]
    assert warning.startswith("Skipped 2 enrollments: ")
    assert warning.count("(Course membership is not paused)") == 2
    paused.refresh_from_db()
    assert not paused.is_paused
    assert paused.ended_at == clock.current + timedelta(days=11), "the pause froze access"
    assert AccessChange.objects.get(action="resume").paused_seconds == 2 * 86400


def test_pause_over_select_all(operator_client, clock):
    rows = [EnrollmentFactory(ended_at=clock.current + timedelta(days=9)) for _ in range(4)]
    response = post_action(operator_client, "pause_enrollments", [rows[0].pk], select_across=True)
    assert "Paused 4 enrollments." in messages_of(response)
    assert AccessChange.objects.filter(action="pause").count() == 4


def test_pause_actions_need_the_permission(viewer_client, mixed):
    running, _ = mixed
    post_action(viewer_client, "pause_enrollments", [e.pk for e in running])
    assert Enrollment.objects.filter(is_paused=True).count() == 1
    for name in ("pause", "resume"):
        url = reverse(f"admin:enrollments_enrollment_{name}", args=[running[0].pk])
        assert viewer_client.post(url).status_code == 403
    assert AccessChange.objects.count() == 0


def test_change_page_buttons_pause_then_resume(operator_client, mixed, clock):
    enrollment = mixed[0][0]
    change = reverse("admin:enrollments_enrollment_change", args=[enrollment.pk])
    page = operator_client.get(change).content.decode()
    pause_url = reverse("admin:enrollments_enrollment_pause", args=[enrollment.pk])
    assert f'action="{pause_url}"' in page
    response = operator_client.post(pause_url)
    assert response["Location"] == change
    assert "Paused this enrollment." in messages_of(response)
    # Pausing again: the domain error, and nothing written.
    again = operator_client.post(pause_url)
    assert "Course membership is already paused" in messages_of(again)
    assert AccessChange.objects.filter(action="pause").count() == 1
    page = operator_client.get(change).content.decode()
    resume_url = reverse("admin:enrollments_enrollment_resume", args=[enrollment.pk])
    assert f'action="{resume_url}"' in page
    clock.advance(hours=5)
    operator_client.post(resume_url)
    enrollment.refresh_from_db()
    assert not enrollment.is_paused
    assert enrollment.total_paused_duration == 5 * 3600


def test_buttons_refuse_get_and_unknown_ids(operator_client):
    url = reverse("admin:enrollments_enrollment_pause", args=["nope"])
    assert operator_client.get(url).status_code == 405
    response = operator_client.post(url)
    assert response.status_code == 302
    assert "Enrollment not found." in messages_of(response)


def test_the_buttons_find_the_enrollment_through_the_admin_queryset(
    operator_client, mixed, monkeypatch
):
    """An enrollment the admin's queryset does not show is "not found" for the buttons too,
    as it is for the change page and "Extend access"."""
    from enrollments.admin.enrollment import EnrollmentAdmin

    hidden = mixed[0][0]
    original = EnrollmentAdmin.get_queryset
    monkeypatch.setattr(
        EnrollmentAdmin,
        "get_queryset",
        lambda self, request: original(self, request).exclude(pk=hidden.pk),
    )
    for name in ("pause", "resume"):
        response = operator_client.post(
            reverse(f"admin:enrollments_enrollment_{name}", args=[hidden.pk])
        )
        assert response["Location"] == reverse("admin:enrollments_enrollment_changelist")
        assert "Enrollment not found." in messages_of(response)
    assert AccessChange.objects.count() == 0


def test_an_enrollment_gone_before_the_lock_is_not_found(operator_client, mixed, monkeypatch):
    """The core re-reads the row under a lock; if it is gone by then, the button says so and
    goes back to the list (the enrollment's page no longer exists)."""
    from enrollments.operations import core

    real_read = core._read_rows
    monkeypatch.setattr(
        core, "_read_rows", lambda selection, lock: [] if lock else real_read(selection, lock=lock)
    )
    enrollment = mixed[0][0]
    response = operator_client.post(
        reverse("admin:enrollments_enrollment_pause", args=[enrollment.pk])
    )
    assert response["Location"] == reverse("admin:enrollments_enrollment_changelist")
    assert messages_of(response) == ["Enrollment not found."]
