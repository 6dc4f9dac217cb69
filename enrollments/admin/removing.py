"""The "Remove from course…" action: a preview page with a reason field, then Confirm.

Django's intermediate-page pattern: the action shows what the operation core would do
(operations.preview) for the changelist selection; Confirm posts the same selection back with
the reason and the previewed plan's fingerprint, and the core applies it only if the plan under
the row locks is the one shown (else nothing is written and the new preview is shown).
"""

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from enrollments.admin.reporting import describe_enrollments, error_text, report_plan
from enrollments.errors import ChangedSincePreview, DomainError
from enrollments.models import AccessChange
from enrollments.operations import Remove, Selection, apply, preview
from enrollments.operations.audit import Attribution

#: Rows named on the preview page; beyond that it shows counts only.
PREVIEW_ROWS = 100


def remove_from_course(
    model_admin, request: HttpRequest, queryset: QuerySet
) -> HttpResponse | None:
    selection = Selection.by_filter(queryset)
    error = None
    if request.POST.get("confirm") == "yes":
        try:
            result = apply(
                Remove(),
                selection,
                Attribution(request.user, AccessChange.Source.ADMIN, request.POST.get("reason")),
                expected=request.POST.get("fingerprint"),
            )
        except ChangedSincePreview as changed:
            error = error_text(changed)
        except DomainError as refused:  # a bad reason: nothing written, the page again
            error = error_text(refused)
        else:
            report_plan(request, result, verb="Removed")
            return None
    plan = preview(Remove(), selection)
    names = describe_enrollments(
        [c.enrollment_id for c in plan.changes[:PREVIEW_ROWS]]
        + [s.enrollment_id for s in plan.skips[:PREVIEW_ROWS]]
    )
    context = {
        **model_admin.admin_site.each_context(request),
        "title": "Remove from course",
        "opts": model_admin.model._meta,
        "plan": plan,
        "changed_rows": [
            names.get(c.enrollment_id, c.enrollment_id) for c in plan.changes[:PREVIEW_ROWS]
        ],
        "skipped_rows": [
            (names.get(s.enrollment_id, s.enrollment_id), error_text(s.error))
            for s in plan.skips[:PREVIEW_ROWS]
        ],
        "fingerprint": plan.fingerprint(),
        "selected_ids": request.POST.getlist("_selected_action"),
        "select_across": request.POST.get("select_across", "0"),
        "reason": request.POST.get("reason", ""),
        "error": error,
    }
    return TemplateResponse(request, "admin/enrollments/remove_from_course.html", context)
