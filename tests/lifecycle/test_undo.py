"""Undoing a batch in the core and through `manage.py undo_batch`: each operation's batch
restored exactly, rows changed since skipped, unknown and malformed ids, undo twice, the
audit rows of the undo."""

import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from enrollments.errors import BatchNotFound, BatchRunUnfinished, ChangedSincePreview
from enrollments.models import AccessChange, Enrollment, OperationRun
from enrollments.operations import (
    Extend,
    Pause,
    Remove,
    Resume,
    Selection,
    Undo,
    apply,
    preview,
    runs,
)
from enrollments.operations.audit import Attribution
from enrollments.operations.enrolling import Enroll, PairToEnroll, enroll
from enrollments.operations.scope import Scope
from enrollments.operations.undoing import batch_selection
from tests.admin.conftest import grant
from tests.commands.conftest import run_command, snapshot
from tests.factories import CourseFactory, EnrollmentFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

SYSTEM = Attribution(None, AccessChange.Source.SYSTEM)
STATE = ("ended_at", "is_paused", "paused_at", "total_paused_duration", "removed_at")


def state(enrollment) -> tuple:
    enrollment.refresh_from_db()
    return tuple(getattr(enrollment, name) for name in STATE)


def run(operation, enrollments, by=SYSTEM):
    return apply(operation, Selection.named([e.pk for e in enrollments]), by)


def undo(batch_id, by=SYSTEM, **kwargs):
    return apply(Undo(batch_id), batch_selection(batch_id), by, **kwargs)


@pytest.fixture
def three(clock):
    course = CourseFactory(slug="c", pause_freezes_access=True)
    return [
        EnrollmentFactory(
            course=course,
            user=UserFactory(email=f"l{i}@example.com"),
            start_at=clock.current - timedelta(days=10),
            ended_at=clock.current + timedelta(days=20 + i),
        )
        for i in range(3)
    ]


@pytest.mark.parametrize(
    "operation",
    [Extend(days=30), Extend(until=None, indefinite=True), Pause(), Remove()],
    ids=["extend", "indefinite", "pause", "remove"],
)
def test_undo_restores_every_row_of_the_batch(three, clock, operation):
    if operation == Extend(indefinite=True):
        operation = Extend(until=clock.current + timedelta(days=400))  # set_end
    before = [state(e) for e in three]
    clock.advance(hours=1)
    done = run(operation, three)
    assert done.changed_count == 3
    clock.advance(hours=1)

    undone = undo(done.batch_id)

    assert (undone.changed_count, undone.skipped_count) == (3, 0)
    assert [state(e) for e in three] == before
    assert undone.batch_id != done.batch_id


def test_undo_of_a_resume_restores_the_pause_exactly(three, clock):
    ann = three[0]
    clock.advance(hours=1)
    run(Pause(), [ann])
    clock.advance(days=3)
    paused = state(ann)
    resumed = run(Resume(), [ann])
    after_resume = state(ann)
    assert after_resume[0] == paused[0] + timedelta(days=3)  # the pause froze the end
    assert after_resume[3] == 3 * 86400
    clock.advance(hours=1)

    undo(resumed.batch_id)

    assert state(ann) == paused
    assert paused[1:4] == (True, clock.current - timedelta(days=3, hours=1), 0)


def test_undo_writes_audit_rows_naming_the_batch(three, clock):
    staff = grant(StaffFactory(), "undo_batch")
    clock.advance(hours=1)
    done = run(Extend(days=30), three)
    clock.advance(hours=1)

    undone = undo(done.batch_id, Attribution(staff, AccessChange.Source.ADMIN, "wrong course"))

    rows = AccessChange.objects.filter(batch_id=undone.batch_id)
    assert rows.count() == 3
    for row in rows:
        original = AccessChange.objects.get(batch_id=done.batch_id, enrollment=row.enrollment)
        assert row.action == AccessChange.Action.UNDO
        assert row.undoes_batch_id == done.batch_id
        assert (row.old_ended_at, row.new_ended_at) == (
            original.new_ended_at,
            original.old_ended_at,
        )
        assert (row.actor, row.source, row.reason) == (staff, "admin", "wrong course")
        assert row.created_at == clock.current


