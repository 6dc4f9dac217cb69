"""Access state in Python and in SQL: the rule (enrollments.rules.access_state) applied to one
enrollment, and its SQL twin for querysets, so every list filters as the API answers."""

from datetime import datetime

from django.db.models import Q, QuerySet

from enrollments import clock
from enrollments.models import Enrollment
from enrollments.rules import AccessState, access_state


def enrollment_access_state(enrollment: Enrollment, *, at: datetime | None = None) -> AccessState:
    return access_state(
        start_at=enrollment.start_at,
        ended_at=enrollment.ended_at,
        is_paused=enrollment.is_paused,
        at=at or clock.now(),
        removed_at=enrollment.removed_at,
    )


def enrollment_has_access(enrollment: Enrollment, *, at: datetime | None = None) -> bool:
    """Whether the enrollment gives access at `at` (default now): started, not ended, not
    paused."""
    return enrollment_access_state(enrollment, at=at) is AccessState.ACTIVE


def access_state_q(state: AccessState | str, *, at: datetime | None = None) -> Q:
    """A filter matching the enrollments in `state` at `at`: the SQL twin of rules.access_state,
    for querysets (GraphQL filters, admin filters, commands)."""
    at = at or clock.now()
    state = AccessState(state)
    if state is AccessState.REMOVED:
        return Q(removed_at__isnull=False)
    running = Q(is_paused=False, removed_at__isnull=True)
    if state is AccessState.PAUSED:
        return Q(is_paused=True, removed_at__isnull=True)
    if state is AccessState.NOT_STARTED:
        return running & Q(start_at__gt=at)
    if state is AccessState.EXPIRED:
        return running & Q(start_at__lte=at, ended_at__lte=at)
    return running & Q(start_at__lte=at) & (Q(ended_at__isnull=True) | Q(ended_at__gt=at))


def not_removed(queryset: QuerySet[Enrollment]) -> QuerySet[Enrollment]:
    """The enrollments of `queryset` without the removal mark: what the default lists show
    (the API's membership lists, the admin changelist, reports and reminders)."""
    return queryset.filter(removed_at__isnull=True)
