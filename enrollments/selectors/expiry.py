"""Reads about ends of access: the access report and the enrollments due an expiry reminder."""

from datetime import datetime, timedelta

from django.db.models import Exists, OuterRef, Q, QuerySet

from enrollments.models import Enrollment, ExpiryReminder
from enrollments.rules import AccessState
from enrollments.selectors.access import access_state_q


def ends_between_q(*, after: datetime, until: datetime) -> Q:
    """Access ends in `(after, until]`: the access report's window and the admin's "access ends
    within N days" filter. Indefinite enrollments never end, so they never match."""
    return Q(ended_at__gt=after, ended_at__lte=until)


def enrollments_ending_between(
    *, after: datetime, until: datetime, course_id: object | None = None
) -> QuerySet[Enrollment]:
    """Enrollments whose access ends in `(after, until]`, soonest first, with user and course.

    The access report asks for `(now, now + N days]` (ending soon) or `(now - N days, now]`
    (ended lately). Indefinite enrollments never end, so they are never listed.
    """
    queryset = Enrollment.objects.filter(
        ends_between_q(after=after, until=until), removed_at__isnull=True
    )
    if course_id is not None:
        queryset = queryset.filter(course_id=course_id)
    return queryset.select_related("user", "course").order_by("ended_at", "user__email", "pk")


def enrollments_due_expiry_reminder(*, within: timedelta, at: datetime) -> QuerySet[Enrollment]:
    """Active enrollments whose access ends within `within` of `at` and whose learner has not
    been reminded of that end date yet.

    Paused enrollments get no reminder: they give no access now, and when the course freezes
    access during pauses their end date moves on resume, so the date would be wrong (they are
    reminded once resumed, if the end is still near). Not-started enrollments and inactive
    users are left out too. A reminder row is kept per (enrollment, ended_at): an extension
    gives a new end date, which has no reminder yet, so it re-arms the reminder.
    """
    already_reminded = ExpiryReminder.objects.filter(
        enrollment_id=OuterRef("pk"), ended_at=OuterRef("ended_at")
    )
    return (
        Enrollment.objects.filter(
            access_state_q(AccessState.ACTIVE, at=at),
            Q(ended_at__isnull=False, ended_at__lte=at + within),
            user__is_active=True,
        )
        .exclude(Exists(already_reminded))
        .order_by("ended_at", "pk")
    )
