"""Property (hypothesis): for random enrollments, selections and requests, `preview` is exactly
what `apply` then does, row for row: the same changes (before and after), the same skips with
the same reasons, the same rows left unchanged; the stored rows are the planned `after`
states, and there is one audit row per change saying the same."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from enrollments.access_window import MAX_ENDED_AT
from enrollments.errors import DomainError
from enrollments.models import AccessChange, Enrollment
from enrollments.operations import Extend, Pause, Resume, Selection, apply, preview
from enrollments.operations.audit import Attribution
from tests.factories import CourseFactory, EnrollmentFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 1, 1, tzinfo=UTC)
DAY = timedelta(days=1)

ends = st.one_of(
    st.none(),
    st.integers(min_value=-400, max_value=400).map(lambda d: NOW + d * DAY),
    st.integers(min_value=0, max_value=60).map(lambda d: MAX_ENDED_AT - d * DAY),
)
rows = st.lists(
    st.tuples(
        ends,
        st.one_of(st.none(), st.integers(min_value=0, max_value=30 * 86400)),  # paused seconds ago
        st.booleans(),  # the course freezes access while paused
        st.integers(min_value=0, max_value=10**6),  # total paused so far
    ),
    min_size=1,
    max_size=8,
)
operations = st.one_of(
    st.builds(Extend, days=st.integers(min_value=-3, max_value=20_000)),
    st.builds(
        Extend,
        until=st.integers(min_value=-10, max_value=5000).map(lambda d: NOW + d * DAY),
        days=st.none() | st.integers(1, 9),
    ),
    st.builds(Extend, indefinite=st.just(True), days=st.none() | st.integers(1, 9)),
    st.just(Pause()),
    st.just(Resume()),
)


def plan_rows(plan):
    return (
        [(c.enrollment_id, c.action, c.before, c.after, c.paused_seconds) for c in plan.changes],
        [(s.enrollment_id, s.error.code) for s in plan.skips],
        list(plan.unchanged),
    )


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(rows=rows, operation=operations, named=st.booleans(), subset=st.integers(0, 255))
def test_preview_is_what_apply_does(clock, rows, operation, named, subset):
    clock.set(NOW)
    with transaction.atomic():
        courses = [
            CourseFactory(pause_freezes_access=True),
            CourseFactory(pause_freezes_access=False),
        ]
        enrollments = [
            EnrollmentFactory(
                course=courses[0 if freezes else 1],
                start_at=NOW - 500 * DAY,
                ended_at=ended_at,
                is_paused=paused_ago is not None,
                paused_at=None if paused_ago is None else NOW - timedelta(seconds=paused_ago),
                total_paused_duration=total,
            )
            for ended_at, paused_ago, freezes, total in rows
        ]
        picked = [e.pk for i, e in enumerate(enrollments) if subset >> (i % 8) & 1]
        if named:
            selection = Selection.named(picked)
        else:
            selection = Selection.by_filter(Enrollment.objects.filter(pk__in=picked))
        try:
            shown = preview(operation, selection)
        except DomainError as error:
            with pytest.raises(type(error)):
                apply(operation, selection, Attribution(None, AccessChange.Source.COMMAND))
            assert not AccessChange.objects.exists()
            transaction.set_rollback(True)
            return
        done = apply(
            operation,
            selection,
            Attribution(None, AccessChange.Source.COMMAND),
            expected=shown.fingerprint(),
        )
        assert plan_rows(done) == plan_rows(shown)
        assert done.selected == len(picked)
        for change in done.changes:
            row = Enrollment.objects.get(pk=change.enrollment_id)
            assert (row.ended_at, row.is_paused, row.paused_at, row.total_paused_duration) == (
                change.after.ended_at,
                change.after.is_paused,
                change.after.paused_at,
                change.after.total_paused_duration,
            )
        untouched = {s.enrollment_id for s in done.skips} | set(done.unchanged)
        for enrollment in enrollments:
            if enrollment.pk in untouched or enrollment.pk not in picked:
                row = Enrollment.objects.get(pk=enrollment.pk)
                assert (row.ended_at, row.is_paused, row.paused_at) == (
                    enrollment.ended_at,
                    enrollment.is_paused,
                    enrollment.paused_at,
                )
        audit = {a.enrollment_id: a for a in AccessChange.objects.all()}
        assert len(audit) == AccessChange.objects.count() == len(done.changes)
        for change in done.changes:
            row = audit[change.enrollment_id]
            assert (row.action, row.old_ended_at, row.new_ended_at, row.paused_seconds) == (
                change.action,
                change.old_ended_at,
                change.new_ended_at,
                change.paused_seconds,
            )
            assert row.batch_id == done.batch_id
        transaction.set_rollback(True)
