"""The core's own bookkeeping, each pinned where mutation testing (docs/reliability.md) found no
test that would notice it broken: the rows it reads, the parts of a batched apply, the named
ids that no longer exist, the batch id of a set of parts, and the whole state before a change
that each audit row keeps for an undo."""

import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import Count, Value
from django.test.utils import CaptureQueriesContext

from enrollments.errors import (
    AlreadyPaused,
    ChangedSincePreview,
    InvalidExtensionPeriod,
    MembershipNotFound,
)
from enrollments.models import AccessChange, Enrollment
from enrollments.operations import Extend, Pause, Remove, Resume, Selection, apply, preview
from enrollments.operations.audit import Attribution
from enrollments.operations.base import before_state
from enrollments.operations.core import _read_rows, apply_together, fingerprint_of
from enrollments.operations.writing import audit_values
from lms.models import CourseRole
from lms.roles import Source, revoke_role
from tests.factories import CourseFactory, CourseRoleFactory, EnrollmentFactory

pytestmark = pytest.mark.django_db

BY = Attribution(None, AccessChange.Source.COMMAND, "edges")


def test_rows_are_read_with_their_learner_course_and_start(clock):
    enrollment = EnrollmentFactory(start_at=clock.current - timedelta(days=3))
    [row] = _read_rows(Selection.named([enrollment.pk]), lock=False)
    assert (row.id, row.user_id, row.course_id, row.start_at) == (
        enrollment.pk,
        enrollment.user_id,
        enrollment.course_id,
        enrollment.start_at,
    )
    assert row.state.ended_at == enrollment.ended_at
    assert row.pause_freezes_access == enrollment.course.pause_freezes_access


@pytest.mark.parametrize(
    ("shape", "subquery"),
    [
        (lambda qs, course: qs.filter(course=course), False),
        (lambda qs, course: qs.filter(course__slug=course.slug), True),  # a join
        (lambda qs, course: qs.filter(course=course).distinct(), True),
        (lambda qs, course: qs.filter(course=course).annotate(n=Count("completions")), True),
        (lambda qs, course: qs.filter(course=course).annotate(flag=Value(1)), True),
        (lambda qs, course: qs.filter(course=course).extra(select={"one": "1"}), True),  # noqa: S610
        (lambda qs, course: qs.filter(course=course).order_by("pk")[:3], True),
    ],
)
def test_a_filter_reads_the_same_rows_with_or_without_a_subquery(clock, shape, subquery):
    """Conditions on the enrollment table alone are read with their own WHERE; joins,
    DISTINCT and annotations through `id IN (subquery)`. Either way: the selection's rows,
    once each, in key order."""
    course = CourseFactory()
    mine = sorted(EnrollmentFactory.create_batch(3, course=course), key=lambda e: e.pk)
    EnrollmentFactory()  # another course's
    queryset = shape(Enrollment.objects.all(), course)
    with CaptureQueriesContext(connection) as captured:
        rows = _read_rows(Selection.by_filter(queryset), lock=False)
    assert [row.id for row in rows] == [e.pk for e in mine]
    (sql,) = [q["sql"] for q in captured.captured_queries]
    assert (" IN (SELECT" in sql) is subquery


@pytest.mark.parametrize("named", [True, False])
def test_a_batched_apply_adds_up_every_part(clock, named):
    far = clock.current + timedelta(days=10)
    rows = [EnrollmentFactory(ended_at=far) for _ in range(3)]
    paused = EnrollmentFactory(ended_at=far, is_paused=True, paused_at=clock.current)
    ids = sorted([r.pk for r in rows] + [paused.pk])
    selection = (
        Selection.named(ids)
        if named
        else Selection.by_filter(Enrollment.objects.filter(pk__in=ids))
    )

    plan = apply(Pause(), selection, BY, batch_size=1)

    assert sorted(c.enrollment_id for c in plan.changes) == sorted(r.pk for r in rows)
    assert [(s.enrollment_id, type(s.error)) for s in plan.skips] == [(paused.pk, AlreadyPaused)]
    assert plan.operation == Pause() and plan.batch_id is not None
    audit = AccessChange.objects.filter(action="pause")
    assert {a.batch_id for a in audit} == {plan.batch_id} and audit.count() == 3


def test_a_batched_apply_counts_unchanged_rows_of_every_part(clock):
    rows = [EnrollmentFactory(ended_at=None) for _ in range(3)]
    plan = apply(Extend(indefinite=True), Selection.named([r.pk for r in rows]), BY, batch_size=2)
    assert sorted(plan.unchanged) == sorted(r.pk for r in rows) and plan.changes == []


def test_a_batched_apply_acts_as_its_actor_is_at_each_part(clock):
    """A command's apply in parts of its selection: a role revoked after the first part stops
    the next (each part reads its actor again, as a run's chunk does; the user object keeps
    the roles it read once)."""
    course = CourseFactory()
    staff = CourseRoleFactory(course=course, role=CourseRole.Role.STAFF).user
    rows = EnrollmentFactory.create_batch(2, course=course, ended_at=clock.current + timedelta(9))

    def revoke(part, ids):
        if part.changes:  # after the first part only
            revoke_role(staff, course, actor=None, source=Source.COMMAND)

    by = Attribution(staff, AccessChange.Source.COMMAND, "exam")
    plan = apply(Pause(), Selection.named([r.pk for r in rows]), by, batch_size=1, on_batch=revoke)
    assert (len(plan.changes), [type(s.error) for s in plan.skips]) == (1, [MembershipNotFound])


def test_parts_cannot_be_checked_against_one_preview():
    with pytest.raises(
        ValueError, match="^a plan applied in batches cannot be checked against one preview$"
    ):
        apply(Pause(), Selection.named([uuid.uuid4()]), BY, batch_size=10, expected="x")


