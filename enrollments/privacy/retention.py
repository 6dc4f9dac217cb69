"""The retention of audit reasons: AUDIT_REASON_RETENTION_DAYS (unset: kept for ever).

A reason is free text staff typed about a learner ("extended: ill since March"), so it may be
personal data; the rest of an audit row is the fact the trail exists for. With the setting, the
periodic sweep (`manage.py jobs sweep`) blanks the reasons of audit rows (AccessChange) and of
finished runs (OperationRun) older than that many days, and records it as an `Erasure` of kind
`retention` (when, how many, the setting), like a learner's erasure.

A retention reaching back before the year 1 (more days than the calendar holds) blanks nothing,
and the run is recorded all the same (`_cutoff`).

Once a day at most: the sweep runs every minute, and the audit table has no index on its date
(one more index on the largest table, paid by every change, for a daily read). So a reason goes
within a day of its limit, and the sweep of a busy minute does not scan the table.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from enrollments import clock
from enrollments.models import AccessChange, Erasure, OperationRun

#: The least time between two retention runs.
INTERVAL = timedelta(days=1)


def retention_days() -> int | None:
    """The setting: a whole number of days (at least 1), or None (unset: reasons are kept)."""
    days = getattr(settings, "AUDIT_REASON_RETENTION_DAYS", None)
    if days is None:
        return None
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise ImproperlyConfigured(
            f"AUDIT_REASON_RETENTION_DAYS must be a whole number of days, at least 1 (or unset "
            f"to keep reasons); it is {days!r}"
        )
    return days


def blank_old_reasons(*, now: datetime | None = None, force: bool = False) -> Erasure | None:
    """Blanks the reasons older than the retention; returns the record, or None when the
    setting is unset or the last run is less than INTERVAL ago (`force` runs it anyway)."""
    days = retention_days()
    if days is None:
        return None
    now = now or clock.now()
    recent = Erasure.objects.filter(
        kind=Erasure.Kind.RETENTION, performed_at__gt=now - INTERVAL, performed_at__lte=now
    )
    if not force and recent.exists():
        return None
    cutoff = _cutoff(now, days)
    with transaction.atomic():
        audit = AccessChange.objects.exclude(reason="")
        runs = OperationRun.objects.filter(finished_at__isnull=False).exclude(reason="")
        if cutoff is None:  # before the calendar: nothing is that old
            audit, runs = audit.none(), runs.none()
        else:
            audit, runs = audit.filter(created_at__lt=cutoff), runs.filter(created_at__lt=cutoff)
        return Erasure.objects.create(
            kind=Erasure.Kind.RETENTION,
            source=AccessChange.Source.SYSTEM,
            performed_at=now,
            counts={
                "retention_days": days,
                "audit_reasons_blanked": audit.update(reason=""),
                "run_reasons_blanked": runs.update(reason=""),
            },
        )


def _cutoff(now: datetime, days: int) -> datetime | None:
    """`days` before `now`, or None when that is before the first instant a datetime holds (a
    retention of a million days, someone's "for ever"): no row is that old, so the run blanks
    nothing and is recorded as any other. Refusing the setting instead would stop the sweep,
    every minute, over a value that asks for nothing to be blanked yet."""
    try:
        return now - timedelta(days=days)
    except OverflowError:
        return None
