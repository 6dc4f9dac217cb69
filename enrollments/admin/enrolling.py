"""The "Enroll learners…" page (from the enrollment list's object tools), a preview/confirm
page (confirming.py) whose form names the rows: staff pick a course, paste e-mail addresses
(one a line, optionally `email,name` and `,ended_at`) or upload a CSV of the same columns, an
optional end and a reason; Preview shows who will be enrolled (a new learner is created for an
address nobody has: the line must then give a name), restored (a removed enrollment brought
back), updated (an active one given a new end), unchanged or refused (with its line number);
Confirm applies exactly the plan shown (operations.enrolling_learners, shared with `manage.py
enroll`, with the preview's fingerprint: anything different, a second Confirm included,
applies nothing and shows the new preview).

An uploaded file's text is put into the paste box on preview, so Confirm posts the same lines
and the line numbers stay the file's (a first line `email,...` is a header and skipped). At most
MAX_ENTRIES learners: the lines that name one are counted (a header or a blank line is none).
A line's end is read as the page's "End of access" field reads its date, in the staff member's
zone unless it gives an offset (`read_line_end`); the commands read theirs in UTC.

Scoped (issue 25): a course's manager (ENROLL_LEARNERS through a role) is offered only the
courses where they may enroll, and another course posted is refused as an unknown choice; the
core refuses a pair outside the actor's courses anyway (CourseNotFound).
"""

import csv
import io
from dataclasses import dataclass
from datetime import datetime, tzinfo
from functools import cached_property

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, ngettext_lazy

from enrollments.admin import views
from enrollments.admin.confirming import OperationPage, Scope
from enrollments.admin.display import counted_lazy, format_instant, number
from enrollments.admin.forms import OperationForm, localize_wall_time
from enrollments.admin.preview import PREVIEW_ROWS
from enrollments.admin.reporting import error_message, error_text
from enrollments.errors import InvalidAccessEnd
from enrollments.instants import parse_instant
from enrollments.operations import Enroll
from enrollments.operations.audit import Attribution
from enrollments.operations.enrolling_learners import (
    MAX_ENTRIES,
    EntriesPlan,
    Entry,
    apply_entries,
    preview_entries,
)
from lms.models import Course
from lms.text import is_valid_text

#: The largest upload read (a 5,000-line CSV of long addresses fits well within it).
MAX_UPLOAD_BYTES = 2 * 1024 * 1024

OUTCOMES = (
    ("enrolled", gettext_lazy("Will be enrolled")),
    ("restored", gettext_lazy("Will be restored (removed before; the same enrollment comes back)")),
    ("updated", gettext_lazy("Will get the new end of access")),
    ("unchanged", gettext_lazy("Already enrolled: nothing to change")),
    # Translators: the heading of the lines "Enroll learners" refuses.
    ("refused", gettext_lazy("Refused")),
)


#: The core's fixed notes of a preview row (operations.enrolling_learners.EntriesPlan.rows), in
#: the staff member's language; its other notes are this page's (_end_note, _refusal_note).
CORE_NOTES = {
    "new learner": gettext_lazy("new learner"),
    "already enrolled": gettext_lazy("already enrolled"),
}


