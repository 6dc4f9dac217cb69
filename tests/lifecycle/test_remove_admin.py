"""The admin's "Remove from course…" action and the enrollment page's button: preview with
reason, Confirm, permission, the changelist's default filter."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from enrollments.models import AccessChange
from tests.admin.conftest import grant, logged_in
from tests.admin.helpers import changelist_url, confirm_page, post_action
from tests.commands.conftest import snapshot
from tests.factories import EnrollmentFactory, StaffFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def remover_client(db):
    return logged_in(grant(StaffFactory(), "view_enrollment", "remove_from_course"))


def confirm(client, response, reason):
    return confirm_page(client, response, reason)


def test_preview_writes_nothing_then_confirm_removes_with_the_reason(remover_client, clock):
    enrollments = [EnrollmentFactory() for _ in range(2)]
    before = snapshot()
    shown = post_action(remover_client, "remove_from_course", [e.pk for e in enrollments])
    assert shown.status_code == 200
    assert shown.context["plan"].changed_count == 2
    assert snapshot() == before

    done = confirm(remover_client, shown, "left the company")
    assert done.status_code == 302
    assert "Removed 2 enrollments." in [str(m) for m in get_messages(done.wsgi_request)]
    audits = AccessChange.objects.filter(action="remove")
    assert sorted((a.source, a.reason) for a in audits) == [("admin", "left the company")] * 2
    for enrollment in enrollments:
        enrollment.refresh_from_db()
        assert enrollment.removed_at == clock.current

    listed = remover_client.get(changelist_url())
    assert listed.context["cl"].result_count == 0
    removed = remover_client.get(changelist_url("access_state=removed"))
    assert removed.context["cl"].result_count == 2


def test_confirming_twice_applies_once(remover_client):
    enrollment = EnrollmentFactory()
    shown = post_action(remover_client, "remove_from_course", [enrollment.pk])
    confirm(remover_client, shown, "")
    again = confirm(remover_client, shown, "")
    assert again.status_code == 200
    assert again.context["error"].startswith("The enrollments changed since the preview")
    assert AccessChange.objects.filter(action="remove").count() == 1


def test_a_bad_reason_changes_nothing(remover_client):
    enrollment = EnrollmentFactory()
    shown = post_action(remover_client, "remove_from_course", [enrollment.pk])
    before = snapshot()
    refused = confirm(remover_client, shown, "x" * 1001)
    assert refused.status_code == 200
    assert refused.context["error"].startswith("A reason is at most 1000 characters")
    assert snapshot() == before


def test_the_action_needs_its_permission(db):
    client = logged_in(grant(StaffFactory(), "view_enrollment", "pause_enrollment"))
    enrollment = EnrollmentFactory()
    before = snapshot()
    response = post_action(client, "remove_from_course", [enrollment.pk])
    assert response.status_code in (200, 302)
    assert "plan" not in (response.context or {})
    assert snapshot() == before


# -- the enrollment page's "Remove from course…" button ------------------------------------------


def remove_url(enrollment) -> str:
    return reverse("admin:enrollments_enrollment_remove_one", args=[enrollment.pk])


def test_the_change_page_button_removes_after_the_confirmation(remover_client, clock):
    enrollment = EnrollmentFactory()
    change = reverse("admin:enrollments_enrollment_change", args=[enrollment.pk])
    page = remover_client.get(change).content.decode()
    assert f'<a href="{remove_url(enrollment)}" class="remove-link">Remove from course…</a>' in page

    before = snapshot()
    shown = remover_client.get(remove_url(enrollment))
    assert shown.status_code == 200
    assert shown.context["enrollment"] == enrollment
    assert [r.enrollment_id for r in shown.context["preview"].changed_rows] == [enrollment.pk]
    assert remover_client.post(remove_url(enrollment)).status_code == 200, "no Confirm: a page"
    assert snapshot() == before

    done = confirm_page(remover_client, shown, "refunded")
    assert done["Location"] == change
    assert "Removed this enrollment." in [str(m) for m in get_messages(done.wsgi_request)]
    enrollment.refresh_from_db()
    assert enrollment.removed_at == clock.current
    assert AccessChange.objects.get(action="remove").reason == "refunded"
    # Its page stays reachable (nothing is deleted), without the button now.
    page = remover_client.get(change)
    assert page.status_code == 200
    assert "remove-link" not in page.content.decode()
    # Confirmed twice: applied once, the new preview says why.
    again = confirm_page(remover_client, shown, "refunded")
    assert again.status_code == 200
    [row] = again.context["preview"].skipped_rows
    assert row.reason == "Student is already removed from this course"
    assert AccessChange.objects.filter(action="remove").count() == 1


def test_the_change_page_button_needs_the_permission(db):
    client = logged_in(grant(StaffFactory(), "view_enrollment", "pause_enrollment"))
    enrollment = EnrollmentFactory()
    change = reverse("admin:enrollments_enrollment_change", args=[enrollment.pk])
    assert "remove-link" not in client.get(change).content.decode()
    before = snapshot()
    assert client.get(remove_url(enrollment)).status_code == 403
    assert client.post(remove_url(enrollment), {"_confirm": "Confirm"}).status_code == 403
    assert snapshot() == before


def test_the_change_page_button_answers_unknown_ids_with_not_found(remover_client):
    response = remover_client.get(reverse("admin:enrollments_enrollment_remove_one", args=["nope"]))
    assert response.status_code == 302
    assert response["Location"] == changelist_url()
    assert AccessChange.objects.count() == 0