def test_a_row_changed_since_is_skipped_and_the_others_restored(three, clock):
    before = [state(e) for e in three]
    clock.advance(hours=1)
    done = run(Extend(days=30), three)
    clock.advance(hours=1)
    run(Pause(), [three[1]])
    changed = state(three[1])
    clock.advance(hours=1)

    undone = undo(done.batch_id)

    assert [(s.enrollment_id, s.error.code) for s in undone.skips] == [
        (three[1].pk, "CHANGED_SINCE_BATCH")
    ]
    assert [state(e) for e in three] == [before[0], changed, before[2]]


def test_a_change_in_the_same_clock_tick_counts_as_later(three, clock):
    clock.advance(hours=1)
    done = run(Extend(days=30), three[:1])
    run(Pause(), three[:1])  # same instant: the undo cannot tell the order, so it skips
    plan = preview(Undo(done.batch_id), batch_selection(done.batch_id))
    assert [skip.error.code for skip in plan.skips] == ["CHANGED_SINCE_BATCH"]


def test_undo_twice_changes_nothing_the_second_time(three, clock):
    clock.advance(hours=1)
    done = run(Remove(), three)
    clock.advance(hours=1)
    undo(done.batch_id)
    restored = snapshot()
    clock.advance(hours=1)

    again = undo(done.batch_id)

    assert again.changed_count == 0
    assert {s.error.code for s in again.skips} == {"CHANGED_SINCE_BATCH"}
    assert snapshot() == restored


def test_undoing_an_undo_applies_the_batch_again(three, clock):
    clock.advance(hours=1)
    done = run(Extend(days=30), three)
    extended = [state(e) for e in three]
    clock.advance(hours=1)
    undone = undo(done.batch_id)
    clock.advance(hours=1)

    redone = undo(undone.batch_id)

    assert redone.changed_count == 3
    assert [state(e) for e in three] == extended
    assert set(
        AccessChange.objects.filter(batch_id=redone.batch_id).values_list(
            "undoes_batch_id", flat=True
        )
    ) == {undone.batch_id}


def test_undo_of_an_enrollment_that_created_the_enrollment_removes_it(clock):
    enrollment = EnrollmentFactory()
    batch = uuid.uuid4()
    AccessChange.objects.create(
        enrollment=enrollment,
        action=AccessChange.Action.ENROLL,
        new_ended_at=enrollment.ended_at,
        new_is_paused=False,
        source="admin",
        batch_id=batch,
        created_at=clock.current,
    )
    clock.advance(hours=1)
    undone = undo(batch)
    assert undone.changed_count == 1
    assert state(enrollment)[4] == clock.current
    assert Enrollment.objects.filter(pk=enrollment.pk).exists()  # nothing deleted


def test_undo_of_an_enrollment_that_restored_a_removed_learner_removes_them_again(clock):
    """The removal mark is part of the state an audit row keeps: re-enrolling a removed
    learner, then undoing that enrollment, puts back the removal as it was (same instant)."""
    enrollment = EnrollmentFactory(ended_at=clock.current + timedelta(days=30))
    run(Remove(), [enrollment])
    removed = state(enrollment)
    clock.advance(hours=1)
    enrolled = enroll(Enroll((PairToEnroll(enrollment.user, enrollment.course),)), SYSTEM)
    assert state(enrollment)[4] is None
    clock.advance(hours=1)

    undone = undo(enrolled.batch_id)

    assert undone.changed_count == 1
    assert state(enrollment) == removed


def test_a_row_without_its_before_state_is_not_undoable(clock):
    enrollment = EnrollmentFactory()
    batch = uuid.uuid4()
    AccessChange.objects.create(  # written before the old_* columns existed
        enrollment=enrollment,
        action="extend",
        source="admin",
        batch_id=batch,
        created_at=clock.current,
    )
    clock.advance(hours=1)
    before = snapshot()
    plan = undo(batch)
    assert [s.error.code for s in plan.skips] == ["NOT_UNDOABLE"]
    assert snapshot() == before


def test_an_unknown_batch_is_batch_not_found(db):
    with pytest.raises(BatchNotFound):
        batch_selection(uuid.uuid4())