class EnrollLearnersForm(OperationForm):
    course = forms.ModelChoiceField(
        queryset=Course.objects.order_by("title"),
        label=gettext_lazy("Course"),
        help_text=gettext_lazy("The course the learners are enrolled in."),
    )
    learners = forms.CharField(
        label=gettext_lazy("Learners"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 10, "cols": 60, "spellcheck": "false"}),
        help_text=counted_lazy(
            ngettext_lazy(
                "One e-mail address per line, optionally followed by a comma and the name "
                "(required for someone who has no account yet: one is created) and a comma and "
                "an end of access (ISO 8601, in your time zone unless it ends with an offset "
                "such as +02:00 or Z). At most %(count)s line.",
                "One e-mail address per line, optionally followed by a comma and the name "
                "(required for someone who has no account yet: one is created) and a comma and "
                "an end of access (ISO 8601, in your time zone unless it ends with an offset "
                "such as +02:00 or Z). At most %(count)s lines.",
                "n",
            ),
            MAX_ENTRIES,
        ),
    )
    csv_file = forms.FileField(
        label=gettext_lazy("Or upload a CSV file"),
        required=False,
        # Translators: email, name and ended_at are the file's column names: not translated.
        help_text=gettext_lazy(
            "Columns email,name and optionally ended_at; a header line is allowed."
        ),
    )
    ended_at = forms.DateTimeField(
        label=gettext_lazy("End of access"),
        required=False,
        help_text=gettext_lazy(
            "Optional, in your time zone (YYYY-MM-DD HH:MM). Empty: the course's default "
            "length from now. A line's own end wins."
        ),
    )

    def clean_csv_file(self):
        upload = self.cleaned_data.get("csv_file")
        if upload is None:
            return None
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("The file is larger than 2 MB."))
        try:
            return upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise forms.ValidationError(_("The file is not UTF-8 text.")) from None

    def clean(self):
        cleaned = super().clean()
        text = cleaned.get("csv_file") or cleaned.get("learners") or ""
        if "csv_file" in cleaned and "learners" in cleaned and not text.strip():
            self.add_error("learners", _("Paste at least one e-mail address or upload a file."))
        elif not is_valid_text(text):
            self.add_error("learners", _("The text contains a NUL character or invalid bytes."))
        else:
            try:
                rows = learner_rows(read_rows(text))
            except UnreadableLine as unreadable:
                self.add_error(
                    "learners",
                    _(
                        "Line %(line)s cannot be read: a cell is longer than %(count)s "
                        "characters, or a quote opened there is never closed (it makes the "
                        "lines after it one cell)."
                    )
                    % {"line": number(unreadable.line), "count": number(csv.field_size_limit())},
                )
            else:
                if len(rows) > MAX_ENTRIES:
                    self.add_error(
                        "learners",
                        ngettext(
                            "Too many lines: at most %(count)s learner at a time.",
                            "Too many lines: at most %(count)s learners at a time.",
                            MAX_ENTRIES,
                        )
                        % {"count": number(MAX_ENTRIES)},
                    )
                else:
                    cleaned["rows"] = rows
        cleaned["text"] = text
        if cleaned.get("csv_file"):  # the file's lines travel in the box from now on
            self.data = self.data.copy()
            self.data["learners"] = text
        return cleaned

    def operation(self) -> "Entries":
        return self.entries

    @cached_property
    def entries(self) -> "Entries":
        """The lines as entries, and the lines refused before any lookup (valid form only).
        A line's end is read in the staff member's zone, as the "End of access" field's."""
        data = self.cleaned_data
        return Entries(*parse_lines(data["rows"], data["course"], data["ended_at"], self.zone))


@dataclass(frozen=True, slots=True)
class Entries:
    """What "Enroll learners" asks for: the entries to enroll and the lines already refused."""

    entries: list[Entry]
    early: list[tuple[Entry, Exception]]

    def describe(self) -> str:
        """The request in words (confirming.OperationPage.request_digest): each line read,
        with its address, course, name and end, and the lines refused before any lookup."""
        lines = [
            f"{e.line}:{e.user.lower()}:{e.course.pk if e.course else '-'}:{e.name}:"
            f"{e.ended_at.isoformat() if e.ended_at else '-'}"
            for e in self.entries
        ]
        lines += [f"{e.line}:refused:{type(why).__name__}" for e, why in self.early]
        return "enroll " + "|".join(lines)


@dataclass(frozen=True, slots=True)
class EnrollPreview:
    """The preview's tables (one per outcome), their counts and how many rows change."""

    tables: list[dict]
    counts: dict[str, int]
    changed: int


class UnreadableLine(Exception):
    """The text is not CSV the reader can read from `line` on (the line its record starts)."""

    def __init__(self, line: int) -> None:
        super().__init__(line)
        self.line = line


def read_rows(text: str) -> list[tuple[int, list[str]]]:
    """The pasted (or uploaded) text's records, each with its line number, read in the form's
    clean so that text the csv module refuses is a form error, never a 500: a cell past
    `csv.field_size_limit()` (131,072 characters), which one long line makes, and so does an
    unclosed quote that joins every later line into one cell. Raises UnreadableLine naming the
    line the record starts on (where the stray quote is), not the one the reader gave up at."""
    reader = csv.reader(io.StringIO(text, newline=""))
    rows = []
    while True:
        starts = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return rows
        except csv.Error:
            raise UnreadableLine(starts) from None
        rows.append((reader.line_num, cells))


