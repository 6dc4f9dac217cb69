"""Pause and Resume: the changelist actions and the change page's buttons show the
confirmation page (enrollments/admin/confirming.py): a preview that writes nothing, a reason,
and Confirm, which applies exactly the previewed plan."""

from datetime import UTC, timedelta

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from enrollments.admin.display import format_instant
from enrollments.models import AccessChange, Enrollment
from tests.admin.conftest import grant, logged_in
from tests.admin.helpers import changelist_url, confirm_page, post_action
from tests.commands.conftest import snapshot
from tests.factories import EnrollmentFactory, StaffFactory

pytestmark = pytest.mark.django_db


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def url_of(name: str, enrollment) -> str:
    return reverse(f"admin:enrollments_enrollment_{name}_one", args=[enrollment.pk])


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


# -- the changelist actions --------------------------------------------------------------------


def test_pause_action_previews_then_confirm_pauses_with_the_reason(
    operator_client, operator, mixed
):
    running, paused = mixed
    before = snapshot()
    shown = post_action(operator_client, "pause_enrollments", [e.pk for e in [*running, paused]])
    assert shown.status_code == 200
    assert snapshot() == before, "the preview writes nothing"
    preview = shown.context["preview"]
    assert (preview.changed, preview.skipped, preview.selected) == (2, 1, 3)
    assert {row.enrollment_id for row in preview.changed_rows} == {e.pk for e in running}
    [skipped] = preview.skipped_rows
    assert (skipped.enrollment_id, skipped.reason) == (
        paused.pk,
        "Course membership is already paused",
    )
    html = shown.content.decode()
    assert "<strong>2</strong> enrollments will be paused." in html
    assert 'id="preview-heading" tabindex="-1" data-focus-on-load' in html

    done = confirm_page(operator_client, shown, "  Parental leave  ")
    assert done.status_code == 302
    assert done["Location"] == changelist_url()
    texts = messages_of(done)
    assert "Paused 2 enrollments." in texts
    assert (
        f"Skipped 1 enrollment: {paused.user.email} in {paused.course.title} "
        "(Course membership is already paused)." in texts
    )
    assert Enrollment.objects.filter(is_paused=True).count() == 3
    audits = AccessChange.objects.filter(action="pause")
    assert {a.enrollment_id for a in audits} == {e.pk for e in running}
    assert {(a.actor_id, a.source, a.reason) for a in audits} == {
        (operator.pk, "admin", "Parental leave")
    }
    assert len({a.batch_id for a in audits}) == 1


def test_resume_action_previews_the_new_end_then_resumes(operator_client, mixed, clock):
    running, paused = mixed
    shown = post_action(operator_client, "resume_enrollments", [e.pk for e in [*running, paused]])
    preview = shown.context["preview"]
    [row] = preview.changed_rows
    assert row.enrollment_id == paused.pk
    assert row.new_end == format_instant(clock.current + timedelta(days=11), UTC), (
        "nine days left plus the two paused"
    )
    assert [r.reason for r in preview.skipped_rows] == ["Course membership is not paused"] * 2
    assert AccessChange.objects.count() == 0

    done = confirm_page(operator_client, shown, "Back from leave")
    texts = messages_of(done)
    assert "Resumed 1 enrollment." in texts
    [warning] = [t for t in texts if t.startswith("Skipped")]
    assert warning.startswith("Skipped 2 enrollments: ")
    assert warning.count("(Course membership is not paused)") == 2
    paused.refresh_from_db()
    assert not paused.is_paused
    assert paused.ended_at == clock.current + timedelta(days=11), "the pause froze access"
    resumed = AccessChange.objects.get(action="resume")
    assert (resumed.paused_seconds, resumed.reason) == (2 * 86400, "Back from leave")


def test_pause_over_select_all_keeps_the_filters(operator_client, clock):
    rows = [EnrollmentFactory(ended_at=clock.current + timedelta(days=9)) for _ in range(4)]
    query = "paused=no"
    shown = post_action(
        operator_client, "pause_enrollments", [rows[0].pk], select_across=True, query=query
    )
    assert shown.context["preview"].changed == 4
    assert "For <strong>all 4 enrollments</strong> matching" in shown.content.decode()
    assert shown.context["scope"].cancel_url == changelist_url(query)
    done = confirm_page(operator_client, shown)
    assert done["Location"] == changelist_url(query)
    assert "Paused 4 enrollments." in messages_of(done)
    assert AccessChange.objects.filter(action="pause").count() == 4


def test_a_removed_enrollment_is_skipped_by_name(operator_client, clock):
    removed = EnrollmentFactory(removed_at=clock.current - timedelta(days=1))
    shown = post_action(
        operator_client, "pause_enrollments", [removed.pk], query="access_state=any"
    )
    [row] = shown.context["preview"].skipped_rows
    assert row.reason == "Student was removed from this course"
    assert 'disabled title="Nothing would change"' in shown.content.decode()


