"""The audit trail's "Undo this batch": a preview page with a reason field, then Confirm.

The shape of removing.py: the page shows what the operation core would do
(operations.preview of `Undo(batch_id)`: per enrollment the values it restores, old -> new,
and the rows it skips with their reasons); Confirm posts the reason and the previewed plan's
fingerprint, and the core applies it only if the plan under the row locks is the one shown.
Confirming twice applies once: the second time every row has a later audit row (the undo's
own), the plan differs, nothing is written and the new preview says so.

Linked from every audit row that has a batch: the audit changelist filtered to the batch, an
audit record's page and the history on an enrollment's page. Needs UNDO_BATCH (and a view of
the enrollments or the audit trail, since the page names the learners).
"""

import uuid
from dataclasses import dataclass, field

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse

from enrollments.admin.display import format_instant, natural_key
from enrollments.admin.preview import PREVIEW_ROWS
from enrollments.admin.reporting import error_text, report_plan
from enrollments.admin.time_zone import staff_time_zone
from enrollments.errors import BatchNotFound, ChangedSincePreview, DomainError
from enrollments.models import AccessChange, Enrollment
from enrollments.operations import Plan, Undo, apply, preview
from enrollments.operations.audit import MAX_REASON_LENGTH, Attribution
from enrollments.operations.undoing import FieldChange, batch_selection, changed_fields
from enrollments.permissions import (
    CHANGE_ENROLLMENT,
    UNDO_BATCH,
    VIEW_ACCESS_CHANGE,
    VIEW_ENROLLMENT,
)
from lms.identifiers import parse_uuid

TEMPLATE = "admin/enrollments/accesschange/undo_batch.html"


def may_undo(user) -> bool:
    """Who sees the "Undo this batch" links and may open the page."""
    sees = any(p.held_by(user) for p in (VIEW_ACCESS_CHANGE, VIEW_ENROLLMENT, CHANGE_ENROLLMENT))
    return sees and UNDO_BATCH.held_by(user)


def undo_batch_url(batch_id: object) -> str:
    return reverse("admin:enrollments_accesschange_undo_batch", args=[batch_id])


def batch_rows_url(batch_id: object) -> str:
    """The audit changelist filtered to one batch ("rows of this batch")."""
    return f"{reverse('admin:enrollments_accesschange_changelist')}?batch_id={batch_id}"


class UndoBatchForm(forms.Form):
    reason = forms.CharField(
        label="Reason",
        required=False,
        max_length=MAX_REASON_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text="Optional; kept in the audit record of every restored enrollment.",
    )


@dataclass(slots=True)
class UndoRow:
    """One enrollment on the preview: who, and what it restores (or why it is skipped)."""

    enrollment_id: object
    student: str
    course: str
    restores: list[tuple[str, str, str]] = field(default_factory=list)
    reason: str = ""


def _value(move: FieldChange, value: object, zone) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        return {"ended_at": "Indefinite", "removed_at": "not removed"}.get(move.name, "—")
    if isinstance(value, int):
        return f"{value:,}"
    return format_instant(value, zone)  # type: ignore[arg-type]


def preview_rows(plan: Plan, zone) -> tuple[list[UndoRow], list[UndoRow]]:
    """The first PREVIEW_ROWS restored and skipped rows, named (one query), natural order."""
    changes, skips = plan.changes[:PREVIEW_ROWS], plan.skips[:PREVIEW_ROWS]
    ids = [c.enrollment_id for c in changes] + [s.enrollment_id for s in skips]
    names = {
        pk: (email, title)
        for pk, email, title in Enrollment.objects.filter(pk__in=ids).values_list(
            "pk", "user__email", "course__title"
        )
    }

    def row(pk) -> UndoRow:
        email, title = names.get(pk, (str(pk), ""))
        return UndoRow(pk, email, title)

    restored = []
    for change in changes:
        shown = row(change.enrollment_id)
        shown.restores = [
            (move.label, _value(move, move.old, zone), _value(move, move.new, zone))
            for move in changed_fields(change)
        ]
        restored.append(shown)
    skipped = []
    for skip in skips:
        shown = row(skip.enrollment_id)
        shown.reason = error_text(skip.error)
        skipped.append(shown)
    for rows in (restored, skipped):
        rows.sort(key=lambda r: (natural_key(r.student), natural_key(r.course)))
    return restored, skipped


def undo_batch_view(model_admin, request: HttpRequest, batch_id: str) -> HttpResponse:
    if not may_undo(request.user):
        raise PermissionDenied
    parsed = parse_uuid(batch_id)
    try:
        if parsed is None:
            raise BatchNotFound()
        selection = batch_selection(parsed)
    except BatchNotFound as error:
        messages.warning(request, error_text(error))
        return HttpResponseRedirect(reverse("admin:enrollments_accesschange_changelist"))
    operation = Undo(parsed)
    confirming = request.method == "POST" and "_confirm" in request.POST
    form = UndoBatchForm(request.POST if request.method == "POST" else None)
    error = ""
    if confirming and form.is_valid():
        try:
            by = Attribution(request.user, AccessChange.Source.ADMIN, form.cleaned_data["reason"])
            done = apply(operation, selection, by, expected=request.POST.get("fingerprint", ""))
        except ChangedSincePreview as changed:
            error = f"{changed.message}: check the new preview and confirm again."
        except DomainError as refused:  # a bad reason: nothing written, the page again
            form.add_error("reason", error_text(refused))
        else:
            report_plan(request, done, verb="Undid the batch for")
            return HttpResponseRedirect(batch_rows_url(done.batch_id))
    plan = preview(operation, selection)
    return _render(model_admin, request, parsed, plan, form, error)


def _render(model_admin, request, batch_id: uuid.UUID, plan: Plan, form, error: str):
    zone = staff_time_zone(request)
    restored, skipped = preview_rows(plan, zone)
    batch = AccessChange.objects.filter(batch_id=batch_id).select_related("actor")
    first = batch.order_by("created_at").first()
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": "Undo a batch",
        "batch_id": batch_id,
        "batch_short": str(batch_id)[:8],
        "batch_url": batch_rows_url(batch_id),
        "batch_size": batch.count(),
        "batch_when": format_instant(first.created_at, zone) if first else "",
        "batch_action": first.get_action_display() if first else "",
        "batch_by": (first.actor.email if first and first.actor else "the system"),
        "batch_source": first.get_source_display() if first else "",
        "plan": plan,
        "restored": restored,
        "skipped": skipped,
        "limit": PREVIEW_ROWS,
        "fingerprint": plan.fingerprint(),
        "form": form,
        "error": error,
        "zone": zone,
        "form_url": undo_batch_url(batch_id),
    }
    request.current_app = model_admin.admin_site.name
    return TemplateResponse(request, TEMPLATE, context)
