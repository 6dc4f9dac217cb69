"""Enrolling a user in a course."""

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction

from enrollments import clock
from enrollments.access_window import MAX_ENDED_AT
from enrollments.errors import AccessEndOutOfRange, AlreadyEnrolled
from enrollments.models import AccessChange, Enrollment
from enrollments.operations.audit import Attribution
from lms.models import Course, User


def enrollment_create(
    *,
    user: User,
    course: Course,
    start_at: datetime | None = None,
    actor: User | None = None,
    source: AccessChange.Source = AccessChange.Source.SYSTEM,
    reason: str = "",
) -> Enrollment:
    """Enrolls `user` in `course`, starting at `start_at` (default: now).

    The end of access is `start_at + course.access_days` (indefinite when the course has no
    default), stored on the enrollment: changing the course's default later does not move the
    learners already enrolled. Raises AlreadyEnrolled or AccessEndOutOfRange.
    """
    by = Attribution(actor, source, reason)
    now = clock.now()
    start_at = start_at or now
    ended_at = None
    if course.access_days is not None:
        # A start near year 9999 (the admin's add form takes any) would overflow the calendar
        # before the 2038 check: it ends past 2038 all the same.
        if start_at > MAX_ENDED_AT - timedelta(days=course.access_days):
            raise AccessEndOutOfRange()
        ended_at = start_at + timedelta(days=course.access_days)
    try:
        with transaction.atomic():
            enrollment = Enrollment(user=user, course=course, start_at=start_at, ended_at=ended_at)
            enrollment.save(force_insert=True)
            by.audit_row(
                enrollment_id=enrollment.pk,
                action=AccessChange.Action.ENROLL,
                now=now,
                new_ended_at=ended_at,
                new_is_paused=False,
            ).save(force_insert=True)
    except IntegrityError as error:
        if Enrollment.objects.filter(user=user, course=course).exists():
            raise AlreadyEnrolled() from error
        raise
    return enrollment