def test_confirming_twice_applies_once_and_shows_the_new_preview(operator_client, mixed):
    running, _ = mixed
    shown = post_action(operator_client, "pause_enrollments", [running[0].pk])
    confirm_page(operator_client, shown, "first")
    again = confirm_page(operator_client, shown, "second")
    assert again.status_code == 200
    assert again.context["notice"] == (
        "The enrollments changed since the preview: nothing was applied: "
        "check the new preview and confirm again."
    )
    [row] = again.context["preview"].skipped_rows
    assert row.reason == "Course membership is already paused"
    html = again.content.decode()
    assert 'class="errornote changed-notice" role="alert" tabindex="-1" data-focus-on-load' in html
    assert 'id="preview-heading" tabindex="-1">' in html, "the notice takes the focus"
    assert list(AccessChange.objects.values_list("reason", flat=True)) == ["first"]


def test_a_confirm_without_the_previewed_fingerprint_applies_nothing(operator_client, mixed):
    running, _ = mixed
    shown = post_action(operator_client, "pause_enrollments", [running[0].pk])
    for fingerprint in ("", "0" * 64):
        refused = confirm_page(operator_client, shown, fingerprint=fingerprint)
        assert refused.status_code == 200
        assert refused.context["notice"].startswith("The enrollments changed since the preview")
    assert AccessChange.objects.count() == 0


@pytest.mark.parametrize(
    "reason", ["x" * 1001, "nul \x00 inside"], ids=["over 1000 characters", "NUL"]
)
def test_a_bad_reason_changes_nothing_and_is_shown_at_its_field(operator_client, mixed, reason):
    running, _ = mixed
    shown = post_action(operator_client, "pause_enrollments", [e.pk for e in running])
    before = snapshot()
    refused = confirm_page(operator_client, shown, reason)
    assert refused.status_code == 200
    assert snapshot() == before
    message = "A reason is at most 1000 characters of valid text and contains no NUL character"
    assert refused.context["form"].errors == {"reason": [message]}
    html = refused.content.decode()
    assert 'id="id_reason_error"' in html
    assert 'aria-invalid="true"' in html
    assert '<a href="#id_reason">Reason: A reason is at most' in html
    assert 'id="form-errors" role="alert" tabindex="-1" data-focus-on-load' in html
    assert refused.context["preview"].changed == 2, "the preview is shown again"
    # Corrected, the same page confirms.
    done = confirm_page(operator_client, refused, "fixed")
    assert "Paused 2 enrollments." in messages_of(done)


def test_a_malformed_id_is_refused_without_a_server_error(operator_client, mixed):
    response = post_action(operator_client, "pause_enrollments", ["nope"])
    assert response.status_code == 302
    assert "Invalid selection: malformed enrollment id" in messages_of(response)
    assert AccessChange.objects.count() == 0


def test_the_preview_costs_the_same_queries_at_any_size(
    operator_client, clock, django_assert_num_queries
):
    """Session, user, permissions (user and group), the changelist Django builds before running
    the action (the course filter's choices, read once with the user's course roles:
    admin/scoping.py, and its one COUNT), the rows read for the plan, the named rows of the
    tables and the webhook endpoints (what Confirm sends): whatever the number of rows."""
    for count in (2, 20):
        rows = [EnrollmentFactory(ended_at=clock.current + timedelta(days=9)) for _ in range(count)]
        with django_assert_num_queries(9):
            shown = post_action(operator_client, "pause_enrollments", [e.pk for e in rows])
        assert shown.context["preview"].changed == count


# -- permissions ------------------------------------------------------------------------------


def test_the_actions_and_buttons_need_the_permission(viewer_client, mixed):
    running, paused = mixed
    before = snapshot()
    for action in ("pause_enrollments", "resume_enrollments"):
        response = post_action(viewer_client, action, [e.pk for e in [*running, paused]])
        assert response.status_code in (200, 302)  # the changelist, no action run
        assert "preview" not in (response.context or {})
    for name, target in (("pause", running[0]), ("resume", paused)):
        assert viewer_client.get(url_of(name, target)).status_code == 403
        assert viewer_client.post(url_of(name, target), {"_confirm": "Confirm"}).status_code == 403
    assert snapshot() == before


def test_a_crafted_confirm_without_the_permission_changes_nothing(
    operator_client, viewer_client, mixed
):
    """The previewed page of a staff member who holds the permission, confirmed by one who
    does not: the page's URLs (the changelist choice's and the button's) answer 403."""
    running, _ = mixed
    shown = post_action(operator_client, "pause_enrollments", [running[0].pk])
    before = snapshot()
    assert confirm_page(viewer_client, shown, "crafted").status_code == 403
    page = operator_client.get(url_of("pause", running[0]))
    assert confirm_page(viewer_client, page, "crafted").status_code == 403
    assert snapshot() == before


