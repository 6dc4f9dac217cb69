"""The preview of a plan on a staff page: its counts and its first rows, named.

One copy for every page that previews an operation of the core (confirming.OperationPage),
rendered by `includes/plan_preview.html` and `includes/preview_table.html`."""

from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from enrollments.admin.display import format_instant, natural_key, number
from enrollments.admin.reporting import error_text, translated
from enrollments.errors import message_of
from enrollments.events.previewing import PlannedDeliveries, planned_deliveries
from enrollments.models import Enrollment
from enrollments.operations import Plan
from enrollments.operations.outcomes import Summary

#: Rows named in each preview table; beyond that the page shows counts only.
PREVIEW_ROWS = 100


@dataclass(slots=True)
class PreviewRow:
    """One row of a preview table (includes/preview_table.html)."""

    enrollment: Enrollment | None
    enrollment_id: object
    current_end: str
    new_end: str = ""
    reason: str = ""
    #: An undo's changed row: (field label, now, before the batch) for each field it restores.
    restores: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def student(self) -> str:
        return self.enrollment.user.email if self.enrollment else ""

    @property
    def course(self) -> str:
        return self.enrollment.course.title if self.enrollment else ""


@dataclass(slots=True)
class Preview:
    changed: int
    skipped: int
    unchanged: int
    selected: int
    changed_rows: list[PreviewRow] = field(default_factory=list)
    skipped_rows: list[PreviewRow] = field(default_factory=list)
    #: A preview by counts (a background run's): each skip reason in words with its rows, and
    #: how many rows the tables sample (the first in key order).
    skipped_by_reason: list[tuple[str, int]] = field(default_factory=list)
    sampled: int | None = None
    #: What confirming will send to webhook endpoints ("Will send 3 events to 1 webhook
    #: endpoint."); empty when nothing changes.
    deliveries: str = ""


def build_preview(plan: Plan, zone) -> Preview:
    """The plan's counts, and its first PREVIEW_ROWS changed and skipped rows named (one query
    for the names), in natural order by learner then course (learner3 before learner10)."""
    changes, skips = plan.changes[:PREVIEW_ROWS], plan.skips[:PREVIEW_ROWS]
    ids = [c.enrollment_id for c in changes] + [s.enrollment_id for s in skips]
    enrollments = Enrollment.objects.select_related("user", "course").in_bulk(ids)
    shown = Preview(
        changed=plan.changed_count,
        skipped=plan.skipped_count,
        unchanged=len(plan.unchanged),
        selected=plan.selected,
    )
    for change in changes:
        new_end = change.new_ended_at
        shown.changed_rows.append(
            PreviewRow(
                enrollment=enrollments.get(change.enrollment_id),
                enrollment_id=change.enrollment_id,
                current_end=format_instant(change.old_ended_at, zone),
                new_end=(
                    # Translators: a preview's new end: the same as the current one.
                    _("unchanged")
                    if new_end == change.old_ended_at
                    else format_instant(new_end, zone)
                ),
            )
        )
    for skip in skips:
        enrollment = enrollments.get(skip.enrollment_id)
        shown.skipped_rows.append(
            PreviewRow(
                enrollment=enrollment,
                enrollment_id=skip.enrollment_id,
                current_end=format_instant(enrollment.ended_at, zone) if enrollment else "",
                reason=error_text(skip.error),
            )
        )
    for rows in (shown.changed_rows, shown.skipped_rows):
        rows.sort(key=_natural_order)
    if plan.changes:
        shown.deliveries = deliveries_sentence(planned_deliveries(plan.changes))
    return shown


def build_summary_preview(summary: Summary, zone) -> Preview:
    """The preview of a selection too large to plan row by row (a background run's): the
    counts by SQL (operations.outcomes), each skip reason with its rows, and the tables of the
    sample's rows (the first in key order, planned as the inline preview plans them)."""
    shown = build_preview(summary.sample, zone)
    shown.changed, shown.skipped = summary.changed_count, summary.skipped_count
    shown.unchanged, shown.selected = summary.unchanged_count, summary.selected
    shown.skipped_by_reason = [
        (translated(message_of(code)), count) for code, count in summary.skipped_by_code().items()
    ]
    shown.sampled = summary.sample.selected
    if summary.changed_count:
        planned = planned_deliveries(summary.sample.changes, events=summary.changed_count)
        shown.deliveries = deliveries_sentence(planned)
    else:
        shown.deliveries = ""
    return shown


def deliveries_sentence(planned: PlannedDeliveries) -> str:
    """What confirming sends to webhook endpoints, in the staff member's language: "Confirming
    sends 3 events to 2 webhook endpoints.", or that no endpoint receives them (the words of
    `PlannedDeliveries.sentence`, the commands' English, written here for translation)."""
    count = planned.events
    if not planned.endpoints:
        return ngettext(
            "No enabled webhook endpoint receives this %(count)s event: nothing is sent.",
            "No enabled webhook endpoint receives these %(count)s events: nothing is sent.",
            count,
        ) % {"count": number(count)}
    events = ngettext("%(count)s event", "%(count)s events", count) % {"count": number(count)}
    endpoints = ngettext(
        "%(count)s webhook endpoint", "%(count)s webhook endpoints", planned.endpoints
    ) % {"count": planned.endpoints}
    # Translators: a preview's note: "Confirming sends 3 events to 2 webhook endpoints."
    return _("Confirming sends %(events)s to %(endpoints)s.") % {
        "events": events,
        "endpoints": endpoints,
    }


def _natural_order(row: PreviewRow) -> tuple:
    if row.enrollment is None:
        return ((), ())
    return (natural_key(row.enrollment.user.email), natural_key(row.enrollment.course.title))
