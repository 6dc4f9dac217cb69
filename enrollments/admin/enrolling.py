"""The "Enroll learners…" page (from the enrollment list's object tools): staff pick a course,
paste e-mail addresses (one a line, optionally `email,name` and `,ended_at`) or upload a CSV of
the same columns, an optional end and a reason; Preview shows who will be enrolled (a new
learner is created for an address nobody has: the line must then give a name), restored (a
removed enrollment brought back), updated (an active one given a new end), unchanged or
refused (with its line number); Confirm applies exactly the plan shown
(services.enrolling.enrolment_apply with the preview's fingerprint: anything different, a
second Confirm included, applies nothing and shows the new preview).

An uploaded file's text is put into the paste box on preview, so Confirm posts the same lines
and the line numbers stay the file's (a first line `email,...` is a header and skipped).
"""

import csv
import io

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, reverse
from django.utils import timezone

from enrollments.admin import views
from enrollments.admin.reporting import error_text
from enrollments.errors import ChangedSincePreview, DomainError, InvalidAccessEnd
from enrollments.management.selection import parse_instant
from enrollments.models import AccessChange
from enrollments.operations import Enroll
from enrollments.operations.audit import MAX_REASON_LENGTH, Attribution
from enrollments.services.enrolling import (
    MAX_ENTRIES,
    EnrolmentPlan,
    Entry,
    enrolment_apply,
    enrolment_preview,
)
from lms.models import Course
from lms.text import is_valid_text

#: Rows named per table on the preview page; the counts are always complete.
PREVIEW_ROWS = 100
#: The largest upload read (a 5,000-line CSV of long addresses fits well within it).
MAX_UPLOAD_BYTES = 2 * 1024 * 1024

OUTCOMES = (
    ("enrolled", "Will be enrolled"),
    ("restored", "Will be restored (removed before; the same enrollment comes back)"),
    ("updated", "Will get the new end of access"),
    ("unchanged", "Already enrolled: nothing to change"),
    ("refused", "Refused"),
)


class EnrollLearnersForm(forms.Form):
    course = forms.ModelChoiceField(
        queryset=Course.objects.order_by("title"),
        help_text="The course the learners are enrolled in.",
    )
    learners = forms.CharField(
        label="Learners",
        required=False,
        widget=forms.Textarea(attrs={"rows": 10, "cols": 60, "spellcheck": "false"}),
        help_text=(
            "One e-mail address per line, optionally followed by a comma and the name "
            "(required for someone who has no account yet: one is created) and a comma and an "
            f"end of access (ISO 8601). At most {MAX_ENTRIES:,} lines."
        ),
    )
    csv_file = forms.FileField(
        label="Or upload a CSV file",
        required=False,
        help_text="Columns email,name and optionally ended_at; a header line is allowed.",
    )
    ended_at = forms.DateTimeField(
        label="End of access",
        required=False,
        help_text=(
            "Optional, in your time zone (YYYY-MM-DD HH:MM). Empty: the course's default "
            "length from now. A line's own end wins."
        ),
    )
    reason = forms.CharField(
        required=False,
        max_length=MAX_REASON_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text="Kept in every audit record of this enrolment.",
    )

    def clean_csv_file(self):
        upload = self.cleaned_data.get("csv_file")
        if upload is None:
            return None
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError("The file is larger than 2 MB.")
        try:
            return upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise forms.ValidationError("The file is not UTF-8 text.") from None

    def clean_reason(self):
        reason = self.cleaned_data.get("reason", "")
        if not is_valid_text(reason):
            raise forms.ValidationError("The reason is not valid text.")
        return reason

    def clean(self):
        cleaned = super().clean()
        text = cleaned.get("csv_file") or cleaned.get("learners") or ""
        if "csv_file" in cleaned and "learners" in cleaned and not text.strip():
            self.add_error("learners", "Paste at least one e-mail address or upload a file.")
        elif not is_valid_text(text):
            self.add_error("learners", "The text contains a NUL character or invalid bytes.")
        elif len([line for line in text.splitlines() if line.strip()]) > MAX_ENTRIES + 1:
            self.add_error(
                "learners", f"Too many lines: at most {MAX_ENTRIES:,} learners at a time."
            )
        cleaned["text"] = text
        return cleaned


