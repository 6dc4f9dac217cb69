"""Pausing and resuming enrollments, one or many: thin wrappers over the operation core
(operations.Pause / operations.Resume). Single services raise AlreadyPaused / NotPaused; bulk
ones skip those rows and report them."""

import uuid

from django.db.models import QuerySet

from enrollments.models import AccessChange, Enrollment
from enrollments.operations import Pause, Plan, Resume, Selection, apply, apply_to_one
from enrollments.operations.audit import Attribution
from lms.models import User


def enrollment_pause(
    *, enrollment: Enrollment, actor: User | None, source: AccessChange.Source, reason: str = ""
) -> Enrollment:
    """Pauses one enrollment now. Raises AlreadyPaused or MembershipNotFound."""
    return apply_to_one(Pause(), enrollment, Attribution(actor, source, reason))


def enrollment_resume(
    *, enrollment: Enrollment, actor: User | None, source: AccessChange.Source, reason: str = ""
) -> Enrollment:
    """Resumes one paused enrollment now. Raises NotPaused or MembershipNotFound."""
    return apply_to_one(Resume(), enrollment, Attribution(actor, source, reason))


def enrollments_pause_bulk(
    *,
    queryset: QuerySet[Enrollment],
    actor: User | None,
    source: AccessChange.Source,
    reason: str = "",
    batch_id: uuid.UUID | None = None,
) -> Plan:
    """Pauses every enrollment of `queryset` not paused yet; skips the others. All or
    nothing."""
    by = Attribution(actor, source, reason, batch_id)
    return apply(Pause(), Selection.by_filter(queryset), by)


def enrollments_resume_bulk(
    *,
    queryset: QuerySet[Enrollment],
    actor: User | None,
    source: AccessChange.Source,
    reason: str = "",
    batch_id: uuid.UUID | None = None,
) -> Plan:
    """Resumes every paused enrollment of `queryset`; skips the others. All or nothing."""
    by = Attribution(actor, source, reason, batch_id)
    return apply(Resume(), Selection.by_filter(queryset), by)
