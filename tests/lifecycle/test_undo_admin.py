"""The audit trail's "Undo this batch": the links, the preview (old -> new per enrollment,
skips with reasons), Confirm with a reason, confirming twice, bad input, permissions."""

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from enrollments.models import AccessChange
from enrollments.operations import Extend, Pause, Selection, apply
from enrollments.operations.audit import Attribution
from tests.admin.conftest import grant, logged_in
from tests.commands.conftest import snapshot
from tests.factories import (
    CourseFactory,
    CourseRoleFactory,
    EnrollmentFactory,
    StaffFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

SYSTEM = Attribution(None, AccessChange.Source.SYSTEM)
AUDIT = "admin:enrollments_accesschange_changelist"


def undo_url(batch_id) -> str:
    return reverse("admin:enrollments_accesschange_undo_batch", args=[batch_id])


@pytest.fixture
def undoer(db):
    return grant(StaffFactory(), "view_enrollment", "view_accesschange", "undo_batch")


@pytest.fixture
def undoer_client(undoer):
    return logged_in(undoer)


@pytest.fixture
def batch(clock):
    """Two enrollments extended by 30 days in one batch, an hour after they were made."""
    course = CourseFactory(title="Python")
    rows = [
        EnrollmentFactory(
            course=course,
            user=UserFactory(email=f"l{i}@example.com"),
            start_at=clock.current - timedelta(days=10),
            ended_at=clock.current + timedelta(days=20),
        )
        for i in range(2)
    ]
    clock.advance(hours=1)
    done = apply(Extend(days=30), Selection.named([e.pk for e in rows]), SYSTEM)
    clock.advance(hours=1)
    return done.batch_id, rows


def confirm(client, page, reason=""):
    return client.post(
        page.context["scope"].form_url,
        {"_confirm": "Confirm", "fingerprint": page.context["fingerprint"], "reason": reason},
    )


def test_the_preview_shows_old_and_new_values_and_writes_nothing(undoer_client, batch):
    batch_id, rows = batch
    before = snapshot()
    page = undoer_client.get(undo_url(batch_id))
    assert page.status_code == 200
    assert snapshot() == before
    assert [(r.student, r.restores) for r in page.context["preview"].changed_rows] == [
        ("l0@example.com", [("end of access", "2026-02-20 00:00 UTC", "2026-01-21 00:00 UTC")]),
        ("l1@example.com", [("end of access", "2026-02-20 00:00 UTC", "2026-01-21 00:00 UTC")]),
    ]
    html = page.content.decode()
    assert "2 access changes (Extend by days" in html
    assert 'name="reason"' in html


def test_confirm_restores_with_the_reason_and_lands_on_the_undo_batch(
    undoer_client, undoer, batch, clock
):
    batch_id, rows = batch
    page = undoer_client.get(undo_url(batch_id))
    done = confirm(undoer_client, page, "wrong course")
    assert done.status_code == 302
    assert "Undid the batch for 2 enrollments." in [str(m) for m in get_messages(done.wsgi_request)]
    undo_rows = AccessChange.objects.filter(action="undo")
    assert {(r.source, r.actor, r.reason, r.undoes_batch_id) for r in undo_rows} == {
        ("admin", undoer, "wrong course", batch_id)
    }
    (new_batch,) = {r.batch_id for r in undo_rows}
    assert done["Location"] == f"{reverse(AUDIT)}?batch_id={new_batch}"
    for enrollment in rows:
        enrollment.refresh_from_db()
        assert enrollment.ended_at == clock.current - timedelta(hours=2) + timedelta(days=20)


def test_confirming_twice_applies_once(undoer_client, batch):
    batch_id, _rows = batch
    page = undoer_client.get(undo_url(batch_id))
    confirm(undoer_client, page)
    after_first = snapshot()
    again = confirm(undoer_client, page)
    assert again.status_code == 200
    assert again.context["error"].startswith("The enrollments changed since the preview")
    assert [r.reason for r in again.context["preview"].skipped_rows] == [
        "The enrollment changed after this batch: it was left as it is"
    ] * 2
    assert 'value="Confirm" class="default" disabled' in again.content.decode()
    assert snapshot() == after_first


def test_a_row_changed_since_is_shown_skipped(undoer_client, batch):
    batch_id, rows = batch
    apply(Pause(), Selection.named([rows[1].pk]), SYSTEM)
    page = undoer_client.get(undo_url(batch_id))
    assert [r.student for r in page.context["preview"].changed_rows] == ["l0@example.com"]
    assert [(r.student, r.reason) for r in page.context["preview"].skipped_rows] == [
        ("l1@example.com", "The enrollment changed after this batch: it was left as it is")
    ]


def test_a_bad_reason_changes_nothing(undoer_client, batch):
    batch_id, _rows = batch
    page = undoer_client.get(undo_url(batch_id))
    before = snapshot()
    refused = confirm(undoer_client, page, "x" * 1001)
    assert refused.status_code == 200
    assert refused.context["form"].errors["reason"]
    nul = confirm(undoer_client, page, "a\x00b")
    assert nul.status_code == 200
    assert snapshot() == before


@pytest.mark.parametrize("bad", ["not-a-uuid", "00000000-0000-0000-0000-000000000000"])
def test_unknown_and_malformed_batches_go_back_to_the_trail(undoer_client, batch, bad):
    before = snapshot()
    response = undoer_client.post(undo_url(bad), {"_confirm": "Confirm", "fingerprint": "x"})
    assert response.status_code == 302
    assert response["Location"] == reverse(AUDIT)
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "No access changes with this batch id"
    ]
    assert snapshot() == before


