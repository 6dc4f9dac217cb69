"""The database keeps the state coherent whatever path writes it."""

from datetime import timedelta

import pytest
from django.db import DataError, IntegrityError, transaction

from enrollments.access_window import MAX_ENDED_AT, MAX_TOTAL_PAUSED_SECONDS
from enrollments.models import Enrollment
from tests.factories import CourseFactory, EnrollmentFactory

pytestmark = pytest.mark.django_db


def refused(**fields):
    enrollment = EnrollmentFactory()
    # PostgreSQL reports a value past its integer type as DataError before any check runs.
    with pytest.raises((IntegrityError, DataError)), transaction.atomic():
        Enrollment.objects.filter(pk=enrollment.pk).update(**fields)


def test_paused_exactly_when_paused_at_is_set(clock):
    refused(is_paused=True, paused_at=None)
    refused(is_paused=False, paused_at=clock.current)


def test_paused_duration_stays_in_range():
    refused(total_paused_duration=-1)
    refused(total_paused_duration=MAX_TOTAL_PAUSED_SECONDS + 1)


def test_end_fits_a_32_bit_unix_timestamp():
    refused(ended_at=MAX_ENDED_AT + timedelta(seconds=1))
    enrollment = EnrollmentFactory()
    Enrollment.objects.filter(pk=enrollment.pk).update(ended_at=MAX_ENDED_AT)


def test_one_enrollment_per_user_and_course(enrollment):
    with pytest.raises(IntegrityError), transaction.atomic():
        EnrollmentFactory(user=enrollment.user, course=enrollment.course)


def test_course_default_access_days_range():
    for days in (0, 3651):
        with pytest.raises(IntegrityError), transaction.atomic():
            CourseFactory(access_days=days)
