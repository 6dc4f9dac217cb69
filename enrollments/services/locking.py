"""The row lock of services that decide from one enrollment outside the operation core
(completing an item).

Every service locks the enrollment it decides from with SELECT ... FOR UPDATE before reading
its state, so a change committed meanwhile (a pause) is seen, not raced. The operation core
locks its selections itself, in primary-key order (enrollments.operations.core). SQLite has no
row locks: there the IMMEDIATE transaction mode set in settings serialises writers.
"""

from enrollments.errors import MembershipNotFound
from enrollments.models import Enrollment


def lock_enrollment(pk: object) -> Enrollment:
    """The enrollment, re-read under a row lock, with its course."""
    try:
        return (
            Enrollment.objects.select_for_update(of=("self",)).select_related("course").get(pk=pk)
        )
    except Enrollment.DoesNotExist:
        raise MembershipNotFound() from None
