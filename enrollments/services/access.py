"""Extending access: one enrollment (the contract's `extendStudentCourseAccess`) or many."""

import uuid
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F, QuerySet

from enrollments import clock
from enrollments.models import AccessChange, Enrollment
from enrollments.rules import ExtensionRequest, PlannedChange, plan_bulk_extension
from enrollments.services.audit import Attribution, save_audit_rows
from enrollments.services.locking import lock_enrollment, lock_rows
from enrollments.services.results import BulkResult
from lms.batching import chunked
from lms.models import User


def enrollment_extend_access(
    *,
    enrollment: Enrollment,
    days: int | None = None,
    until: datetime | None = None,
    indefinite: bool = False,
    actor: User | None,
    source: AccessChange.Source,
    reason: str = "",
) -> Enrollment:
    """Extends one enrollment's access by `days`, to `until`, or makes it indefinite.

    Rules (ExtensionRequest): indefinite wins, then until, then days; days count from the
    current end even when it is in the past. The row is locked first, so concurrent extensions
    all count. Granting indefinite access to an indefinite enrollment succeeds and writes
    nothing. Raises InvalidExtensionPeriod, NoEndDate or MembershipNotFound.
    """
    by = Attribution(actor, source, reason)
    request = ExtensionRequest(days=days, until=until, indefinite=indefinite)
    request.validate(now=clock.now())
    with transaction.atomic():
        locked = lock_enrollment(enrollment.pk)
        now = clock.now()  # read after the lock: audit rows follow the order changes happened
        old_end = locked.ended_at
        new_end = request.new_ended_at(current=old_end, now=now)
        if new_end == old_end:
            return locked
        Enrollment.objects.filter(pk=locked.pk).update(ended_at=new_end, updated_at=now)
        locked.ended_at, locked.updated_at = new_end, now
        by.audit_row(
            enrollment_id=locked.pk,
            action=request.action,
            now=now,
            old_ended_at=old_end,
            new_ended_at=new_end,
        ).save(force_insert=True)
    return locked


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
) -> BulkResult:
    """Extends every enrollment of `queryset` by the same rule, all or nothing.

    Rows that cannot be extended (no end date, still expired afterwards, past the 2038 limit)
    are skipped and reported, not failed: see rules.plan_bulk_extension. The changes are written
    with one UPDATE per chunk of rows and the audit rows with bulk INSERTs, in one transaction:
    if anything raises, no enrollment and no audit row changes. A request invalid for every row
    (days <= 0, no parameter) raises InvalidExtensionPeriod before anything is read.

    `batch_id` (default: a new one) marks every audit row; pass the same id to the calls of one
    operation that runs in several batches (a command over 100,000 rows).
    """
    request = ExtensionRequest(days=days, until=until, indefinite=indefinite)
    request.validate(now=clock.now())
    result = BulkResult(batch_id=batch_id or uuid.uuid4())
    by = Attribution(actor, source, reason, result.batch_id)
    with transaction.atomic():
        rows = lock_rows(queryset, "ended_at")
        now = clock.now()
        result.changed, result.skipped = plan_bulk_extension(rows, request, now=now)
        for chunk in chunked(result.changed):
            _write_extension_chunk(chunk, request, now=now)
            save_audit_rows(
                by.audit_row(
                    enrollment_id=change.enrollment_id,
                    action=request.action,
                    now=now,
                    old_ended_at=change.old_ended_at,
                    new_ended_at=change.new_ended_at,
                )
                for change in chunk
            )
    return result


def _write_extension_chunk(
    chunk: list[PlannedChange], request: ExtensionRequest, *, now: datetime
) -> None:
    """One UPDATE for the chunk: every row gets the same new value, or the same number of days
    added to its own (locked, already validated) end date."""
    rows = Enrollment.objects.filter(pk__in=[change.enrollment_id for change in chunk])
    if request.action is AccessChange.Action.EXTEND:
        rows.update(ended_at=F("ended_at") + timedelta(days=request.days), updated_at=now)
    else:
        rows.update(ended_at=chunk[0].new_ended_at, updated_at=now)
