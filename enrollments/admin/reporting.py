"""Messages that report a bulk operation to staff: counts, and the skipped rows by name with
the domain error's message (the same wording the API and the commands use, translated at this
door: `error_text`, `translated`)."""

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

from django.contrib import messages
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from enrollments.admin.display import counted, enrollment_label, format_instant, number
from enrollments.errors import DomainError
from enrollments.models import Enrollment
from enrollments.operations import Plan, Skip

#: Skipped rows named in a message; the rest are counted ("and 12 more").
NAMED_SKIPPED = 5


def translated(text: str | None) -> str | None:
    """A domain error's words (the core's English, the API contract's) in the active language:
    errors.py marks them for the catalogue, and the admin door, not the core, translates, so
    the GraphQL answers keep the contract's English. Empty text stays as it is (gettext("")
    would be the catalogue's header)."""
    return _(text) if text else text


def _filled(template: str, instants: Mapping[str, datetime], write: Callable) -> str:
    """A message template's `{placeholders}` (errors.py) filled with its instants as `write`
    writes them (none: the template as it is, as errors.py fills it)."""
    if not instants:
        return template
    return template.format_map({name: write(value) for name, value in instants.items()})


def error_message(error: DomainError) -> str:
    """The contract's message of `error` in the active language, the instants it names (the
    2038 limit) written in the staff member's zone, named (`format_instant`), where the core
    writes UTC: a message with instants is translated as its template, then filled
    (errors.DomainError.text's rule); a message worded by the instance (`error.phrase`, a
    webhook URL's reason) is translated whole with its values."""
    if error.phrase is not None:
        return error.phrase.translated()
    kind = type(error)
    if kind.message_template and error.message == kind.message:
        return _filled(_(kind.message_template), kind.message_instants, format_instant)
    return translated(error.message) or ""


def error_text(error: DomainError) -> str:
    """`error_message`, with the operator detail when there is one (its instants written the
    same way, its template translated before it is filled; a detail naming values, a Phrase,
    translated with them)."""
    message = error_message(error)
    detail = error.detail
    if error.detail_phrase is not None:
        detail = error.detail_phrase.translated()
    elif error.detail_template and error.instants:
        detail = _filled(_(error.detail_template), error.instants, format_instant)
    else:
        detail = translated(detail)
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
        more = len(skipped) - limit
        # Translators: after the skipped enrollments named in a message, how many more.
        text += ngettext("; and %(count)s more", "; and %(count)s more", more) % {
            "count": number(more)
        }
    return text


def report_plan(request: HttpRequest, result: Plan, *, done) -> None:
    """One success message with the count (`done`: the page's sentence, an ngettext_lazy:
    "Paused %(count)s enrollments"), one warning naming the skipped rows, and an info message
    for rows that needed no change (selected but neither changed nor skipped)."""
    if result.changed_count:
        messages.success(request, f"{counted(done, result.changed_count)}.")
    if result.skipped_count:
        messages.warning(
            request,
            ngettext(
                "Skipped %(count)s enrollment: %(skipped)s.",
                "Skipped %(count)s enrollments: %(skipped)s.",
                result.skipped_count,
            )
            % {"count": number(result.skipped_count), "skipped": skipped_summary(result.skips)},
        )
    unchanged = len(result.unchanged)
    if unchanged > 0:
        messages.info(
            request,
            ngettext(
                "%(count)s enrollment already as asked: nothing to change.",
                "%(count)s enrollments already as asked: nothing to change.",
                unchanged,
            )
            % {"count": number(unchanged)},
        )
    if not result.selected:
        messages.info(request, _("No enrollment matched the selection: nothing changed."))


def report_one(request: HttpRequest, result: Plan, *, done_one) -> None:
    """The change page's report of its one enrollment: done (`done_one`, the page's sentence:
    "Paused this enrollment."), or the reason it was not."""
    if result.skips:
        messages.warning(request, error_text(result.skips[0].error))
    elif result.changes:
        messages.success(request, str(done_one))
    else:
        messages.info(request, _("This enrollment is already as asked: nothing to change."))
