"""enrollment_create."""

from datetime import timedelta

import pytest

from enrollments.access_window import MAX_ENDED_AT
from enrollments.errors import AccessEndOutOfRange, AlreadyEnrolled
from enrollments.models import AccessChange, Enrollment
from enrollments.operations.enrolling_learners import enrollment_create
from tests.factories import CourseFactory

pytestmark = pytest.mark.django_db


def test_end_is_start_plus_the_course_default_and_stays_put(user, clock, operator):
    course = CourseFactory(access_days=30)
    enrollment = enrollment_create(
        user=user, course=course, actor=operator, source=AccessChange.Source.ADMIN
    )
    assert enrollment.start_at == clock.current
    assert enrollment.ended_at == clock.current + timedelta(days=30)

    course.access_days = 365
    course.save()
    enrollment.refresh_from_db()
    assert enrollment.ended_at == clock.current + timedelta(days=30)

    change = AccessChange.objects.get()
    assert (change.action, change.new_ended_at, change.actor) == (
        AccessChange.Action.ENROLL,
        enrollment.ended_at,
        operator,
    )


def test_course_without_default_gives_indefinite_access(user, clock):
    enrollment = enrollment_create(user=user, course=CourseFactory(access_days=None))
    assert enrollment.ended_at is None


def test_future_start(user, clock):
    start = clock.current + timedelta(days=7)
    enrollment = enrollment_create(user=user, course=CourseFactory(access_days=10), start_at=start)
    assert enrollment.ended_at == start + timedelta(days=10)


def test_twice_is_an_error_and_writes_nothing(user, course, clock):
    enrollment_create(user=user, course=course)
    with pytest.raises(AlreadyEnrolled):
        enrollment_create(user=user, course=course)
    assert Enrollment.objects.count() == 1 and AccessChange.objects.count() == 1


def test_end_past_2038_is_refused(user, clock):
    course = CourseFactory(access_days=3650)
    with pytest.raises(AccessEndOutOfRange):
        enrollment_create(user=user, course=course, start_at=MAX_ENDED_AT - timedelta(days=10))
    assert not Enrollment.objects.exists()