def test_confirming_a_preview_twice_applies_once(three, clock):
    clock.advance(hours=1)
    done = run(Extend(days=30), three)
    clock.advance(hours=1)
    shown = preview(Undo(done.batch_id), batch_selection(done.batch_id))
    undo(done.batch_id, expected=shown.fingerprint())
    with pytest.raises(ChangedSincePreview):
        undo(done.batch_id, expected=shown.fingerprint())
    assert AccessChange.objects.filter(action="undo").count() == 3


def test_a_batch_applied_in_parts_is_undone_as_a_whole(three, clock):
    before = [state(e) for e in three]
    clock.advance(hours=1)
    done = apply(Extend(days=5), Selection.named([e.pk for e in three]), SYSTEM, batch_size=1)
    assert AccessChange.objects.filter(batch_id=done.batch_id).count() == 3
    clock.advance(hours=1)
    undo(done.batch_id, batch_size=2)
    assert [state(e) for e in three] == before


def test_reading_the_batch_is_one_query_for_the_whole_selection(clock):
    course = CourseFactory()
    rows = [EnrollmentFactory(course=course) for _ in range(30)]
    clock.advance(hours=1)
    done = run(Extend(days=5), rows)
    clock.advance(hours=1)
    selection = batch_selection(done.batch_id)
    with CaptureQueriesContext(connection) as queries:
        plan = preview(Undo(done.batch_id), selection)
    assert plan.changed_count == 30
    assert len(queries) == 2  # the rows, then the batch's audit rows with "changed since"


# --- manage.py undo_batch --------------------------------------------------------------------


def test_command_dry_run_then_expect_then_again(three, clock):
    before = [state(e) for e in three]
    clock.advance(hours=1)
    done = run(Extend(days=30), three)
    clock.advance(hours=1)
    batch = str(done.batch_id)
    unchanged = snapshot()

    dry = run_command("undo_batch", batch, "--dry-run")
    assert dry.status == 0, dry.stderr
    assert snapshot() == unchanged
    assert "would undo l0@example.com in c: end of access 2026-02-20T00:00:00Z -> " in dry.stdout
    assert "Would undo 3 of the 3 enrollments" in dry.stdout
    fingerprint = dry.stdout.rsplit("--expect ", 1)[1].strip()

    done_run = run_command("undo_batch", batch, "--expect", fingerprint, "--reason", "oops")
    assert done_run.status == 0, done_run.stderr
    assert "Undid 3 of the 3 enrollments" in done_run.stdout
    assert [state(e) for e in three] == before
    rows = AccessChange.objects.filter(action="undo")
    assert {(r.source, r.reason, r.undoes_batch_id) for r in rows} == {
        ("command", "oops", done.batch_id)
    }

    clock.advance(hours=1)
    again = run_command("undo_batch", batch)
    assert again.status == 1
    assert again.stderr.count("[CHANGED_SINCE_BATCH]") == 3


def test_command_skips_a_changed_row_and_exits_1(three, clock):
    clock.advance(hours=1)
    done = run(Pause(), three)
    clock.advance(hours=1)
    run(Resume(), [three[2]])
    result = run_command("undo_batch", str(done.batch_id), "--actor", undoer().email)
    assert result.status == 1
    assert result.stderr == (
        "l2@example.com in c: The enrollment changed after this batch: it was left as it is"
        " [CHANGED_SINCE_BATCH]\n"
    )
    assert [state(e)[1] for e in three] == [False, False, False]
    assert AccessChange.objects.filter(action="undo").count() == 2


def undoer():
    return grant(StaffFactory(), "undo_batch")


@pytest.mark.parametrize(
    "argument,message",
    [
        ("not-a-uuid", "BATCH_ID 'not-a-uuid': not a batch id (a UUID)"),
        (
            "00000000-0000-0000-0000-000000000000",
            "BATCH_ID '00000000-0000-0000-0000-000000000000': No access changes with this batch"
            " id [BATCH_NOT_FOUND]",
        ),
    ],
)
def test_command_malformed_and_unknown_batch_ids_are_usage_errors(three, argument, message):
    before = snapshot()
    result = run_command("undo_batch", argument)
    assert (result.status, result.error) == (2, message)
    assert snapshot() == before


def test_command_actor_needs_the_permission(three, clock):
    clock.advance(hours=1)
    done = run(Extend(days=30), three)
    before = snapshot()
    staff = grant(StaffFactory(), "extend_access")
    result = run_command("undo_batch", str(done.batch_id), "--actor", staff.email)
    assert result.status == 2
    assert "lacks the permission enrollments.undo_batch" in result.error
    assert snapshot() == before