def parse_lines(text: str, course: Course, default_end) -> tuple[list[Entry], list]:
    """The entries of the pasted (or uploaded) text and the lines refused before any lookup
    (a bad end of access), each with its line number. A first line whose first cell is
    `email` is a header."""
    entries, refused = [], []
    reader = csv.reader(io.StringIO(text, newline=""))
    for cells in reader:
        cells = [cell.strip() for cell in cells]
        if not any(cells):
            continue
        line = reader.line_num
        if line == 1 and cells[0].lower() == "email":
            continue
        email, name, end_text = (cells + ["", ""])[:3]
        entry = Entry(line, email, course, name, default_end)
        if len(cells) > 3:
            refused.append((entry, InvalidAccessEnd(f"{len(cells)} columns, at most 3")))
            continue
        if end_text:
            try:
                entry = Entry(line, email, course, name, parse_instant(end_text))
            except ValueError:
                refused.append((entry, InvalidAccessEnd(f"{end_text!r} is not an ISO 8601 date")))
                continue
        entries.append(entry)
    return entries, refused


def enroll_learners_view(model_admin, request: HttpRequest) -> HttpResponse:
    views.check_permission(model_admin, request, lambda r: Enroll.permission.held_by(r.user))
    form = EnrollLearnersForm(request.POST or None, request.FILES or None)
    plan, early, error = None, [], None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        entries, early = parse_lines(data["text"], data["course"], data["ended_at"])
        if data.get("csv_file"):  # the file's lines travel in the box from now on
            form.data = form.data.copy()
            form.data["learners"] = data["text"]
        if "_confirm" in request.POST:
            by = Attribution(request.user, AccessChange.Source.ADMIN, data["reason"])
            try:
                done = enrolment_apply(
                    entries,
                    create_users=True,
                    by=by,
                    expected=request.POST.get("fingerprint"),
                )
            except ChangedSincePreview as changed:
                error = error_text(changed)
            except DomainError as refused:
                error = error_text(refused)
            else:
                _report(request, done, early)
                return HttpResponseRedirect(views.changelist_url())
        plan = enrolment_preview(entries, create_users=True)
    context = {
        **model_admin.admin_site.each_context(request),
        "title": "Enroll learners",
        "opts": model_admin.model._meta,
        "form": form,
        "zone": timezone.get_current_timezone(),
        "error": error,
        "form_url": reverse("admin:enrollments_enrollment_enroll"),
        "cancel_url": views.changelist_url(),
    }
    if plan is not None:
        rows = plan.rows()
        rows["refused"] = sorted(
            rows["refused"] + [(entry, error_text(why)) for entry, why in early],
            key=lambda row: row[0].line,
        )
        context["preview"] = [
            {
                "kind": kind,
                "heading": heading,
                "total": len(rows[kind]),
                "rows": rows[kind][:PREVIEW_ROWS],
            }
            for kind, heading in OUTCOMES
        ]
        context["counts"] = {kind: len(rows[kind]) for kind, _heading in OUTCOMES}
        context["will_change"] = sum(len(rows[k]) for k in ("enrolled", "restored", "updated"))
        context["fingerprint"] = plan.fingerprint()
        context["preview_rows_limit"] = PREVIEW_ROWS
    return TemplateResponse(request, "admin/enrollments/enrollment/enroll_learners.html", context)


def _report(request: HttpRequest, done: EnrolmentPlan, early: list) -> None:
    counts = done.counts
    new = len(done.new_learners)
    messages.success(
        request,
        f"Enrolled {counts['enrolled']} learner{'s' if counts['enrolled'] != 1 else ''}"
        f" ({new} new), restored {counts['restored']}, updated {counts['updated']}; "
        f"{counts['unchanged']} already enrolled.",
    )
    refused = counts["refused"] + len(early)
    if refused:
        messages.warning(request, f"Refused {refused} line{'s' if refused != 1 else ''}.")


def enroll_urls(model_admin) -> list[URLPattern]:
    """The page's URL under the enrollment admin (`admin:enrollments_enrollment_enroll`)."""

    def view(request: HttpRequest) -> HttpResponse:
        return enroll_learners_view(model_admin, request)

    return [views.admin_path(model_admin, "enroll/", view, "enroll")]
