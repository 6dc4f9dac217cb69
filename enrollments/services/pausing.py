"""Pausing and resuming enrollments, one or many.

A paused enrollment gives no access. On resume the paused seconds are added to
`total_paused_duration` and, when the course's `pause_freezes_access` is on, to `ended_at` too
(rules.resume_outcome). Single services raise AlreadyPaused / NotPaused; bulk ones skip those
rows and report them.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import QuerySet

from enrollments import clock
from enrollments.errors import AlreadyPaused, NotPaused
from enrollments.models import AccessChange, Enrollment
from enrollments.rules import PlannedChange, Skipped, resume_outcome
from enrollments.services.audit import audit_row, save_audit_rows
from enrollments.services.locking import chunked, lock_enrollment, lock_rows
from enrollments.services.results import BulkResult
from lms.models import User


@dataclass(frozen=True, slots=True)
class _Who:
    actor: User | None
    source: AccessChange.Source
    reason: str


def enrollment_pause(
    *,
    enrollment: Enrollment,
    actor: User | None,
    source: AccessChange.Source,
    reason: str = "",
) -> Enrollment:
    """Pauses one enrollment now. Raises AlreadyPaused or MembershipNotFound."""
    with transaction.atomic():
        locked = lock_enrollment(enrollment.pk)
        now = clock.now()  # read after the lock: a pause is timed from when it happened
        if locked.is_paused:
            raise AlreadyPaused()
        audit = _pause(locked, now=now, who=_Who(actor, source, reason))
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
    with transaction.atomic():
        locked = lock_enrollment(enrollment.pk)
        now = clock.now()  # read after the lock: a pause is timed from when it happened
        if not locked.is_paused:
            raise NotPaused()
        audit = _resume(locked, now=now, who=_Who(actor, source, reason))
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
) -> BulkResult:
    """Pauses every enrollment of `queryset` that is not paused yet; skips (AlreadyPaused) the
    others. All or nothing."""
    who = _Who(actor, source, reason)
    result = BulkResult(batch_id=uuid.uuid4())
    with transaction.atomic():
        locked = lock_rows(queryset, "ended_at", "is_paused")
        now = clock.now()
        to_pause: list[Enrollment] = []
        for pk, ended_at, is_paused in locked:
            if is_paused:
                result.skipped.append(Skipped(pk, AlreadyPaused()))
            else:
                to_pause.append(Enrollment(pk=pk, ended_at=ended_at, is_paused=False))
        for chunk in chunked(to_pause):
            Enrollment.objects.filter(pk__in=[e.pk for e in chunk]).update(
                is_paused=True, paused_at=now, updated_at=now
            )
            save_audit_rows(_pause(e, now=now, who=who, batch_id=result.batch_id) for e in chunk)
        result.changed = [PlannedChange(e.pk, e.ended_at, e.ended_at) for e in to_pause]
    return result


def enrollments_resume_bulk(
    *,
    queryset: QuerySet[Enrollment],
    actor: User | None,
    source: AccessChange.Source,
    reason: str = "",
) -> BulkResult:
    """Resumes every paused enrollment of `queryset`; skips (NotPaused) the others. Each row's
    paused time differs, so rows are written with bulk_update (one CASE statement per chunk)."""
    who = _Who(actor, source, reason)
    result = BulkResult(batch_id=uuid.uuid4())
    with transaction.atomic():
        locked = lock_rows(
            queryset,
            "ended_at",
            "is_paused",
            "paused_at",
            "total_paused_duration",
            "course__pause_freezes_access",
        )
        now = clock.now()
        to_resume: list[tuple[Enrollment, bool]] = []
        for pk, ended_at, is_paused, paused_at, total, freezes in locked:
            if not is_paused:
                result.skipped.append(Skipped(pk, NotPaused()))
                continue
            enrollment = Enrollment(
                pk=pk,
                ended_at=ended_at,
                is_paused=True,
                paused_at=paused_at,
                total_paused_duration=total,
            )
            to_resume.append((enrollment, freezes))
        for chunk in chunked(to_resume):
            audits = []
            for enrollment, freezes in chunk:
                old_end = enrollment.ended_at
                audits.append(
                    _resume(
                        enrollment,
                        now=now,
                        who=who,
                        batch_id=result.batch_id,
                        pause_freezes_access=freezes,
                    )
                )
                enrollment.updated_at = now
                result.changed.append(PlannedChange(enrollment.pk, old_end, enrollment.ended_at))
            Enrollment.objects.bulk_update(
                [enrollment for enrollment, _ in chunk],
                ["is_paused", "paused_at", "total_paused_duration", "ended_at", "updated_at"],
            )
            save_audit_rows(audits)
    return result


def _pause(
    enrollment: Enrollment,
    *,
    now: datetime,
    who: _Who,
    batch_id: uuid.UUID | None = None,
) -> AccessChange:
    """Marks `enrollment` paused in memory; returns its unsaved audit row."""
    enrollment.is_paused, enrollment.paused_at, enrollment.updated_at = True, now, now
    return audit_row(
        enrollment_id=enrollment.pk,
        action=AccessChange.Action.PAUSE,
        actor=who.actor,
        source=who.source,
        reason=who.reason,
        now=now,
        batch_id=batch_id,
        old_is_paused=False,
        new_is_paused=True,
        old_ended_at=enrollment.ended_at,
        new_ended_at=enrollment.ended_at,
    )


def _resume(
    enrollment: Enrollment,
    *,
    now: datetime,
    who: _Who,
    batch_id: uuid.UUID | None = None,
    pause_freezes_access: bool | None = None,
) -> AccessChange:
    """Applies the resume arithmetic to `enrollment` in memory; returns its unsaved audit row."""
    if pause_freezes_access is None:
        pause_freezes_access = enrollment.course.pause_freezes_access
    outcome = resume_outcome(
        paused_at=enrollment.paused_at,
        total_paused_duration=enrollment.total_paused_duration,
        ended_at=enrollment.ended_at,
        pause_freezes_access=pause_freezes_access,
        now=now,
    )
    old_end = enrollment.ended_at
    enrollment.is_paused, enrollment.paused_at = False, None
    enrollment.total_paused_duration = outcome.total_paused_duration
    enrollment.ended_at = outcome.ended_at
    enrollment.updated_at = now
    return audit_row(
        enrollment_id=enrollment.pk,
        action=AccessChange.Action.RESUME,
        actor=who.actor,
        source=who.source,
        reason=who.reason,
        now=now,
        batch_id=batch_id,
        old_is_paused=True,
        new_is_paused=False,
        old_ended_at=old_end,
        new_ended_at=outcome.ended_at,
        paused_seconds=outcome.paused_seconds,
    )