def test_command_bad_reason_is_a_usage_error(three, clock):
    done = run(Extend(days=30), three)
    before = snapshot()
    result = run_command("undo_batch", str(done.batch_id), "--reason", "x" * 1001)
    assert result.status == 2
    assert snapshot() == before


class TestABackgroundRunsBatch:
    """A run's batch is undone once the run is over: undone while it runs, the undo restored
    the chunks committed so far and the run then changed the rest under the same batch."""

    @pytest.fixture
    def learners(self):
        course = CourseFactory()
        return course, EnrollmentFactory.create_batch(6, course=course)

    def start(self, course):
        selection = Selection.by_filter(Enrollment.objects.filter(course=course))
        return runs.start([(Extend(days=300), selection)], SYSTEM, chunk_size=2)

    def test_an_undo_while_the_run_goes_on_is_refused_whole(self, learners):
        course, rows = learners
        before = [state(e) for e in rows]
        job = self.start(course)
        refused = []

        def undo_after_the_first_chunk(chunk):
            if not refused:
                with pytest.raises(BatchRunUnfinished) as caught:
                    undo(job.batch_id)
                refused.append(caught.value.code)

        runs.advance(job.pk, on_chunk=undo_after_the_first_chunk)
        assert refused == ["BATCH_RUN_UNFINISHED"]
        assert not AccessChange.objects.filter(action=AccessChange.Action.UNDO).exists()
        # Over: the undo restores every row the run changed.
        assert undo(job.batch_id).changed_count == 6
        assert [state(e) for e in rows] == before

    def test_a_failed_run_is_undone_once_cancelled(self, learners):
        course, _rows = learners
        job = self.start(course)
        OperationRun.objects.filter(pk=job.pk).update(state=OperationRun.State.FAILED)
        AccessChange.objects.create(  # a chunk committed before the failure
            enrollment=_rows[0],
            action=AccessChange.Action.EXTEND,
            source=SYSTEM.source,
            batch_id=job.batch_id,
            created_at=_rows[0].created_at,
            old_ended_at=_rows[0].ended_at,
            new_ended_at=_rows[0].ended_at,
            old_total_paused_duration=0,
            old_is_paused=False,
        )
        with pytest.raises(BatchRunUnfinished):
            batch_selection(job.batch_id)  # the doors ask first
        runs.cancel(job.pk)
        assert undo(job.batch_id).selected == 1


def test_the_command_refuses_a_batch_whose_run_is_unfinished_with_status_1(failed_run):
    unchanged = snapshot()
    result = run_command("undo_batch", str(failed_run.batch_id))
    assert result.status == 1
    assert "run is unfinished" in result.error
    assert snapshot() == unchanged


def test_the_scope_is_checked_before_the_run(failed_run):
    """Out of scope first: another course's batch is not found whatever its run's state (the
    admin page, the command's --actor and the API share batch_selection)."""
    with pytest.raises(BatchNotFound):
        batch_selection(failed_run.batch_id, scope=Scope(frozenset({CourseFactory().pk})))
    its_course = AccessChange.objects.get(batch_id=failed_run.batch_id).enrollment.course_id
    with pytest.raises(BatchRunUnfinished):
        batch_selection(failed_run.batch_id, scope=Scope(frozenset({its_course})))


@pytest.mark.parametrize("later", [Extend(days=5), Pause()], ids=["extension", "pause"])
def test_a_later_change_stamped_earlier_is_not_overwritten(clock, later):
    """A change made after the batch by a server whose clock runs a second behind: its audit
    row reads an earlier instant than the batch's. The undo went by the instants alone and
    overwrote the extension (or failed on the pause with a database error); it compares the
    state the batch left as well."""
    enrollment = EnrollmentFactory()
    clock.advance(hours=1)
    batch = run(Extend(days=30), [enrollment])
    clock.advance(seconds=-1)
    run(later, [Enrollment.objects.get(pk=enrollment.pk)])
    clock.advance(hours=1)
    after_both = state(enrollment)
    plan = undo(batch.batch_id)
    assert [s.error.code for s in plan.skips] == ["CHANGED_SINCE_BATCH"]
    assert state(enrollment) == after_both