def test_a_named_id_that_does_not_exist_is_skipped_beside_the_operations_own_skips(clock):
    paused = EnrollmentFactory(is_paused=True, paused_at=clock.current)
    missing = uuid.uuid4()
    plan = preview(Pause(), Selection.named([paused.pk, missing]))
    assert [(s.enrollment_id, type(s.error)) for s in plan.skips] == [
        (paused.pk, AlreadyPaused),
        (missing, MembershipNotFound),
    ]


def test_parts_applied_together_share_the_callers_batch_id_or_a_new_one(clock):
    first, second = EnrollmentFactory(), EnrollmentFactory()
    parts = [
        (Extend(days=1), Selection.named([first.pk])),
        (Extend(days=2), Selection.named([second.pk])),
    ]
    expected = fingerprint_of([preview(op, selection) for op, selection in parts])
    given = uuid.uuid4()
    apply_together(parts, Attribution(None, "command", "", given), expected=expected)
    assert set(AccessChange.objects.values_list("batch_id", flat=True)) == {given}

    expected = fingerprint_of([preview(op, selection) for op, selection in parts])
    plans = apply_together(parts, BY, expected=expected)
    new = {plan.batch_id for plan in plans}
    assert len(new) == 1 and None not in new and given not in new
    assert (
        set(AccessChange.objects.exclude(batch_id=given).values_list("batch_id", flat=True)) == new
    )


def test_parts_applied_together_are_validated_against_the_clock(clock):
    enrollment = EnrollmentFactory()
    parts = [(Extend(until=clock.current - timedelta(days=1)), Selection.named([enrollment.pk]))]
    with pytest.raises(InvalidExtensionPeriod):
        apply_together(parts, BY, expected="anything")
    assert not AccessChange.objects.exists()


def test_an_unsaved_audit_row_is_dated_when_the_change_was_applied(clock):
    enrollment = EnrollmentFactory()
    plan = preview(Pause(), Selection.named([enrollment.pk]))
    row = AccessChange(**audit_values(plan.changes[0], by=BY, now=clock.current))
    assert row.created_at == clock.current and row.action == "pause"


def test_every_audit_row_keeps_the_whole_state_before_its_change(clock):
    """Pause, resume and remove, one after the other: each row's before_state is exactly the
    enrollment's state before that change (what an undo of its batch restores)."""
    enrollment = EnrollmentFactory(ended_at=clock.current + timedelta(days=30))
    course = enrollment.course
    course.pause_freezes_access = True
    course.save()
    states = []
    for operation in (Pause(), Resume(), Remove()):
        before = _read_rows(Selection.named([enrollment.pk]), lock=False)[0].state
        states.append(before)
        apply(operation, Selection.named([enrollment.pk]), BY)
        clock.advance(hours=5)
    after = _read_rows(Selection.named([enrollment.pk]), lock=False)[0].state
    rows = list(AccessChange.objects.filter(enrollment=enrollment).order_by("created_at"))
    # Each change's after-state is the next one's before-state, the last one's the final state.
    for row, before, row_after in zip(rows, states, [*states[1:], after], strict=True):
        assert before_state(row, after=row_after) == before
    # The resume moved paused_at and the paused seconds; the removal set the mark.
    assert states[1].paused_at is not None and states[2].total_paused_duration == 5 * 3600
    assert after.removed_at is not None and states[2].removed_at is None
    assert rows[2].undoes_batch_id is None


def test_a_row_that_created_its_enrollment_has_no_before_state(clock):
    row = AccessChange(old_ended_at=None, old_total_paused_duration=None)
    assert before_state(row, after=None) is None


def test_a_preview_confirms_a_minute_later_but_not_once_the_rules_decide_otherwise(clock):
    """Which fields a change moves is part of its fingerprint (not their values, which count
    the time): a course that stopped freezing access during pauses between a resume's preview
    and its Confirm resumes without moving the end, which the preview did not show."""
    course = CourseFactory(pause_freezes_access=True)
    enrollment = EnrollmentFactory(
        course=course,
        start_at=clock.current - timedelta(days=5),
        ended_at=clock.current + timedelta(days=5),
    )
    apply(Pause(), Selection.named([enrollment.pk]), BY)
    clock.advance(days=1)
    shown = preview(Resume(), Selection.named([enrollment.pk]))
    clock.advance(minutes=1)  # the same decision a minute later: confirmed
    assert preview(Resume(), Selection.named([enrollment.pk])).fingerprint() == shown.fingerprint()
    type(course).objects.filter(pk=course.pk).update(pause_freezes_access=False)
    with pytest.raises(ChangedSincePreview):
        apply(Resume(), Selection.named([enrollment.pk]), BY, expected=shown.fingerprint())
    assert Enrollment.objects.get(pk=enrollment.pk).is_paused


def test_a_resume_previewed_in_the_pauses_first_second_confirms_a_second_later(clock):
    """The pause's whole seconds go to total_paused_duration: none in its first second, one
    in the next. Only the clock moved between the preview and the Confirm: the same decision
    (a keyboard test in a browser met it under load)."""
    enrollment = EnrollmentFactory(ended_at=clock.current + timedelta(days=9))
    apply(Pause(), Selection.named([enrollment.pk]), BY)
    clock.advance(microseconds=300_000)
    shown = preview(Resume(), Selection.named([enrollment.pk]))
    clock.advance(seconds=1)
    done = apply(Resume(), Selection.named([enrollment.pk]), BY, expected=shown.fingerprint())
    assert done.changes[0].after.total_paused_duration == 1