def test_without_view_access_the_confirmation_page_is_refused(db, mixed):
    """Holding pause_enrollment without access to enrollments at all: 403."""
    client = logged_in(grant(StaffFactory(), "pause_enrollment"))
    enrollment = mixed[0][0]
    assert client.get(url_of("pause", enrollment)).status_code == 403
    assert AccessChange.objects.count() == 0


# -- the change page's buttons ----------------------------------------------------------------


def test_change_page_buttons_lead_to_the_confirmation_page(operator_client, mixed, clock):
    enrollment = mixed[0][0]
    change = reverse("admin:enrollments_enrollment_change", args=[enrollment.pk])
    page = operator_client.get(change).content.decode()
    assert f'<a href="{url_of("pause", enrollment)}" class="pause-link">Pause…</a>' in page
    assert url_of("resume", enrollment) not in page

    before = snapshot()
    shown = operator_client.get(url_of("pause", enrollment))
    assert shown.status_code == 200
    assert shown.context["enrollment"] == enrollment
    assert shown.context["scope"].form_url == url_of("pause", enrollment)
    assert shown.context["scope"].cancel_url == change
    assert "For <strong>" in shown.content.decode()
    # A POST without Confirm (e.g. an old form of the one-click button) applies nothing.
    repeated = operator_client.post(url_of("pause", enrollment))
    assert repeated.status_code == 200
    assert snapshot() == before

    done = confirm_page(operator_client, shown, "Sick leave")
    assert done["Location"] == change
    assert "Paused this enrollment." in messages_of(done)
    assert AccessChange.objects.get(action="pause").reason == "Sick leave"
    # Its page now offers Resume; the same page again skips with the reason.
    page = operator_client.get(change).content.decode()
    assert f'<a href="{url_of("resume", enrollment)}" class="resume-link">Resume…</a>' in page
    again = operator_client.get(url_of("pause", enrollment))
    assert [r.reason for r in again.context["preview"].skipped_rows] == [
        "Course membership is already paused"
    ]

    clock.advance(hours=5)
    resume_page = operator_client.get(url_of("resume", enrollment))
    done = confirm_page(operator_client, resume_page, "Back")
    assert "Resumed this enrollment." in messages_of(done)
    enrollment.refresh_from_db()
    assert not enrollment.is_paused
    assert enrollment.total_paused_duration == 5 * 3600
    assert AccessChange.objects.get(action="resume").reason == "Back"


def test_a_button_confirmed_twice_applies_once(operator_client, mixed):
    enrollment = mixed[0][0]
    shown = operator_client.get(url_of("pause", enrollment))
    confirm_page(operator_client, shown)
    again = confirm_page(operator_client, shown)
    assert again.status_code == 200
    assert again.context["notice"].startswith("The enrollments changed since the preview")
    assert AccessChange.objects.filter(action="pause").count() == 1


def test_a_bad_reason_on_a_button_page_changes_nothing(operator_client, mixed):
    enrollment = mixed[0][0]
    shown = operator_client.get(url_of("pause", enrollment))
    before = snapshot()
    refused = confirm_page(operator_client, shown, "x" * 1001)
    assert refused.status_code == 200
    assert "reason" in refused.context["form"].errors
    assert snapshot() == before


@pytest.mark.parametrize("object_id", ["nope", "00000000-0000-0000-0000-000000000000"])
def test_buttons_answer_unknown_and_malformed_ids_with_not_found(operator_client, object_id):
    for name in ("pause", "resume"):
        url = reverse(f"admin:enrollments_enrollment_{name}_one", args=[object_id])
        for response in (
            operator_client.get(url),
            operator_client.post(url, {"_confirm": "Confirm"}),
        ):
            assert response.status_code == 302
            assert response["Location"] == changelist_url()
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
        response = operator_client.get(url_of(name, hidden))
        assert response["Location"] == changelist_url()
        assert "Enrollment not found." in messages_of(response)
    assert AccessChange.objects.count() == 0


def test_an_enrollment_gone_before_the_lock_is_not_found(operator_client, mixed, monkeypatch):
    """The core re-reads the row under a lock on Confirm; if it is gone by then, the page says
    so and goes back to the list (the enrollment's page no longer exists)."""
    from enrollments.operations import core

    enrollment = mixed[0][0]
    shown = operator_client.get(url_of("pause", enrollment))
    real_read = core._read_rows
    monkeypatch.setattr(
        core, "_read_rows", lambda selection, lock: [] if lock else real_read(selection, lock=lock)
    )
    response = confirm_page(operator_client, shown)
    assert response["Location"] == changelist_url()
    assert messages_of(response) == ["Enrollment not found."]
    assert AccessChange.objects.count() == 0
