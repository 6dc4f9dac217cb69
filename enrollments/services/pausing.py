"""Pausing and resuming enrollments, one or many.

A paused enrollment gives no access. On resume the paused seconds are added to
`total_paused_duration` and, when the course's `pause_freezes_access` is on, to `ended_at` too
(rules.resume_outcome). Single services raise AlreadyPaused / NotPaused; bulk ones skip those
rows and report them.
"""

import uuid
from datetime import datetime

from django.db import transaction
from django.db.models import QuerySet

from enrollments import clock
from enrollments.errors import AlreadyPaused, NotPaused
from enrollments.models import AccessChange, Enrollment
from enrollments.rules import (
    PAUSE_COLUMNS,
    RESUME_COLUMNS,
    PlannedChange,
    plan_bulk_pause,
    plan_bulk_resume,
    resume_outcome,
)
from enrollments.services.audit import Attribution, save_audit_rows
from enrollments.services.locking import lock_enrollment, lock_rows
from enrollments.services.results import BulkResult
from lms.batching import chunked
from lms.models import User


def enrollment_pause(
    *,
    enrollment: Enrollment,
    actor: User | None,
    source: AccessChange.Source,
    reason: str = "",
) -> Enrollment:
    """Pauses one enrollment now. Raises AlreadyPaused or MembershipNotFound."""
    by = Attribution(actor, source, reason)
    with transaction.atomic():
        locked = lock_enrollment(enrollment.pk)
        now = clock.now()  # read after the lock: a pause is timed from when it happened
        if locked.is_paused:
            raise AlreadyPaused()
        audit = _pause(locked, now=now, by=by)
        Enrollment.objects.filter(pk=locked.pk).update(
            is_paused=True, paused_at=now, updated_at=now
        )
        audit.save(force_insert=True)
    return locked


def enrollment_resume(
    *,
    enrollment: Enrollment,
    actor: User | None,
    source: AccessChange.Source,
    reason: str = "",
) -> Enrollment:
    """Resumes one paused enrollment now. Raises NotPaused or MembershipNotFound."""
    by = Attribution(actor, source, reason)
    with transaction.atomic():
        locked = lock_enrollment(enrollment.pk)
        now = clock.now()  # read after the lock: a pause is timed from when it happened
        if not locked.is_paused:
            raise NotPaused()
        audit = _resume(locked, now=now, by=by)
        Enrollment.objects.filter(pk=locked.pk).update(
            is_paused=False,
            paused_at=None,
            total_paused_duration=locked.total_paused_duration,
            ended_at=locked.ended_at,
            updated_at=now,
        )
        audit.save(force_insert=True)
    return locked


def enrollments_pause_bulk(
    *,
    queryset: QuerySet[Enrollment],
    actor: User | None,
    source: AccessChange.Source,
    reason: str = "",
    batch_id: uuid.UUID | None = None,
) -> BulkResult:
    """Pauses every enrollment of `queryset` that is not paused yet; skips (AlreadyPaused) the
    others (rules.plan_bulk_pause). All or nothing."""
    result = BulkResult(batch_id=batch_id or uuid.uuid4())
    by = Attribution(actor, source, reason, result.batch_id)
    with transaction.atomic():
        rows = lock_rows(queryset, *PAUSE_COLUMNS)
        now = clock.now()
        result.changed, result.skipped = plan_bulk_pause(rows)
        for chunk in chunked(result.changed):
            Enrollment.objects.filter(pk__in=[change.enrollment_id for change in chunk]).update(
                is_paused=True, paused_at=now, updated_at=now
            )
            save_audit_rows(
                _pause(
                    Enrollment(pk=change.enrollment_id, ended_at=change.old_ended_at),
                    now=now,
                    by=by,
                )
                for change in chunk
            )
    return result


def enrollments_resume_bulk(
    *,
    queryset: QuerySet[Enrollment],
    actor: User | None,
    source: AccessChange.Source,
    reason: str = "",
    batch_id: uuid.UUID | None = None,
) -> BulkResult:
    """Resumes every paused enrollment of `queryset`; skips (NotPaused) the others
    (rules.plan_bulk_resume). Each row's paused time differs, so rows are written with
    bulk_update (one CASE statement per chunk). All or nothing."""
    result = BulkResult(batch_id=batch_id or uuid.uuid4())
    by = Attribution(actor, source, reason, result.batch_id)
    with transaction.atomic():
        rows = lock_rows(queryset, *RESUME_COLUMNS)
        now = clock.now()
        result.changed, result.skipped = plan_bulk_resume(rows, now=now)
        for chunk in chunked(result.changed):
            Enrollment.objects.bulk_update(
                [
                    Enrollment(
                        pk=change.enrollment_id,
                        is_paused=False,
                        paused_at=None,
                        total_paused_duration=change.total_paused_duration,
                        ended_at=change.new_ended_at,
                        updated_at=now,
                    )
                    for change in chunk
                ],
                ["is_paused", "paused_at", "total_paused_duration", "ended_at", "updated_at"],
            )
            save_audit_rows(_resume_audit(change, now=now, by=by) for change in chunk)
    return result


def _pause(enrollment: Enrollment, *, now: datetime, by: Attribution) -> AccessChange:
    """Marks `enrollment` paused in memory; returns its unsaved audit row."""
    enrollment.is_paused, enrollment.paused_at, enrollment.updated_at = True, now, now
    return by.audit_row(
        enrollment_id=enrollment.pk,
        action=AccessChange.Action.PAUSE,
        now=now,
        old_is_paused=False,
        new_is_paused=True,
        old_ended_at=enrollment.ended_at,
        new_ended_at=enrollment.ended_at,
    )


def _resume(enrollment: Enrollment, *, now: datetime, by: Attribution) -> AccessChange:
    """Applies the resume arithmetic to `enrollment` in memory; returns its unsaved audit row."""
    outcome = resume_outcome(
        paused_at=enrollment.paused_at,
        total_paused_duration=enrollment.total_paused_duration,
        ended_at=enrollment.ended_at,
        pause_freezes_access=enrollment.course.pause_freezes_access,
        now=now,
    )
    change = PlannedChange(
        enrollment.pk,
        enrollment.ended_at,
        outcome.ended_at,
        paused_seconds=outcome.paused_seconds,
        total_paused_duration=outcome.total_paused_duration,
    )
    enrollment.is_paused, enrollment.paused_at = False, None
    enrollment.total_paused_duration = change.total_paused_duration
    enrollment.ended_at = change.new_ended_at
    enrollment.updated_at = now
    return _resume_audit(change, now=now, by=by)


def _resume_audit(change: PlannedChange, *, now: datetime, by: Attribution) -> AccessChange:
    return by.audit_row(
        enrollment_id=change.enrollment_id,
        action=AccessChange.Action.RESUME,
        now=now,
        old_is_paused=True,
        new_is_paused=False,
        old_ended_at=change.old_ended_at,
        new_ended_at=change.new_ended_at,
        paused_seconds=change.paused_seconds,
    )
