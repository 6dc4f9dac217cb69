"""Runs (enrollments/operations/runs.py): a selection written down, then applied a chunk per
transaction; resumable after a failure at any chunk, each row changed once with one audit row,
skipping rows changed since the preview when bound to one, cancellable between chunks."""

import uuid
from datetime import timedelta

import pytest
from django.db import OperationalError
from django.db.models import Count

from enrollments.errors import (
    EnrollmentChangedSincePreview,
    InvalidExtensionPeriod,
    RunNotFound,
    RunUnfinished,
)
from enrollments.models import AccessChange, Enrollment, OperationRun, OperationRunChunk
from enrollments.operations import (
    Expire,
    Extend,
    Pause,
    Remove,
    Resume,
    Selection,
    Undo,
    apply_to_one,
    runs,
)
from enrollments.operations.audit import Attribution
from enrollments.operations.scope import actor_now, scope_of
from enrollments.operations.shortening import Shorten
from enrollments.permissions import EXTEND_ACCESS
from lms.models import CourseRole
from lms.roles import Source, revoke_role
from tests.factories import CourseFactory, CourseRoleFactory, EnrollmentFactory, OperatorFactory
from tests.run_chunks import pending_rows, written_ids

pytestmark = pytest.mark.django_db

BY = Attribution(None, AccessChange.Source.COMMAND, "runs")
State = OperationRun.State


@pytest.fixture
def learners(clock):
    """Seven enrollments of one course ending in 5 days, and one of another course."""
    course = CourseFactory()
    ends = clock.current + timedelta(days=5)
    mine = EnrollmentFactory.create_batch(
        7, course=course, start_at=clock.current - timedelta(days=1), ended_at=ends
    )
    EnrollmentFactory(start_at=clock.current - timedelta(days=1), ended_at=ends)
    return course, sorted(mine, key=lambda e: e.pk)


def of_course(course) -> Selection:
    return Selection.by_filter(Enrollment.objects.filter(course=course))


def audit_counts() -> dict:
    return dict(
        AccessChange.objects.values("enrollment")
        .annotate(n=Count("id"))
        .values_list("enrollment", "n")
    )


def test_a_run_writes_its_selection_down_then_applies_it_in_chunks(clock, learners):
    course, mine = learners
    run = runs.start([(Extend(days=30), of_course(course))], BY, chunk_size=3)
    assert (run.state, run.total, run.done) == (State.QUEUED, 7, 0)
    assert [chunk.size for chunk in run.chunks.order_by("seq")] == [3, 3, 1]
    # Every row once; in key order within each chunk (the order the core locks them in).
    written = written_ids(run)
    assert sorted(written) == sorted(e.pk for e in mine)
    assert all(written[i : i + 3] == sorted(written[i : i + 3]) for i in (0, 3, 6))
    assert (
        Enrollment.objects.filter(course=course, ended_at=clock.current + timedelta(days=5)).count()
        == 7
    )

    chunks = []
    run = runs.advance(run.pk, on_chunk=chunks.append)

    assert [len(chunk.plan.changes) for chunk in chunks] == [3, 3, 1]
    assert (run.state, run.changed, run.skipped, run.unchanged) == (State.DONE, 7, 0, 0)
    assert run.finished_at is not None
    ends = set(Enrollment.objects.filter(course=course).values_list("ended_at", flat=True))
    assert ends == {clock.current + timedelta(days=35)}
    # One audit row per enrollment, all in the run's batch.
    assert audit_counts() == {e.pk: 1 for e in mine}
    assert set(AccessChange.objects.values_list("batch_id", flat=True)) == {run.batch_id}
    assert pending_rows(run) == 0


def test_a_shortening_runs_in_chunks_too(clock, learners):
    """The admin's "Shorten by N days" of a Select all above RUNS_BACKGROUND_ABOVE is a job:
    the run holds the operation and applies it chunk by chunk, each end once."""
    course, mine = learners
    run = runs.start([(Shorten(days=2), of_course(course))], BY, chunk_size=3)
    assert runs.operation_from_json(runs.operation_to_json(Shorten(days=2))) == Shorten(days=2)
    run = runs.advance(run.pk)
    assert (run.state, run.changed) == (State.DONE, 7)
    ends = set(Enrollment.objects.filter(course=course).values_list("ended_at", flat=True))
    assert ends == {clock.current + timedelta(days=3)}
    assert audit_counts() == {e.pk: 1 for e in mine}


