"""Dry runs of the bulk pause and resume services: what they would do now, without writing.

The extension's dry run is `selectors.extension_preview`; these are its twins for pausing and
resuming. They read the columns the services lock (rules.PAUSE_COLUMNS / RESUME_COLUMNS) and
decide with the same pure rules (rules.plan_bulk_pause / plan_bulk_resume), so a dry run
announces exactly what the real run does.
"""

from django.db.models import QuerySet

from enrollments import clock
from enrollments.models import Enrollment
from enrollments.rules import (
    PAUSE_COLUMNS,
    RESUME_COLUMNS,
    PlannedChange,
    Skipped,
    plan_bulk_pause,
    plan_bulk_resume,
)


def _rows(queryset: QuerySet[Enrollment], columns: tuple[str, ...]):
    return (
        Enrollment.objects.filter(pk__in=queryset.values("pk"))
        .order_by("pk")
        .values_list("pk", *columns)
        .iterator(chunk_size=5000)
    )


def pause_preview(*, queryset: QuerySet[Enrollment]) -> tuple[list[PlannedChange], list[Skipped]]:
    """What enrollments_pause_bulk would do to `queryset` now."""
    return plan_bulk_pause(_rows(queryset, PAUSE_COLUMNS))


def resume_preview(*, queryset: QuerySet[Enrollment]) -> tuple[list[PlannedChange], list[Skipped]]:
    """What enrollments_resume_bulk would do to `queryset` now, new end dates included."""
    return plan_bulk_resume(_rows(queryset, RESUME_COLUMNS), now=clock.now())