def test_without_the_permission_no_link_and_403(batch):
    batch_id, rows = batch
    client = logged_in(grant(StaffFactory(), "view_enrollment", "view_accesschange"))
    before = snapshot()
    assert client.get(undo_url(batch_id)).status_code == 403
    page = client.get(undo_url(batch_id))
    assert page.status_code == 403
    posted = client.post(undo_url(batch_id), {"_confirm": "Confirm", "fingerprint": "x"})
    assert posted.status_code == 403
    listed = client.get(f"{reverse(AUDIT)}?batch_id={batch_id}")
    assert "Undo this batch" not in listed.content.decode()
    change = client.get(reverse("admin:enrollments_enrollment_change", args=[rows[0].pk]))
    assert "Undo this batch" not in change.content.decode()
    assert snapshot() == before


def test_the_links_from_the_audit_trail(undoer_client, batch):
    batch_id, rows = batch
    url = undo_url(batch_id)
    listed = undoer_client.get(f"{reverse(AUDIT)}?batch_id={batch_id}")
    assert listed.context["cl"].result_count == 2
    assert f'href="{url}"' in listed.content.decode()
    record = AccessChange.objects.filter(batch_id=batch_id).first()
    page = undoer_client.get(reverse("admin:enrollments_accesschange_change", args=[record.pk]))
    html = page.content.decode()
    assert f'href="{url}"' in html
    assert f'href="{reverse(AUDIT)}?batch_id={batch_id}"' in html
    change = undoer_client.get(reverse("admin:enrollments_enrollment_change", args=[rows[0].pk]))
    assert f'href="{url}"' in change.content.decode()


def test_a_global_undo_holder_undoes_only_batches_of_courses_they_see(batch, clock):
    """Django's global undo permission with a role in another course: the page of this batch
    (a course they cannot see) answers as an unknown batch and changes nothing; their own
    course's batch opens. It named the other course's learners and applied before."""
    batch_id, rows = batch
    own = CourseFactory(title="Their course")
    theirs = EnrollmentFactory(course=own, ended_at=clock.current + timedelta(days=5))
    own_batch = apply(Extend(days=1), Selection.named([theirs.pk]), SYSTEM).batch_id
    staff = grant(StaffFactory(), "undo_batch")
    CourseRoleFactory(user=staff, course=own, role="staff")
    client = logged_in(staff)
    unchanged = snapshot()
    page = client.get(undo_url(batch_id), follow=True)
    assert "l0@example.com" not in page.content.decode()
    assert [str(m) for m in get_messages(page.wsgi_request)] == [
        "No access changes with this batch id"
    ]
    assert snapshot() == unchanged
    assert client.get(undo_url(own_batch)).status_code == 200


def test_a_batch_whose_run_is_unfinished_is_refused_with_the_reason(undoer_client, failed_run):
    unchanged = snapshot()
    page = undoer_client.get(undo_url(failed_run.batch_id), follow=True)
    assert [str(m) for m in get_messages(page.wsgi_request)] == [
        "This batch's run is unfinished: undo it once the run is done or cancelled"
    ]
    assert snapshot() == unchanged