def test_a_failed_chunk_rolls_back_alone_and_the_run_resumes_where_it_stopped(
    clock, learners, monkeypatch
):
    """A crash in the second chunk (any error: a killed process rolls back the same way):
    the first chunk stays, the run says FAILED with the error, and advancing again changes
    only the rest: every row once, one audit row each."""
    course, mine = learners
    run = runs.start([(Extend(days=30), of_course(course))], BY, chunk_size=3)
    real_apply, calls = runs.apply, []

    def crashing_apply(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise ConnectionError("the database went away")
        return real_apply(*args, **kwargs)

    monkeypatch.setattr(runs, "apply", crashing_apply)
    with pytest.raises(ConnectionError):
        runs.advance(run.pk)
    run.refresh_from_db()
    assert (run.state, run.changed, run.finished_at) == (State.FAILED, 3, None)
    assert "the database went away" in run.error
    assert len(audit_counts()) == 3
    assert pending_rows(run) == 4

    monkeypatch.setattr(runs, "apply", real_apply)
    run = runs.advance(run.pk)
    assert (run.state, run.changed, run.error) == (State.DONE, 7, "")
    assert audit_counts() == {e.pk: 1 for e in mine}
    ends = set(Enrollment.objects.filter(course=course).values_list("ended_at", flat=True))
    assert ends == {clock.current + timedelta(days=35)}


def test_an_identical_run_is_refused_while_the_first_is_unfinished(clock, learners):
    course, _ = learners
    first = runs.start([(Extend(days=30), of_course(course))], BY, identity="extend course x")
    with pytest.raises(RunUnfinished) as refused:
        runs.start([(Extend(days=30), of_course(course))], BY, identity="extend course x")
    assert refused.value.run_id == first.pk
    assert OperationRun.objects.count() == 1
    # Another request is another run; the same one again once the first is done.
    runs.start([(Pause(), of_course(course))], BY, identity="pause course x")
    runs.advance(first.pk)
    again = runs.start([(Extend(days=30), of_course(course))], BY, identity="extend course x")
    assert again.pk != first.pk


def test_a_run_bound_to_its_preview_skips_rows_changed_since(clock, learners):
    """The admin writes the selection down before its preview: a row changed afterwards (here
    paused by someone else) is skipped with its reason, never extended from a state nobody
    previewed."""
    course, mine = learners
    operator = OperatorFactory()
    by = Attribution(operator, AccessChange.Source.ADMIN, "")
    draft = runs.start(
        [(Extend(days=30), of_course(course))],
        by,
        bound_to_preview=True,
        state=State.PREVIEWED,
        chunk_size=4,
    )
    assert runs.advance(draft.pk).state == State.PREVIEWED  # nobody confirmed it: nothing runs
    clock.advance(seconds=1)
    apply_to_one(Pause(), mine[2], BY)

    run = runs.confirm(draft.pk, Attribution(operator, AccessChange.Source.ADMIN, "term moved"))
    run = runs.advance(run.pk)

    assert (run.state, run.changed, run.skipped) == (State.DONE, 6, 1)
    assert list(runs.skipped_rows(run)) == [(mine[2].pk, EnrollmentChangedSincePreview.code)]
    ends_before = mine[2].ended_at
    mine[2].refresh_from_db()
    assert (mine[2].is_paused, mine[2].ended_at) == (True, ends_before)  # not extended
    assert AccessChange.objects.filter(batch_id=run.batch_id).count() == 6
    assert set(
        AccessChange.objects.filter(batch_id=run.batch_id).values_list("reason", flat=True)
    ) == {"term moved"}


@pytest.mark.parametrize("froze", [True, False], ids=["stopped freezing", "began freezing"])
def test_a_run_bound_to_its_preview_skips_rows_whose_course_changed_how_pauses_count(clock, froze):
    """A resume's plan reads the course beside the row: whether the course froze access during
    the pause decides whether the end moves. A course changed between the preview and the
    job leaves every row's `updated_at` as it was, and the job resumed them all with ends the
    preview did not show; they are skipped as changed since the preview now. A course of the
    selection left as it was resumes as previewed."""
    changed_course = CourseFactory(pause_freezes_access=froze)
    other_course = CourseFactory(pause_freezes_access=True)
    paused = {
        course.pk: EnrollmentFactory.create_batch(
            2,
            course=course,
            start_at=clock.current - timedelta(days=10),
            ended_at=clock.current + timedelta(days=5),
            is_paused=True,
            paused_at=clock.current - timedelta(days=2),
        )
        for course in (changed_course, other_course)
    }
    selection = Selection.by_filter(
        Enrollment.objects.filter(course__in=[changed_course, other_course])
    )
    draft = runs.start([(Resume(), selection)], BY, bound_to_preview=True, state=State.PREVIEWED)
    type(changed_course).objects.filter(pk=changed_course.pk).update(pause_freezes_access=not froze)

    run = runs.advance(runs.confirm(draft.pk, BY).pk)

    assert (run.changed, run.skipped) == (2, 2)
    skipped = {pk for pk, code in runs.skipped_rows(run)}
    assert skipped == {e.pk for e in paused[changed_course.pk]}
    resumed = Enrollment.objects.filter(pk__in=[e.pk for e in paused[other_course.pk]])
    assert {(e.is_paused, e.ended_at) for e in resumed} == {
        (False, clock.current + timedelta(days=7))
    }


def test_only_the_author_confirms_a_draft_and_only_once(clock, learners):
    course, _ = learners
    operator, other = OperatorFactory(), OperatorFactory()
    draft = runs.start(
        [(Pause(), of_course(course))],
        Attribution(operator, AccessChange.Source.ADMIN, ""),
        bound_to_preview=True,
        state=State.PREVIEWED,
    )
    with pytest.raises(RunNotFound):
        runs.confirm(draft.pk, Attribution(other, AccessChange.Source.ADMIN, ""))
    runs.confirm(draft.pk, Attribution(operator, AccessChange.Source.ADMIN, ""))
    with pytest.raises(RunNotFound):
        runs.confirm(draft.pk, Attribution(operator, AccessChange.Source.ADMIN, ""))


def test_a_row_that_stopped_matching_the_filter_is_left_alone(clock, learners):
    course, mine = learners
    run = runs.start(
        [(Pause(), Selection.by_filter(Enrollment.objects.filter(course=course, is_paused=False)))],
        BY,
    )
    apply_to_one(Pause(), mine[0], BY)
    run = runs.advance(run.pk)
    assert (run.changed, run.unchanged, run.skipped) == (6, 1, 0)
    assert AccessChange.objects.filter(batch_id=run.batch_id).count() == 6


def test_named_rows_that_no_longer_exist_are_skipped_as_not_found(clock, learners):
    _, mine = learners
    ghost = uuid.uuid4()
    run = runs.start([(Pause(), Selection.named([mine[0].pk, ghost]))], BY)
    run = runs.advance(run.pk)
    assert (run.total, run.changed, run.skipped) == (2, 1, 1)
    assert list(runs.skipped_rows(run)) == [(ghost, "NOT_FOUND")]


def test_cancel_stops_between_chunks_and_what_committed_stays_undoable(clock, learners):
    course, mine = learners
    run = runs.start([(Pause(), of_course(course))], BY, chunk_size=3)

    def cancel_after_first(chunk):
        runs.cancel(chunk.run.pk)

    run = runs.advance(run.pk, on_chunk=cancel_after_first)
    assert (run.state, run.changed) == (State.CANCELLED, 3)
    assert Enrollment.objects.filter(course=course, is_paused=True).count() == 3
    assert runs.advance(run.pk).changed == 3  # finished: advancing does nothing

    undo = runs.start([(Undo(run.batch_id), Selection.named(e.pk for e in mine))], BY)
    undo = runs.advance(undo.pk)
    assert undo.changed == 3
    assert not Enrollment.objects.filter(course=course, is_paused=True).exists()


def test_a_queued_run_cancelled_never_starts(clock, learners):
    course, _ = learners
    run = runs.cancel(runs.start([(Pause(), of_course(course))], BY).pk)
    assert run.state == State.CANCELLED
    assert runs.advance(run.pk).changed == 0
    assert not Enrollment.objects.filter(is_paused=True).exists()


def test_a_request_invalid_for_every_row_writes_nothing(clock, learners):
    course, _ = learners
    with pytest.raises(InvalidExtensionPeriod):
        runs.start([(Extend(days=0), of_course(course))], BY)
    assert not OperationRun.objects.exists()


def test_unknown_runs_are_refused(db):
    for control in (runs.advance, runs.cancel):
        with pytest.raises(RunNotFound):
            control(uuid.uuid4())


def test_runs_that_lost_their_runner_are_stale(clock, learners):
    course, _ = learners
    running = runs.start([(Pause(), of_course(course))], BY, chunk_size=3)
    runs.advance(running.pk, on_chunk=lambda chunk: runs.cancel(chunk.run.pk))
    queued = runs.start([(Resume(), of_course(course))], BY)
    killed = runs.start([(Remove(), of_course(course))], BY)
    OperationRun.objects.filter(pk=killed.pk).update(
        state=State.RUNNING, heartbeat_at=clock.current
    )
    # Neither a draft nor a FAILED run has a runner to lose: they wait for staff.
    runs.start([(Expire(), of_course(course))], BY, state=State.PREVIEWED)
    failed = runs.start([(Expire(), of_course(course))], BY)
    OperationRun.objects.filter(pk=failed.pk).update(state=State.FAILED, heartbeat_at=clock.current)

    assert runs.stale() == []
    clock.advance(seconds=runs.run_setting("STALE_AFTER_SECONDS") + 1)
    assert {run.pk for run in runs.stale()} == {queued.pk, killed.pk}
    runs.mark_requeued(queued)
    assert {run.pk for run in runs.stale()} == {killed.pk}


@pytest.mark.parametrize(
    "operation",
    [
        Extend(days=3),
        Extend(days=3, from_today=True),
        Extend(indefinite=True),
        Expire(),
        Pause(),
        Resume(),
        Remove(),
        Undo(uuid.UUID("00000000-0000-4000-8000-000000000001")),
    ],
    ids=lambda operation: operation.describe(),
)
def test_operations_are_kept_as_json_and_read_back_equal(clock, operation):
    assert runs.operation_from_json(runs.operation_to_json(operation)) == operation


def test_an_extensions_request_is_derived_not_kept(clock):
    """Extend makes its ExtensionRequest once, from its fields, after the contract's precedence:
    the JSON holds the fields alone, and the request read back is the same."""
    operation = Extend(days=3, until=clock.current + timedelta(days=9))
    assert operation.request is operation.request  # made once, not on each read
    data = runs.operation_to_json(operation)
    assert "request" not in data and data["days"] is None
    read_back = runs.operation_from_json(data)
    assert read_back.request == operation.request
    assert (read_back.request.days, read_back.request.until) == (None, operation.until)


def test_datetimes_in_operations_are_kept_exactly(clock):
    operation = Extend(until=clock.current + timedelta(days=3, microseconds=7))
    assert runs.operation_from_json(runs.operation_to_json(operation)) == operation


@pytest.mark.parametrize(
    "interruption",
    [
        OperationalError("server closed the connection unexpectedly"),
        SystemExit(1),  # a worker's second stop signal raises it inside the job
        KeyboardInterrupt(),
    ],
    ids=["database gone", "stopped", "interrupted"],
)
def test_a_database_that_went_away_leaves_the_run_running_for_the_sweep(
    clock, learners, monkeypatch, interruption
):
    """A lost connection, or a runner stopped mid-chunk, is not the run's fault: it stays
    RUNNING (no FAILED for staff to retry by hand), turns stale, and the sweep queues it
    again, as for a runner killed with -9."""
    course, _ = learners
    run = runs.start([(Pause(), of_course(course))], BY)

    def interrupted(*args, **kwargs):
        raise interruption

    monkeypatch.setattr(runs, "apply", interrupted)
    with pytest.raises(type(interruption)):
        runs.advance(run.pk)
    run.refresh_from_db()
    assert (run.state, run.error, run.finished_at) == (State.RUNNING, "", None)
    clock.advance(seconds=runs.run_setting("STALE_AFTER_SECONDS") + 1)
    assert [stale.pk for stale in runs.stale()] == [run.pk]


def test_a_failed_run_requeued_is_queued_and_stale_again_if_its_job_is_lost(
    clock, learners, monkeypatch
):
    course, _ = learners
    run = runs.start([(Pause(), of_course(course))], BY)

    def failing(*args, **kwargs):
        raise ValueError("a bug")

    monkeypatch.setattr(runs, "apply", failing)
    with pytest.raises(ValueError):
        runs.advance(run.pk)
    assert runs.stale() == []  # FAILED waits for staff

    run = runs.requeue(run.pk)
    assert (run.state, run.error) == (State.QUEUED, "")
    clock.advance(seconds=runs.run_setting("STALE_AFTER_SECONDS") + 1)
    assert [stale.pk for stale in runs.stale()] == [run.pk]  # its job lost: the sweep finds it
    monkeypatch.undo()
    monkeypatch.setattr("enrollments.clock.now", clock)
    assert runs.advance(run.pk).state == State.DONE
    assert runs.requeue(run.pk).state == State.DONE  # finished: left as it is


def test_drafts_nobody_confirmed_are_deleted_after_a_day(clock, learners):
    course, _ = learners
    operator = OperatorFactory()
    by = Attribution(operator, AccessChange.Source.ADMIN, "")
    old = runs.start([(Pause(), of_course(course))], by, state=State.PREVIEWED)
    queued = runs.start([(Resume(), of_course(course))], BY)
    clock.advance(seconds=runs.run_setting("DRAFTS_KEPT_SECONDS") - 10)
    fresh = runs.start([(Remove(), of_course(course))], by, state=State.PREVIEWED)
    assert runs.discard_old_drafts() == 0
    clock.advance(seconds=11)
    assert runs.discard_old_drafts() == 1
    assert set(OperationRun.objects.values_list("pk", flat=True)) == {queued.pk, fresh.pk}
    assert not OperationRunChunk.objects.filter(run_id=old.pk).exists()


@pytest.fixture
def staff_run(clock, learners):
    """A run of a course's staff member over two of its rows, a chunk each."""
    course, rows = learners
    staff = CourseRoleFactory(course=course, role=CourseRole.Role.STAFF).user
    run = runs.start(
        [(Extend(days=5), Selection.named([e.pk for e in rows[:2]]))],
        Attribution(staff, AccessChange.Source.ADMIN, "exam"),
        chunk_size=1,
    )
    return course, staff, run


def extended_after(run, act) -> int:
    """Advances `run`, calling `act` once its first chunk committed; the rows it changed."""
    seen = []

    def after_chunk(chunk):
        seen.append(chunk)
        if len(seen) == 1:
            act()

    runs.advance(run.pk, on_chunk=after_chunk)
    assert len(seen) == 2
    return AccessChange.objects.filter(batch_id=run.batch_id).count()


@pytest.mark.parametrize("loss", ["role revoked", "deactivated"])
def test_an_actor_who_lost_the_right_meanwhile_stops_at_the_next_chunk(staff_run, loss):
    """Each chunk acts as its actor is now, as each request reads its user: the scope, the
    roles and Django's permissions are kept on a user object once read, and one object for
    the whole run let its later chunks act with the rights its actor had at the first."""
    course, staff, run = staff_run
    lose = {
        "role revoked": lambda: revoke_role(staff, course, actor=None, source=Source.COMMAND),
        "deactivated": lambda: type(staff).objects.filter(pk=staff.pk).update(is_active=False),
    }[loss]
    assert extended_after(run, lose) == 1
    run.refresh_from_db()
    assert (run.changed, run.skipped) == (1, 1)


def test_deleting_an_actor_cancels_their_unfinished_runs(staff_run):
    """Deleting a user sets their runs' actor to null, which reads as the system's (every
    course) to a chunk taken later: their unfinished runs are cancelled first."""
    _course, staff, run = staff_run
    staff.delete()
    run.refresh_from_db()
    assert (run.state, run.actor_id) == (State.CANCELLED, None)
    assert runs.advance(run.pk).changed == 0


def test_an_actor_deleted_meanwhile_acts_nowhere(staff_run):
    """A chunk whose actor was deleted since the run took them acts as an inactive stand-in:
    an empty scope, never None (the system's every course)."""
    _course, staff, _run = staff_run
    gone = type(staff)(pk=uuid.uuid4(), email="gone@example.com")  # no such row
    stand_in = actor_now(gone)
    assert stand_in is not None and not stand_in.is_active
    assert scope_of(stand_in, EXTEND_ACCESS).empty
    assert actor_now(staff).is_active and actor_now(staff) is not staff
    assert actor_now(None) is None


def test_a_draft_is_no_job_to_cancel(clock, learners):
    """A preview nobody confirmed is not a job: cancelling it is refused as an unknown run, and
    it stays a draft for the drafts' clean-up."""
    course, _ = learners
    draft = runs.start(
        [(Extend(days=1), of_course(course))], BY, bound_to_preview=True, state=State.PREVIEWED
    )
    with pytest.raises(RunNotFound):
        runs.cancel(draft.pk)
    draft.refresh_from_db()
    assert (draft.state, draft.finished_at) == (State.PREVIEWED, None)
