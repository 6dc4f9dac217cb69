"""Extending access: one enrollment (the contract's `extendStudentCourseAccess`) or many.

Thin wrappers over the operation core (enrollments.operations): `Extend` with a named
selection of one enrollment, or a selection by filter.
"""

import uuid
from datetime import datetime

from django.db.models import QuerySet

from enrollments.models import AccessChange, Enrollment
from enrollments.operations import Extend, Plan, Selection, apply, apply_to_one
from enrollments.operations.audit import Attribution
from lms.models import User


def enrollment_extend_access(
    *,
    enrollment: Enrollment,
    days: int | None = None,
    until: datetime | None = None,
    indefinite: bool = False,
    from_today: bool = False,
    actor: User | None,
    source: AccessChange.Source,
    reason: str = "",
) -> Enrollment:
    """Extends one enrollment's access by `days`, to `until`, or makes it indefinite.

    The contract's rules (operations.Extend): indefinite wins, then until, then days; days
    count from the current end even when it is in the past (with `from_today`: from the later
    of the current end and now). Granting indefinite access to an
    indefinite enrollment succeeds and writes nothing. Raises InvalidExtensionPeriod, NoEndDate
    or MembershipNotFound, having written nothing.
    """
    by = Attribution(actor, source, reason)
    operation = Extend(days=days, until=until, indefinite=indefinite, from_today=from_today)
    return apply_to_one(operation, enrollment, by)


def enrollments_extend_access_bulk(
    *,
    queryset: QuerySet[Enrollment],
    days: int | None = None,
    until: datetime | None = None,
    indefinite: bool = False,
    actor: User | None,
    source: AccessChange.Source,
    reason: str = "",
    batch_id: uuid.UUID | None = None,
) -> Plan:
    """Extends every enrollment of `queryset` (a selection by filter) by the same rule, all or
    nothing; rows that cannot take it are skipped with the reason (see operations.Extend).
    A request invalid for every row raises InvalidExtensionPeriod before anything is read."""
    by = Attribution(actor, source, reason, batch_id)
    operation = Extend(days=days, until=until, indefinite=indefinite)
    return apply(operation, Selection.by_filter(queryset), by)