def learner_rows(rows: list[tuple[int, list[str]]]) -> list[tuple[int, list[str]]]:
    """The rows (`read_rows`) that name a learner, their cells stripped: not a blank line, nor
    a header (a first line whose first cell is `email`). What the learner limit counts."""
    named = []
    for line, cells in rows:
        cells = [cell.strip() for cell in cells]
        if not any(cells) or (line == 1 and cells[0].lower() == "email"):
            continue
        named.append((line, cells))
    return named


def read_line_end(text: str, zone: tzinfo) -> datetime:
    """A line's end of access (ISO 8601) as an aware UTC instant, read as the page's "End of
    access" field reads a date (docs/admin.md, "Your time zone"): without an offset, on the
    wall clock of `zone` (the staff member's; a date alone is midnight there); with an offset
    or Z, as written. The commands read a datetime without offset as UTC
    (instants.parse_instant: a script's or cron's lines), staff type theirs as they read the
    admin's dates. Raises ValueError (not ISO 8601, out of range) or ValidationError (a time
    the zone skips, or one UTC cannot write: forms.localize_wall_time)."""
    wall = datetime.fromisoformat(text.strip())
    if wall.tzinfo is not None:
        return parse_instant(text)
    return localize_wall_time(wall, zone)


def parse_lines(
    rows: list[tuple[int, list[str]]], course: Course, default_end, zone: tzinfo
) -> tuple[list[Entry], list]:
    """The entries of the learners' rows (`learner_rows`) and the lines refused before any
    lookup (a bad end of access), each with its line number. A line's end is read in `zone`
    unless it gives an offset (`read_line_end`)."""
    entries, refused = [], []
    for line, cells in rows:
        email, name, end_text = (cells + ["", ""])[:3]
        entry = Entry(line, email, course, name, default_end)
        if len(cells) > 3:
            # Translators: a pasted line with too many comma-separated cells.
            columns = _("%(count)s columns, at most 3") % {"count": len(cells)}
            refused.append((entry, InvalidAccessEnd(columns)))
            continue
        if end_text:
            try:
                entry = Entry(line, email, course, name, read_line_end(end_text, zone))
            except ValueError:
                not_a_date = _("%(text)r is not an ISO 8601 date") % {"text": end_text}
                refused.append((entry, InvalidAccessEnd(not_a_date)))
                continue
            except ValidationError as error:
                refused.append((entry, InvalidAccessEnd(error.messages[0])))
                continue
        entries.append(entry)
    return entries, refused


class EnrollLearnersPage(OperationPage):
    """The page (see the module): its plan is the core's `EntriesPlan` of the entries."""

    def urls(self, model_admin) -> list[URLPattern]:
        """`admin:enrollments_enrollment_enroll`, under the enrollment admin."""

        def view(request: HttpRequest) -> HttpResponse:
            back = views.changelist_url()
            scope = Scope(None, reverse("admin:enrollments_enrollment_enroll"), back, back)
            return self.respond(model_admin, request, scope)

        return [views.admin_path(model_admin, "enroll/", view, "enroll")]

    def form(self, request: HttpRequest, data, files, *, initial: dict) -> EnrollLearnersForm:
        """The form offering the courses where the user may enroll learners."""
        form = super().form(request, data, files, initial=initial)
        courses = form.fields["course"]
        courses.queryset = courses.queryset.filter(self.actor_scope(request).condition("pk"))
        return form

    def preview(self, operation: Entries, scope: Scope, reason: str = "") -> EntriesPlan:
        return preview_entries(operation.entries, create_users=True)

    def apply(self, operation: Entries, scope: Scope, by: Attribution, expected: str):
        return apply_entries(operation.entries, create_users=True, by=by, expected=expected)

    def rows(self, plan: EntriesPlan, form: EnrollLearnersForm) -> EnrollPreview:
        rows = {
            kind: [(entry, str(CORE_NOTES.get(note, note))) for entry, note in kind_rows]
            for kind, kind_rows in plan.rows(end=_end_note, error=_refusal_note).items()
        }
        early = form.entries.early
        rows["refused"] = sorted(
            rows["refused"] + [(entry, error_text(why)) for entry, why in early],
            key=lambda row: row[0].line,
        )
        tables = [
            {
                "kind": kind,
                "heading": heading,
                "total": len(rows[kind]),
                "rows": rows[kind][:PREVIEW_ROWS],
            }
            for kind, heading in OUTCOMES
        ]
        counts = {kind: len(rows[kind]) for kind, _heading in OUTCOMES}
        changed = sum(counts[kind] for kind in ("enrolled", "restored", "updated"))
        return EnrollPreview(tables, counts, changed)

    def report(self, request, scope, done: EntriesPlan, form: EnrollLearnersForm) -> None:
        summary = enroll_summary(done.counts, len(done.new_learners))
        if summary:
            changed = any(done.counts[kind] for kind in ("enrolled", "restored", "updated"))
            (messages.success if changed else messages.info)(request, summary)
        refused = done.counts["refused"] + len(form.entries.early)
        if refused:
            messages.warning(
                request,
                ngettext("Refused %(count)s line.", "Refused %(count)s lines.", refused)
                % {"count": refused},
            )


