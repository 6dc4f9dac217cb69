"""The preview/confirm page's background path (confirming.OperationPage): a "Select all" too
large to apply inside the Confirm request becomes a run (enrollments/operations/runs.py) that a
job applies chunk by chunk, watched on its job page (enrollments/admin/runs.py).

- The preview step of a "Select all" of more rows than `RUNS["BACKGROUND_ABOVE"]`, of an
  operation a run can hold (`runs.OPERATIONS`), first writes a draft run (state PREVIEWED,
  bound to its preview: its enrollments with the `updated_at` each has now, in chunks), then
  computes the preview as the inline path does. A row changed after that snapshot is skipped
  by the job (ENROLLMENT_CHANGED_SINCE_PREVIEW) and listed on the job page: never changed
  unseen. The page posts the draft's id (`run`) with Confirm. A new preview of the same page (Update
  preview, a bad reason) replaces the staff member's draft: the old one is deleted.
- Confirm checks that the operation is still the previewed one, and, where the reason can
  change the plan (a course's staff limits: `scope.limited`), that the reason is still the one
  the preview planned with (the draft keeps it); else a new preview. It then queues
  the draft (`runs.confirm`: only its author, only once) and a job for it, and answers at once
  with the job page. A draft that is gone, someone else's or confirmed already queues nothing:
  the page says so with a new preview.

Ticked rows (one changelist page at most), an enrollment's own page, "Enroll learners" and
"Undo this batch" always apply inline.
"""

from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from enrollments.errors import RunNotFound
from enrollments.jobs import runs as run_jobs
from enrollments.models import AccessChange, OperationRun
from enrollments.operations import Operation, Selection, runs
from enrollments.operations.audit import Attribution
from lms.identifiers import parse_uuid

#: The draft run's id, posted with Confirm.
RUN = "run"

#: Why Confirm queued nothing (English here, for the catalogue and the tests; `confirm` says
#: it through gettext).
NOT_QUEUED = gettext_noop(
    "This preview cannot be confirmed any more (it was confirmed already, or it is not "
    "yours): nothing was queued. Check the new preview and confirm again."
)
CHANGED = gettext_noop(
    "The request changed since the preview: nothing was queued. Check the new preview and "
    "confirm again."
)


def job_url(run: OperationRun) -> str:
    """The run's job page."""
    return reverse("admin:enrollments_operationrun_change", args=[run.pk])


def eligible(operation: Operation, scope) -> bool:
    """Whether the page's request may run in the background: a "Select all" (a filter of the
    changelist) of an operation a run can hold."""
    return (
        scope.across
        and scope.enrollment is None
        and scope.selection is not None
        and scope.selection.queryset is not None
        and runs.OPERATIONS.get(type(operation).__name__) is type(operation)
    )


def runs_in_background(operation: Operation, scope) -> bool:
    """Eligible, and more rows than RUNS["BACKGROUND_ABOVE"] (the scope counted: see
    OperationPage._counted)."""
    return (
        eligible(operation, scope)
        and scope.selected is not None
        and scope.selected > runs.run_setting("BACKGROUND_ABOVE")
    )


def write_draft(
    request: HttpRequest, operation: Operation, selection: Selection, previous: str, reason: str
) -> OperationRun:
    """Writes the draft run of this preview, with the reason the preview planned with, after
    deleting the staff member's draft this page posted (`previous`: the one it replaces)."""
    previous_id = parse_uuid(previous) if previous else None
    if previous_id is not None:
        _drafts_of(request).filter(pk=previous_id).delete()
    by = Attribution(request.user, AccessChange.Source.ADMIN, reason)
    return runs.start(
        [(operation, selection)], by, bound_to_preview=True, state=OperationRun.State.PREVIEWED
    )


def confirm(
    request: HttpRequest,
    operation: Operation,
    posted: str,
    by: Attribution,
    *,
    reason_plans: bool,
) -> OperationRun | str:
    """Queues the posted draft and its job; returns the run, or why nothing was queued.

    `reason_plans`: the reason can change the plan (a course's staff limits: a course that
    requires one skips every row without it), so a reason other than the one the preview
    planned with is a changed request, as the inline path's fingerprint makes it. Elsewhere
    typing the reason after the preview is the normal flow."""
    run_id = parse_uuid(posted)
    draft = _drafts_of(request).filter(pk=run_id).first() if run_id is not None else None
    if draft is None:
        return _(NOT_QUEUED)
    if [part.operation for part in runs.parts_of(draft)] != [operation]:
        return _(CHANGED)  # the form's parameters changed without "Update preview"
    if reason_plans and draft.reason != by.reason:
        return _(CHANGED)  # the reason changed without "Update preview"
    try:
        run = runs.confirm(draft.pk, by)
    except RunNotFound:  # confirmed meanwhile (a double click)
        return _(NOT_QUEUED)
    run_jobs.enqueue(run)
    return run


def _drafts_of(request: HttpRequest) -> QuerySet[OperationRun]:
    return OperationRun.objects.filter(actor=request.user, state=OperationRun.State.PREVIEWED)
