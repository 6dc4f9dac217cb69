"""Messages that report a bulk operation to staff: counts, and the skipped rows by name with
the domain error's message (the same wording the API and the commands use)."""

from collections.abc import Sequence

from django.contrib import messages
from django.http import HttpRequest

from enrollments.admin.display import enrollment_label, format_instant
from enrollments.errors import DomainError
from enrollments.models import Enrollment
from enrollments.operations import Plan, Skip

#: Skipped rows named in a message; the rest are counted ("and 12 more").
NAMED_SKIPPED = 5


def plural(count: int) -> str:
    """`1 enrollment`, `1,234 enrollments`."""
    return f"{count:,} enrollment{'' if count == 1 else 's'}"


def error_text(error: DomainError) -> str:
    """The contract's message, with the operator detail when there is one; the instants they
    name (the 2038 limit, ...) written in the staff member's zone, named (`format_instant`),
    where the core writes UTC."""
    message, detail = error.text(format_instant)
    return f"{message} ({detail})" if detail else message


def describe_enrollments(ids: Sequence[object]) -> dict[object, str]:
    """`learner@example.com in Course title` for each id, in one query."""
    rows = Enrollment.objects.filter(pk__in=list(ids)).values_list(
        "pk", "user__email", "course__title"
    )
    return {pk: enrollment_label(email, title) for pk, email, title in rows}


def skipped_summary(skipped: Sequence[Skip], limit: int = NAMED_SKIPPED) -> str:
    """The first `limit` skipped rows by name and reason, then how many more."""
    shown = skipped[:limit]
    names = describe_enrollments([row.enrollment_id for row in shown])
    parts = [
        f"{names.get(row.enrollment_id, row.enrollment_id)} ({error_text(row.error)})"
        for row in shown
    ]
    text = "; ".join(parts)
    if len(skipped) > limit:
        text += f"; and {len(skipped) - limit:,} more"
    return text


def report_plan(request: HttpRequest, result: Plan, *, verb: str) -> None:
    """One success message with the count, one warning naming the skipped rows, and an info
    message for rows that needed no change (selected but neither changed nor skipped)."""
    if result.changed_count:
        messages.success(request, f"{verb} {plural(result.changed_count)}.")
    if result.skipped_count:
        messages.warning(
            request,
            f"Skipped {plural(result.skipped_count)}: {skipped_summary(result.skips)}.",
        )
    unchanged = len(result.unchanged)
    if unchanged > 0:
        messages.info(request, f"{plural(unchanged)} already as asked: nothing to change.")
    if not result.selected:
        messages.info(request, "No enrollment matched the selection: nothing changed.")


def report_one(request: HttpRequest, result: Plan, *, verb: str) -> None:
    """The change page's report of its one enrollment: done, or the reason it was not."""
    if result.skips:
        messages.warning(request, error_text(result.skips[0].error))
    elif result.changes:
        messages.success(request, f"{verb} this enrollment.")
    else:
        messages.info(request, "This enrollment is already as asked: nothing to change.")
