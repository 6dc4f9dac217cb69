"""Row locks taken by the services.

Every service locks the enrollments it changes with SELECT ... FOR UPDATE, always in primary-key
order, so that concurrent single and bulk operations over overlapping rows queue up instead of
deadlocking, and each one reads the value the previous one wrote (no lost update). SQLite has no
row locks: there the IMMEDIATE transaction mode set in settings serialises writers.
"""

from typing import Any

from django.db.models import QuerySet

from enrollments.errors import MembershipNotFound
from enrollments.models import Enrollment
from enrollments.selectors import enrollment_rows
from lms.batching import BATCH_SIZE

#: Rows per UPDATE / INSERT statement in bulk services: large enough to be set-based, small
#: enough for SQLite's bound-parameter limit and for steady memory.
CHUNK_SIZE = BATCH_SIZE


def lock_enrollment(pk: object) -> Enrollment:
    """The enrollment, re-read under a row lock, with its course (for pause rules)."""
    try:
        return (
            Enrollment.objects.select_for_update(of=("self",)).select_related("course").get(pk=pk)
        )
    except Enrollment.DoesNotExist:
        raise MembershipNotFound() from None


def lock_rows(queryset: QuerySet[Enrollment], *fields: str) -> list[tuple[Any, ...]]:
    """Locks every enrollment of `queryset` in primary-key order; returns `(pk, *fields)` rows
    (selectors.enrollment_rows, the same read the previews make without the lock)."""
    return list(enrollment_rows(queryset, *fields, lock=True))
