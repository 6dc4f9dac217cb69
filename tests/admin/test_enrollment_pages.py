"""The enrollment change and add pages, and the read-only audit trail."""

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from enrollments.models import AccessChange, Enrollment
from enrollments.operations import Extend, Pause, apply_to_one
from enrollments.operations.audit import Attribution
from tests.admin.conftest import grant, logged_in
from tests.admin.helpers import confirm, preview
from tests.factories import (
    AccessChangeFactory,
    CourseFactory,
    EnrollmentFactory,
    StaffFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def change_url(enrollment) -> str:
    return reverse("admin:enrollments_enrollment_change", args=[enrollment.pk])


def add(client, learner, course, start_at: str):
    """Posts the "Add enrollment" form as the browser does: who, which course, the start."""
    return client.post(
        reverse("admin:enrollments_enrollment_add"),
        {"user": learner.pk, "course": course.pk, "start_at": start_at, "_save": "Save"},
    )


def test_rule_fields_are_read_only_and_a_crafted_post_changes_nothing(operator_client, enrollment):
    page = operator_client.get(change_url(enrollment))
    form = page.context["adminform"].form
    assert set(form.fields) == set(), "nothing on an existing enrollment is editable"
    html = page.content.decode()
    assert 'name="ended_at"' not in html and 'name="is_paused"' not in html
    assert 'name="_save"' not in html, "no save button on a page with nothing to save"
    before = Enrollment.objects.values().get(pk=enrollment.pk)
    operator_client.post(
        change_url(enrollment),
        {
            "ended_at_0": "2037-01-01",
            "ended_at_1": "00:00:00",
            "is_paused": "on",
            "total_paused_duration": "99",
            "access_changes-TOTAL_FORMS": "0",
            "access_changes-INITIAL_FORMS": "0",
            "_save": "Save",
        },
    )
    after = Enrollment.objects.values().get(pk=enrollment.pk)
    assert {k: v for k, v in after.items() if k != "updated_at"} == {
        k: v for k, v in before.items() if k != "updated_at"
    }
    assert AccessChange.objects.count() == 0


def test_change_page_shows_the_button_and_the_history_newest_first(
    operator_client, operator, enrollment, clock
):
    apply_to_one(Extend(days=5), enrollment, Attribution(operator, "graphql", "first"))
    clock.advance(hours=1)
    apply_to_one(Pause(), enrollment, Attribution(None, "system"))
    clock.advance(hours=1)
    apply_to_one(Extend(days=7), enrollment, Attribution(operator, "admin", "third"))
    page = operator_client.get(change_url(enrollment))
    html = page.content.decode()
    assert reverse("admin:enrollments_enrollment_extend_access_one", args=[enrollment.pk]) in html
    [inline] = page.context["inline_admin_formsets"]
    shown = [form.original.reason or form.original.action for form in inline]
    assert shown == ["third", "pause", "first"]
    assert not inline.has_add_permission and not inline.has_change_permission
    assert not inline.has_delete_permission
    # The page's buttons (the history rows above also say "Extend by days" and "Pause"):
    # the enrollment is paused now, so the pause button offers Resume.
    tools = html.split('<ul class="object-tools">')[1].split("</ul>")[0]
    assert 'class="extend-access-link">Extend access</a>' in tools
    resume = reverse("admin:enrollments_enrollment_resume_one", args=[enrollment.pk])
    assert f'<a href="{resume}" class="resume-link">Resume…</a>' in tools
    assert "pause-link" not in tools


def test_the_change_page_button_is_hidden_without_the_permission(viewer_client, enrollment):
    html = viewer_client.get(change_url(enrollment)).content.decode()
    assert "extend-access" not in html
    assert "/pause/" not in html


def test_extend_one_enrollment_from_its_page(operator_client, enrollment):
    url = reverse("admin:enrollments_enrollment_extend_access_one", args=[enrollment.pk])
    page = operator_client.get(url)
    assert page.status_code == 200
    assert page.context["scope"].enrollment == enrollment
    assert page.context["scope"].hidden_fields == ()
    shown = preview(operator_client, page, url=url, days="10")
    [row] = shown.context["preview"].changed_rows
    assert row.enrollment_id == enrollment.pk
    done = confirm(operator_client, shown, url=url, days="10")
    assert done["Location"] == change_url(enrollment)
    old_end = enrollment.ended_at
    enrollment.refresh_from_db()
    assert enrollment.ended_at == old_end + timedelta(days=10)
    assert AccessChange.objects.get(enrollment=enrollment).source == "admin"


def test_extend_one_unknown_enrollment(operator_client):
    for pk in ("nope", "6f0e9a4c-9b7e-4c47-9d3a-2b0a1c5d7e8f"):
        url = reverse("admin:enrollments_enrollment_extend_access_one", args=[pk])
        response = operator_client.get(url)
        assert response.status_code == 302
        assert "Enrollment not found." in [str(m) for m in get_messages(response.wsgi_request)]


def test_enrollments_cannot_be_deleted_from_the_admin(client, admin_user, enrollment):
    client.force_login(admin_user)
    assert (
        client.get(reverse("admin:enrollments_enrollment_delete", args=[enrollment.pk])).status_code
        == 403
    )
    changelist = client.get(reverse("admin:enrollments_enrollment_changelist"))
    assert "delete_selected" not in dict(changelist.context["action_form"].fields["action"].choices)


def test_adding_an_enrollment_goes_through_the_core(client, admin_user, clock):
    client.force_login(admin_user)
    learner, course = UserFactory(), CourseFactory(access_days=30)
    response = add(client, learner, course, "")
    assert response.status_code == 302
    enrollment = Enrollment.objects.get(user=learner, course=course)
    assert enrollment.start_at == clock.current
    assert enrollment.ended_at == clock.current + timedelta(days=30)
    audit = AccessChange.objects.get(enrollment=enrollment)
    assert (audit.action, audit.source, audit.actor_id) == ("enroll", "admin", admin_user.pk)


def test_adding_a_duplicate_enrollment_is_a_form_error(client, admin_user, enrollment):
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:enrollments_enrollment_add"),
        {"user": enrollment.user_id, "course": enrollment.course_id, "_save": "Save"},
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    assert Enrollment.objects.count() == 1


def test_adding_with_an_end_past_2038_reports_the_domain_error(client, admin_user):
    client.force_login(admin_user)
    learner, course = UserFactory(), CourseFactory(access_days=3650)
    response = client.post(
        reverse("admin:enrollments_enrollment_add"),
        {
            "user": learner.pk,
            "course": course.pk,
            "start_at": "2037-01-01 00:00:00",
            "_save": "Save",
        },
    )
    assert response.status_code == 302
    texts = [str(m) for m in get_messages(response.wsgi_request)]
    assert any(t.startswith("Not enrolled: Access would end after 2038") for t in texts)
    assert not Enrollment.objects.exists()
    assert not AccessChange.objects.exists()


@pytest.mark.parametrize("start_at", ["9999-12-31 23:59:59", "2038-01-19 03:14:08"])
def test_adding_with_a_start_near_the_calendars_end_reports_the_domain_error(
    client, admin_user, start_at
):
    """Year 9999 plus the course's days overflowed the calendar: it was a 500."""
    client.force_login(admin_user)
    learner, course = UserFactory(), CourseFactory(access_days=30)
    response = add(client, learner, course, start_at)
    assert response.status_code == 302
    texts = [str(m) for m in get_messages(response.wsgi_request)]
    assert any(t.startswith("Not enrolled: Access would end after 2038") for t in texts)
    assert not Enrollment.objects.exists()
    assert not AccessChange.objects.exists()


def test_adding_with_a_start_whose_default_end_precedes_2020_reports_the_domain_error(
    client, admin_user
):
    """A start in 1900 made an end in 1900: refused by the API when asked for, and unreadable
    through it (a 32-bit Int), so a later extension committed and then answered an error."""
    client.force_login(admin_user)
    learner, course = UserFactory(), CourseFactory(access_days=30)
    response = add(client, learner, course, "1900-01-01 00:00")
    assert response.status_code == 302
    texts = [str(m) for m in get_messages(response.wsgi_request)]
    assert any(t.startswith("Not enrolled: Invalid end of access") for t in texts), texts
    assert not Enrollment.objects.exists()
    assert not AccessChange.objects.exists()


@pytest.mark.parametrize(
    ("zone", "start_at", "access_days", "says"),
    [
        # 9999-12-31 23:00 in New York is in year 10000 in UTC; 0001-01-01 00:30 in Tokyo in
        # year 0. Both were server errors (OverflowError when stored).
        ("America/New_York", "9999-12-31 23:00", None, "outside the range of dates"),
        ("Asia/Tokyo", "0001-01-01 00:30", 30, "outside the range of dates"),
        # The clocks skip 02:30 on that night in Berlin: refused, not guessed.
        ("Europe/Berlin", "2026-03-29 02:30", 30, "does not exist in Europe/Berlin"),
    ],
)
def test_a_start_that_names_no_storable_instant_is_a_form_error(
    client, zone, start_at, access_days, says
):
    client.force_login(StaffFactory(is_superuser=True, time_zone=zone))
    learner, course = UserFactory(), CourseFactory(access_days=access_days)
    response = add(client, learner, course, start_at)
    assert response.status_code == 200
    assert says in " ".join(response.context["adminform"].form.errors["start_at"])
    assert not Enrollment.objects.exists()
    assert not AccessChange.objects.exists()


def test_a_start_is_read_in_the_staff_members_zone(client, clock):
    client.force_login(StaffFactory(is_superuser=True, time_zone="Europe/Berlin"))
    learner, course = UserFactory(), CourseFactory(access_days=30)
    response = add(client, learner, course, "2026-03-01 10:00")
    assert response.status_code == 302
    enrollment = Enrollment.objects.get(user=learner, course=course)
    assert enrollment.start_at == datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    assert enrollment.ended_at == datetime(2026, 3, 31, 9, 0, tzinfo=UTC)


def test_audit_records_cannot_be_added_changed_or_deleted(client, admin_user, enrollment):
    client.force_login(admin_user)
    audit = AccessChangeFactory(
        enrollment=enrollment, reason="kept", created_at=datetime(2026, 1, 1, tzinfo=UTC)
    )
    assert client.get(reverse("admin:enrollments_accesschange_add")).status_code == 403
    assert (
        client.get(reverse("admin:enrollments_accesschange_delete", args=[audit.pk])).status_code
        == 403
    )
    page = client.get(reverse("admin:enrollments_accesschange_change", args=[audit.pk]))
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    client.post(
        reverse("admin:enrollments_accesschange_change", args=[audit.pk]), {"reason": "edited"}
    )
    audit.refresh_from_db()
    assert audit.reason == "kept"
    changelist = client.get(reverse("admin:enrollments_accesschange_changelist"))
    assert changelist.status_code == 200
    assert changelist.context["action_form"] is None, "not even delete_selected"


def test_audit_changelist_filters_by_batch(client, admin_user, enrollment):
    client.force_login(admin_user)
    first = AccessChangeFactory(
        enrollment=enrollment, batch_id="5b0c6a43-4a7e-4d8a-9a44-0c3f1d2e7a10"
    )
    AccessChangeFactory(enrollment=enrollment)
    url = reverse("admin:enrollments_accesschange_changelist")
    response = client.get(url, {"batch_id": str(first.batch_id)})
    assert [a.pk for a in response.context["cl"].result_list] == [first.pk]
    response = client.get(url, {"enrollment__id__exact": str(enrollment.pk)})
    assert len(response.context["cl"].result_list) == 2


def test_history_is_visible_to_whoever_sees_the_enrollment(enrollment, operator):
    AccessChangeFactory(enrollment=enrollment, reason="visible")
    reader = logged_in(grant(StaffFactory(), "view_enrollment"))
    page = reader.get(change_url(enrollment))
    assert page.status_code == 200
    assert "visible" in page.content.decode()


def test_history_shows_the_latest_50_and_links_to_the_rest(client, admin_user, enrollment, clock):
    client.force_login(admin_user)
    start = clock.current
    AccessChange.objects.bulk_create(
        AccessChange(
            enrollment=enrollment,
            action="extend",
            source="system",
            reason=f"change {n:02d}",
            created_at=start + timedelta(minutes=n),
        )
        for n in range(60)
    )
    page = client.get(change_url(enrollment))
    [inline] = page.context["inline_admin_formsets"]
    reasons = [form.original.reason for form in inline]
    assert reasons == [f"change {n:02d}" for n in range(59, 9, -1)]
    html = page.content.decode()
    assert "Showing the 50 latest of 60 access changes." in html
    assert f"?enrollment__id__exact={enrollment.pk}" in html


def test_audit_changelist_costs_the_same_queries_for_any_page_size(
    client, admin_user, enrollment, monkeypatch
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from enrollments.admin.access_changes import AccessChangeAdmin

    client.force_login(admin_user)
    for _ in range(30):
        AccessChangeFactory(enrollment=EnrollmentFactory(), actor=admin_user)

    def queries(per_page: int) -> int:
        monkeypatch.setattr(AccessChangeAdmin, "list_per_page", per_page)
        with CaptureQueriesContext(connection) as captured:
            response = client.get(reverse("admin:enrollments_accesschange_changelist"))
        assert len(response.context["cl"].result_list) == per_page
        return len(captured)

    assert queries(5) == queries(30)
