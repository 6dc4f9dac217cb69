"""Property (hypothesis), as test_preview_is_apply.py but for the lifecycle operations: for
random enrollments (any end, paused or not, removed or not), random selections and random
requests to end access (now or at an instant), remove, extend from today, enroll (existing,
removed and new pairs) and undo a random earlier batch (with a row changed since or not),
`preview` is exactly what `apply(expected=preview's fingerprint)` then does, row for row; the
stored rows are the planned `after` states and there is one audit row per change."""

from dataclasses import fields
from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from enrollments.access_window import MAX_ENDED_AT
from enrollments.errors import DomainError
from enrollments.models import AccessChange, Enrollment
from enrollments.operations import (
    Enroll,
    Expire,
    Extend,
    Pause,
    Remove,
    Selection,
    State,
    Undo,
    apply,
    preview,
)
from enrollments.operations.audit import Attribution
from enrollments.operations.enrolling import PairToEnroll
from enrollments.operations.undoing import batch_selection
from tests.factories import CourseFactory, EnrollmentFactory, UserFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 1, 1, tzinfo=UTC)
DAY = timedelta(days=1)
BY = Attribution(None, AccessChange.Source.COMMAND)
STATE_FIELDS = [f.name for f in fields(State)]

ends = st.one_of(
    st.none(),
    st.integers(min_value=-400, max_value=400).map(lambda d: NOW + d * DAY),
    st.integers(min_value=0, max_value=60).map(lambda d: MAX_ENDED_AT - d * DAY),
)
instants = st.one_of(
    st.integers(min_value=-400, max_value=400).map(lambda d: NOW + d * DAY),
    st.just(MAX_ENDED_AT),
    st.just(MAX_ENDED_AT + DAY),  # refused before any row
    st.just(datetime(2019, 12, 31, tzinfo=UTC)),  # refused before any row
)
rows = st.lists(
    st.tuples(
        ends,
        st.one_of(st.none(), st.integers(min_value=0, max_value=30 * 86400)),  # paused ago
        st.sampled_from([False, False, True]),  # removed
    ),
    min_size=1,
    max_size=6,
)
#: Operations on a selection of existing rows (a "first batch" for the undo too).
row_operations = st.one_of(
    st.just(Expire()),
    st.builds(Expire, at=instants),
    st.just(Remove()),
    st.builds(Extend, days=st.integers(min_value=1, max_value=400), from_today=st.just(True)),
    st.builds(Extend, days=st.integers(min_value=1, max_value=400)),
    st.just(Pause()),
)


def plan_rows(plan):
    return (
        [(c.key, c.action, c.before, c.after, c.paused_seconds) for c in plan.changes],
        [(s.enrollment_id, s.error.code) for s in plan.skips],
        list(plan.unchanged),
    )


def make_rows(rows):
    course = CourseFactory(pause_freezes_access=True, access_days=30)
    return course, [
        EnrollmentFactory(
            course=course,
            start_at=NOW - 500 * DAY,
            ended_at=ended_at,
            is_paused=paused_ago is not None,
            paused_at=None if paused_ago is None else NOW - timedelta(seconds=paused_ago),
            removed_at=NOW - DAY if removed else None,
        )
        for ended_at, paused_ago, removed in rows
    ]


def stored_state(pk) -> State:
    return State(*Enrollment.objects.filter(pk=pk).values_list(*STATE_FIELDS).get())


def check_preview_is_apply(operation, selection) -> None:
    """Preview, then apply expecting that preview: the same plan; stored rows and audit rows
    as planned. A request refused before any row is refused by both, writing nothing."""
    audit_before = set(AccessChange.objects.values_list("pk", flat=True))
    states_before = {e.pk: stored_state(e.pk) for e in Enrollment.objects.all()}
    try:
        shown = preview(operation, selection)
    except DomainError as error:
        event(f"refused: {error.code}")
        with pytest.raises(type(error)):
            apply(operation, selection, BY)
        assert set(AccessChange.objects.values_list("pk", flat=True)) == audit_before
        return
    done = apply(operation, selection, BY, expected=shown.fingerprint())
    event(f"{type(operation).__name__}: changes {bool(done.changes)}, skips {bool(done.skips)}")
    assert plan_rows(done) == plan_rows(shown)
    changed = {}
    for change in done.changes:
        assert stored_state(change.enrollment_id) == change.after
        changed[change.enrollment_id] = change
    for pk, state in states_before.items():
        if pk not in changed:
            assert stored_state(pk) == state
    new_audit = AccessChange.objects.exclude(pk__in=audit_before)
    assert new_audit.count() == len(done.changes)
    for row in new_audit:
        change = changed[row.enrollment_id]
        assert (row.action, row.old_ended_at, row.new_ended_at, row.batch_id) == (
            change.action,
            change.old_ended_at,
            change.new_ended_at,
            done.batch_id,
        )


def pick(enrollments, subset):
    return [e.pk for i, e in enumerate(enrollments) if subset >> (i % 8) & 1]


def selection_of(picked, named):
    if named:
        return Selection.named(picked)
    return Selection.by_filter(Enrollment.objects.filter(pk__in=picked))


SETTINGS = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@SETTINGS
@given(rows=rows, operation=row_operations, named=st.booleans(), subset=st.integers(1, 63))
def test_preview_is_what_apply_does_for_the_lifecycle(clock, rows, operation, named, subset):
    clock.set(NOW)
    with transaction.atomic():
        _course, enrollments = make_rows(rows)
        check_preview_is_apply(operation, selection_of(pick(enrollments, subset), named))
        transaction.set_rollback(True)


@SETTINGS
@given(
    rows=rows,
    subset=st.integers(1, 63),
    new_pairs=st.integers(0, 3),
    ends=st.lists(st.one_of(st.none(), st.none(), st.none(), instants), min_size=9, max_size=9),
)
def test_preview_is_what_apply_does_for_an_enrollment(clock, rows, subset, new_pairs, ends):
    clock.set(NOW)
    with transaction.atomic():
        course, enrollments = make_rows(rows)
        targets = [
            PairToEnroll(e.user, course, end)
            for e, end in zip(
                (e for e in enrollments if e.pk in pick(enrollments, subset)), ends, strict=False
            )
        ]
        targets += [
            PairToEnroll(UserFactory(), course, end) for end in ends[len(targets) :][:new_pairs]
        ]
        operation = Enroll(tuple(targets))
        check_preview_is_apply(operation, operation.selection())
        transaction.set_rollback(True)


@SETTINGS
@given(
    rows=rows,
    first=row_operations,
    named=st.booleans(),
    subset=st.integers(1, 63),
    changed_since=st.one_of(st.none(), st.integers(0, 5)),
)
def test_preview_is_what_apply_does_for_an_undo(clock, rows, first, named, subset, changed_since):
    clock.set(NOW)
    with transaction.atomic():
        _course, enrollments = make_rows(rows)
        try:
            batch = apply(first, selection_of(pick(enrollments, subset), named), BY)
        except DomainError:
            batch = None
        if batch is not None and batch.changes:
            clock.advance(hours=1)
            touched = None  # a row of the batch changed since (skipped by the undo)
            if changed_since is not None:
                touched = batch.changes[changed_since % len(batch.changes)].enrollment_id
                apply(Extend(indefinite=True), Selection.named([touched]), BY)
                clock.advance(hours=1)
            check_preview_is_apply(Undo(batch.batch_id), batch_selection(batch.batch_id))
            for change in batch.changes:
                if change.enrollment_id != touched:  # back to its state before the batch
                    assert stored_state(change.enrollment_id) == change.before
        transaction.set_rollback(True)
