"""Dry runs of the bulk pause and resume services: what they would do now, without writing.

The extension's dry run is `selectors.extension_preview`; these are its twins for pausing and
resuming. They read the same columns the services lock and apply the same rules (a paused row
cannot be paused again, a running one cannot be resumed, `rules.resume_outcome` gives the new
end date), so a dry run announces exactly what the real run does.
"""

from django.db.models import QuerySet

from enrollments import clock
from enrollments.errors import AlreadyPaused, NotPaused
from enrollments.models import Enrollment
from enrollments.rules import PlannedChange, Skipped, resume_outcome


def _rows(queryset: QuerySet[Enrollment], *fields: str):
    return (
        Enrollment.objects.filter(pk__in=queryset.values("pk"))
        .order_by("pk")
        .values_list("pk", *fields)
        .iterator(chunk_size=5000)
    )


def pause_preview(*, queryset: QuerySet[Enrollment]) -> tuple[list[PlannedChange], list[Skipped]]:
    """What enrollments_pause_bulk would do to `queryset` now."""
    changes: list[PlannedChange] = []
    skipped: list[Skipped] = []
    for pk, ended_at, is_paused in _rows(queryset, "ended_at", "is_paused"):
        if is_paused:
            skipped.append(Skipped(pk, AlreadyPaused()))
        else:
            changes.append(PlannedChange(pk, ended_at, ended_at))
    return changes, skipped


def resume_preview(*, queryset: QuerySet[Enrollment]) -> tuple[list[PlannedChange], list[Skipped]]:
    """What enrollments_resume_bulk would do to `queryset` now, new end dates included."""
    now = clock.now()
    changes: list[PlannedChange] = []
    skipped: list[Skipped] = []
    rows = _rows(
        queryset,
        "ended_at",
        "is_paused",
        "paused_at",
        "total_paused_duration",
        "course__pause_freezes_access",
    )
    for pk, ended_at, is_paused, paused_at, total, freezes in rows:
        if not is_paused:
            skipped.append(Skipped(pk, NotPaused()))
            continue
        outcome = resume_outcome(
            paused_at=paused_at,
            total_paused_duration=total,
            ended_at=ended_at,
            pause_freezes_access=freezes,
            now=now,
        )
        changes.append(PlannedChange(pk, ended_at, outcome.ended_at))
    return changes, skipped
