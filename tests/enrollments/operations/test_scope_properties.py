"""Property (hypothesis), issue 25: for random course-role assignments, operations and
selections (named or by filter, any subset of four courses' enrollments), no write ever
touches a row outside the actor's scope, the preview of the scoped selection is exactly what
`apply` then does, and the course staff's limits hold on every change made."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from enrollments.errors import DomainError
from enrollments.models import AccessChange, Enrollment
from enrollments.operations import Expire, Extend, Pause, Remove, Resume, Selection, apply, preview
from enrollments.operations.audit import Attribution
from enrollments.operations.limits import CourseLimits, refusal
from enrollments.operations.scope import scope_of
from tests.factories import CourseFactory, CourseRoleFactory, EnrollmentFactory, StaffFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 1, 1, tzinfo=UTC)
DAY = timedelta(days=1)
COURSES = 4

#: Per course: no role, staff or manager; and the course's limits.
roles = st.lists(st.sampled_from([None, "staff", "manager"]), min_size=COURSES, max_size=COURSES)
limits = st.lists(
    st.tuples(st.none() | st.integers(1, 60), st.booleans()), min_size=COURSES, max_size=COURSES
)
rows = st.lists(
    st.tuples(
        st.integers(0, COURSES - 1),  # the course
        st.none() | st.integers(-100, 100),  # end, in days from now (None: indefinite)
        st.booleans(),  # paused
    ),
    min_size=1,
    max_size=10,
)
operations = st.one_of(
    st.builds(Extend, days=st.integers(1, 90)),
    st.builds(Extend, until=st.integers(1, 120).map(lambda d: NOW + d * DAY)),
    st.just(Extend(indefinite=True)),
    st.just(Pause()),
    st.just(Resume()),
    st.builds(Expire, at=st.integers(1, 20).map(lambda d: NOW + d * DAY)),
    st.just(Remove()),
)


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    roles=roles,
    limits=limits,
    rows=rows,
    operation=operations,
    named=st.booleans(),
    subset=st.integers(0, 1023),
    reason=st.sampled_from(["", "ticket 12"]),
)
def test_no_write_leaves_the_actors_scope(
    clock, roles, limits, rows, operation, named, subset, reason
):
    clock.set(NOW)
    with transaction.atomic():
        courses = [
            CourseFactory(staff_max_extension_days=days, staff_reason_required=required)
            for days, required in limits
        ]
        actor = StaffFactory()
        for course, role in zip(courses, roles, strict=True):
            if role is not None:
                CourseRoleFactory(user=actor, course=course, role=role)
        enrollments = [
            EnrollmentFactory(
                course=courses[index],
                start_at=NOW - 200 * DAY,
                ended_at=None if end is None else NOW + end * DAY,
                is_paused=paused,
                paused_at=NOW - 3 * DAY if paused else None,
            )
            for index, end, paused in rows
        ]
        picked = [e.pk for i, e in enumerate(enrollments) if subset >> i & 1]
        scope = scope_of(actor, operation.permission)
        if named:
            selection = Selection.named(picked, scope=scope)
        else:
            selection = Selection.by_filter(Enrollment.objects.filter(pk__in=picked), scope=scope)
        before = {e.pk: e for e in Enrollment.objects.all()}
        by = Attribution(actor, AccessChange.Source.ADMIN, reason)
        try:
            shown = preview(operation, selection, reason=reason)
        except DomainError as error:
            with pytest.raises(type(error)):
                apply(operation, selection, by)
            transaction.set_rollback(True)
            return
        # The door's scope, or none: the core keeps to the actor's all the same.
        unscoped = Selection(selection.queryset, selection.ids)
        done = apply(operation, unscoped, by, expected=shown.fingerprint())
        assert [(c.enrollment_id, c.before, c.after) for c in done.changes] == [
            (c.enrollment_id, c.before, c.after) for c in shown.changes
        ]
        assert [(s.enrollment_id, s.error.code) for s in done.skips] == [
            (s.enrollment_id, s.error.code) for s in shown.skips
        ]
        role_of = {course.pk: role for course, role in zip(courses, roles, strict=True)}
        limits_of = {
            course.pk: CourseLimits(course.staff_max_extension_days, course.staff_reason_required)
            for course in courses
        }
        changed = {c.enrollment_id: c for c in done.changes}
        for pk, old in before.items():
            row = Enrollment.objects.get(pk=pk)
            moved = (row.ended_at, row.is_paused, row.removed_at, row.updated_at) != (
                old.ended_at,
                old.is_paused,
                old.removed_at,
                old.updated_at,
            )
            assert moved == (pk in changed)
            if pk in changed:
                assert scope.covers(old.course_id)
                assert role_of[old.course_id] is not None
                if role_of[old.course_id] == "staff":
                    # Staff: within the course's limits, and only their operations.
                    assert operation.permission.codename in {"extend_access", "pause_enrollment"}
                    assert (
                        refusal(changed[pk], limits_of[old.course_id], reason=reason, now=NOW)
                        is None
                    )
        audited = set(AccessChange.objects.values_list("enrollment_id", flat=True))
        assert audited == set(changed)
        assert all(scope.covers(before[pk].course_id) for pk in audited)
        transaction.set_rollback(True)