def _end_note(value) -> str:
    """A preview note's end of access, in the staff member's zone (the core's notes: UTC)."""
    if value is None:
        return _("indefinite access")
    # Translators: a preview note: the end of access a line will get.
    return _("until %(end)s") % {"end": format_instant(value)}


def _refusal_note(error) -> str:
    """A refused line's note: the error's message, its instants in the staff member's zone."""
    return error_message(error)


def _part(first: bool, alone, after, count: int) -> str:
    """One part of the summary: `alone` (the sentence's start, with its noun) when it comes
    first, else `after` (its count only); both ngettext_lazy pairs."""
    return (alone if first else after) % {"n": count, "count": count}


def enroll_summary(counts: dict[str, int], new: int) -> str:
    """What an "Enroll learners" Confirm did, in one sentence that names only what happened
    (issue 26: "Enrolled 0 learners (0 new), restored 1" read as if nobody was enrolled):
    "Restored 1 learner.", "Enrolled 2 learners (1 new account); restored 1; 3 unchanged.".
    The first part carries the noun, the others only their counts; a zero count is left out;
    "" when every line was refused (the warning says so). Each part is a whole phrase for the
    translator, with its plural."""
    parts: list[str] = []
    if counts["enrolled"]:
        n = counts["enrolled"]
        if new:
            accounts = ngettext("%(count)s new account", "%(count)s new accounts", new) % {
                "count": new
            }
            parts.append(
                ngettext(
                    "Enrolled %(count)s learner (%(accounts)s)",
                    "Enrolled %(count)s learners (%(accounts)s)",
                    n,
                )
                % {"count": n, "accounts": accounts}
            )
        else:
            parts.append(
                ngettext("Enrolled %(count)s learner", "Enrolled %(count)s learners", n)
                % {"count": n}
            )
    for kind, alone, after in SUMMARY_PARTS:
        if counts[kind]:
            parts.append(_part(not parts, alone, after, counts[kind]))
    return "; ".join(parts) + "." if parts else ""


#: The summary's parts after "Enrolled": (count, the phrase when it comes first, after).
SUMMARY_PARTS = (
    (
        "restored",
        ngettext_lazy("Restored %(count)s learner", "Restored %(count)s learners", "n"),
        # Translators: a later part of "Enrolled 2 learners; restored 1; 3 unchanged."
        ngettext_lazy("restored %(count)s", "restored %(count)s", "n"),
    ),
    (
        "updated",
        ngettext_lazy(
            "Set a new end of access for %(count)s learner",
            "Set a new end of access for %(count)s learners",
            "n",
        ),
        ngettext_lazy("set a new end for %(count)s", "set a new end for %(count)s", "n"),
    ),
    (
        "unchanged",
        ngettext_lazy(
            "%(count)s learner already enrolled: nothing changed",
            "%(count)s learners already enrolled: nothing changed",
            "n",
        ),
        ngettext_lazy("%(count)s unchanged", "%(count)s unchanged", "n"),
    ),
)


ENROLL_LEARNERS_PAGE = EnrollLearnersPage(
    "enroll",
    Enroll,
    form_class=EnrollLearnersForm,
    title=gettext_lazy("Enroll learners"),
    # "Recent actions" of a large enrollment (recent_actions.py); its messages: report().
    done=ngettext_lazy("Enrolled %(count)s enrollment", "Enrolled %(count)s enrollments", "n"),
    template="admin/enrollments/enrollment/enroll_learners.html",
)
