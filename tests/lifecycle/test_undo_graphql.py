"""`undoAccessChangeBatch`: restored and skipped rows, unknown and malformed ids, the
permission, undo twice, the audit rows (source graphql, actor, reason)."""

import uuid
from datetime import timedelta

import pytest

from enrollments.models import AccessChange
from enrollments.operations import Pause, Resume, Selection, apply
from enrollments.operations.audit import Attribution
from lms.models import CourseRole
from tests.admin.conftest import grant
from tests.commands.conftest import snapshot
from tests.factories import (
    CourseFactory,
    CourseRoleFactory,
    EnrollmentFactory,
    StaffFactory,
    UserFactory,
)
from tests.graphql.conftest import error_codes

pytestmark = pytest.mark.django_db

SYSTEM = Attribution(None, AccessChange.Source.SYSTEM)

UNDO = """
mutation ($batchId: ID!, $reason: String) {
  undoAccessChangeBatch(batchId: $batchId, reason: $reason) {
    batchId undoneCount skipped { enrollmentId code message }
    errors { field message code }
  }
}
"""


@pytest.fixture
def undoer(db):
    return grant(StaffFactory(), "undo_batch")


@pytest.fixture
def paused(clock):
    """Three enrollments paused in one batch, an hour after they were made."""
    course = CourseFactory()
    rows = [
        EnrollmentFactory(
            course=course,
            user=UserFactory(),
            start_at=clock.current - timedelta(days=10),
            ended_at=clock.current + timedelta(days=20),
        )
        for _ in range(3)
    ]
    clock.advance(hours=1)
    done = apply(Pause(), Selection.named([e.pk for e in rows]), SYSTEM)
    clock.advance(hours=1)
    return done.batch_id, rows


def undo(api, key, batch_id, reason=None):
    body = api.post(UNDO, {"batchId": str(batch_id), "reason": reason}, key=key)
    return body, (body.get("data") or {}).get("undoAccessChangeBatch")


def test_undo_restores_and_reports_the_new_batch(api, make_key, undoer, paused):
    batch_id, rows = paused
    _body, payload = undo(api, make_key(undoer), batch_id, "by mistake")
    assert payload["errors"] == []
    assert (payload["undoneCount"], payload["skipped"]) == (3, [])
    for enrollment in rows:
        enrollment.refresh_from_db()
        assert (enrollment.is_paused, enrollment.paused_at) == (False, None)
    audit = AccessChange.objects.filter(batch_id=payload["batchId"])
    assert {(a.action, a.source, a.actor, a.reason, a.undoes_batch_id) for a in audit} == {
        ("undo", "graphql", undoer, "by mistake", batch_id)
    }
    assert {(a.old_is_paused, a.new_is_paused) for a in audit} == {(True, False)}


def test_a_row_changed_since_is_skipped(api, make_key, undoer, paused, clock):
    batch_id, rows = paused
    apply(Resume(), Selection.named([rows[0].pk]), SYSTEM)
    clock.advance(hours=1)
    _body, payload = undo(api, make_key(undoer), batch_id)
    assert payload["undoneCount"] == 2
    assert payload["skipped"] == [
        {
            "enrollmentId": str(rows[0].pk),
            "code": "CHANGED_SINCE_BATCH",
            "message": "The enrollment changed after this batch: it was left as it is",
        }
    ]


def test_undo_twice_changes_nothing_the_second_time(api, make_key, undoer, paused, clock):
    batch_id, _rows = paused
    key = make_key(undoer)
    undo(api, key, batch_id)
    before = snapshot()
    clock.advance(hours=1)
    _body, payload = undo(api, key, batch_id)
    assert (payload["batchId"], payload["undoneCount"]) == (None, 0)
    assert {s["code"] for s in payload["skipped"]} == {"CHANGED_SINCE_BATCH"}
    assert snapshot() == before


@pytest.mark.parametrize("bad", ["not-a-uuid", "5c959614-800d-48a0-98ab-4bd49d931fe8", ""])
def test_unknown_and_malformed_batches_are_batch_not_found(api, make_key, undoer, paused, bad):
    before = snapshot()
    _body, payload = undo(api, make_key(undoer), bad)
    assert payload["errors"] == [
        {
            "field": "batchId",
            "message": "No access changes with this batch id",
            "code": "BATCH_NOT_FOUND",
        }
    ]
    assert (payload["batchId"], payload["undoneCount"], payload["skipped"]) == (None, None, None)
    assert snapshot() == before


def test_a_bad_reason_changes_nothing(api, make_key, undoer, paused):
    batch_id, _rows = paused
    before = snapshot()
    _body, payload = undo(api, make_key(undoer), batch_id, "x" * 1001)
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [("reason", "INVALID_REASON")]
    assert snapshot() == before


def test_the_permission_is_needed(api, make_key, manager, paused):
    batch_id, _rows = paused
    before = snapshot()
    body, _payload = undo(api, make_key(manager), batch_id)
    assert error_codes(body) == ["FORBIDDEN"]
    assert snapshot() == before


def test_without_the_errors_field_a_business_error_is_top_level(api, make_key, undoer, db):
    body = api.post(
        'mutation { undoAccessChangeBatch(batchId: "x") { undoneCount } }', key=make_key(undoer)
    )
    assert error_codes(body) == ["BATCH_NOT_FOUND"]


def test_a_batch_whose_run_is_unfinished_is_refused_in_errors(api, make_key, undoer, failed_run):
    before = snapshot()
    _body, payload = undo(api, make_key(undoer), failed_run.batch_id)
    assert payload["errors"] == [
        {
            "field": "batchId",
            "message": "This batch's run is unfinished: undo it once the run is done or cancelled",
            "code": "BATCH_RUN_UNFINISHED",
        }
    ]
    assert payload["batchId"] is None
    assert snapshot() == before


def test_another_courses_unfinished_batch_answers_as_no_batch(api, make_key, failed_run):
    """A course manager may undo their course's batches: another course's batch answers as
    one that does not exist, whatever the state of its run (BATCH_RUN_UNFINISHED would tell
    it from none; docs/api.md "Out of scope is not found")."""
    manager = CourseRoleFactory(course=CourseFactory(), role=CourseRole.Role.MANAGER).user
    key = make_key(manager)
    missing, _payload = undo(api, key, uuid.uuid4())
    before = snapshot()
    outside, _payload = undo(api, key, failed_run.batch_id)
    assert outside == missing
    assert outside["data"]["undoAccessChangeBatch"]["errors"][0]["code"] == "BATCH_NOT_FOUND"
    assert snapshot() == before
