"""The audit trail's "Undo this batch": a preview/confirm page (confirming.py) of the core's
`Undo(batch_id)`, the batch named by the URL.

The preview shows per enrollment the values it restores, old -> new, and the rows it skips
with their reasons; Confirm applies exactly that plan. Confirming twice applies once: the
second time every row has a later audit row (the undo's own), the plan differs, nothing is
written and the new preview says so. Done, the page leads to the undo's own batch.

Linked from every audit row that has a batch: the audit changelist filtered to the batch, an
audit record's page and the history on an enrollment's page. Needs UNDO_BATCH (and a view of
the enrollments or the audit trail, since the page names the learners), globally or through a
course role (a course's manager). A manager undoes only batches wholly within their courses:
a batch reaching another course is answered as not found (BatchNotFound, the core's
`batch_selection(scope=)`), like a batch that does not exist.
"""

import uuid

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import URLPattern, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop, ngettext_lazy

from enrollments.admin import views
from enrollments.admin.confirming import OperationPage, Scope
from enrollments.admin.display import INDEFINITE, format_instant, number
from enrollments.admin.forms import OperationForm
from enrollments.admin.preview import Preview, build_preview
from enrollments.admin.reporting import translated
from enrollments.admin.scoping import may
from enrollments.admin.time_zone import staff_time_zone
from enrollments.errors import BatchNotFound, BatchRunUnfinished
from enrollments.models import AccessChange
from enrollments.operations import Plan, Undo
from enrollments.operations import scope as course_scopes
from enrollments.operations.scope import scope_of, scope_of_any
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
    """Who sees the "Undo this batch" links and may open the page: globally or in some
    course (which batches, the page's selection decides)."""
    sees = any(may(user, p) for p in (VIEW_ACCESS_CHANGE, VIEW_ENROLLMENT, CHANGE_ENROLLMENT))
    return sees and may(user, UNDO_BATCH)


def undo_scope(user) -> course_scopes.Scope:
    """The courses whose batches `user` may undo on this page: where they may undo and also see
    the rows (the preview names the learners). A global undo holder who sees one course's
    enrollments through a role undoes that course's batches, and another course's batch is not
    found, as for a course manager; the undo's own staff limits stay the undo scope's."""
    undo = scope_of(user, UNDO_BATCH)
    sees = scope_of_any(user, (VIEW_ACCESS_CHANGE, VIEW_ENROLLMENT, CHANGE_ENROLLMENT))
    return course_scopes.Scope(undo.within(sees).courses, undo.limited)


def undo_batch_url(batch_id: object) -> str:
    return reverse("admin:enrollments_accesschange_undo_batch", args=[batch_id])


def batch_rows_url(batch_id: object) -> str:
    """The audit changelist filtered to one batch ("rows of this batch")."""
    return f"{reverse('admin:enrollments_accesschange_changelist')}?batch_id={batch_id}"


#: The link that undoes a batch; for an undo's batch, `undo_label` says what it does instead
#: (English here, for the catalogue and the tests; `undo_label` translates).
UNDO_LABEL = gettext_noop("Undo this batch")
#: Undoing an undo applies the batch it undid again (operations/undoing.py).
REAPPLY_LABEL = gettext_noop("Re-apply the undone batch")


def undone_batch(records: QuerySet[AccessChange], batch_id: uuid.UUID) -> uuid.UUID | None:
    """The batch that `batch_id` undid, when it is an undo's batch (one query); else None.
    `records`: the audit rows the user may see."""
    return (
        records.filter(batch_id=batch_id, action=AccessChange.Action.UNDO)
        .exclude(undoes_batch_id=None)
        .values_list("undoes_batch_id", flat=True)
        .first()
    )


def undo_label(undoes_batch_id: uuid.UUID | None) -> str:
    """The undo link's words for a batch: undoing an undo re-applies the batch it undid, so
    its link says so rather than "Undo this batch" (issue 26)."""
    return _(UNDO_LABEL) if undoes_batch_id is None else _(REAPPLY_LABEL)


#: How this page names each field an undo restores: the core's FIELD_LABELS
#: (operations/undoing.py), in the staff member's language.
FIELD_LABELS = {
    "ended_at": gettext_lazy("end of access"),
    # Translators: whether an enrollment is paused (what an undo restores).
    "is_paused": gettext_lazy("paused"),
    "paused_at": gettext_lazy("paused since"),
    "total_paused_duration": gettext_lazy("total paused seconds"),
    # Translators: when the learner was removed from the course (what an undo restores).
    "removed_at": gettext_lazy("removed"),
}


def _label(move: FieldChange) -> str:
    return str(FIELD_LABELS.get(move.name, move.label))


def _value(move: FieldChange, value: object, zone) -> str:
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if value is None:
        if move.name == "ended_at":
            return str(INDEFINITE)
        # Translators: an enrollment's removal mark, empty: the learner is in the course.
        return _("not removed") if move.name == "removed_at" else "—"
    if isinstance(value, int):
        return number(value)
    return format_instant(value, zone)  # type: ignore[arg-type]


class UndoBatchPage(OperationPage):
    """The page (see the module), on the audit trail's admin."""

    def check_permission(self, model_admin, request: HttpRequest) -> None:
        if not may_undo(request.user):
            raise PermissionDenied

    def urls(self, model_admin) -> list[URLPattern]:
        """`admin:enrollments_accesschange_undo_batch`, under the audit trail's admin."""

        def view(request: HttpRequest, batch_id: str) -> HttpResponse:
            self.check_permission(model_admin, request)
            parsed = parse_uuid(batch_id)
            try:
                if parsed is None:
                    raise BatchNotFound()
                selection = batch_selection(parsed, scope=undo_scope(request.user))
            except BatchNotFound as error:
                # The message alone: its detail would tell a batch reaching another course
                # ("outside the actor's courses") from one that does not exist.
                messages.warning(request, translated(error.message))
                return HttpResponseRedirect(reverse("admin:enrollments_accesschange_changelist"))
            except BatchRunUnfinished as error:
                messages.warning(request, translated(error.message))
                return HttpResponseRedirect(batch_rows_url(parsed))
            back = batch_rows_url(parsed)
            scope = Scope(selection, undo_batch_url(parsed), back, back)
            context = _batch_context(parsed, staff_time_zone(request))
            return self.respond(
                model_admin, request, scope, operation=Undo(parsed), context=context
            )

        return [views.admin_path(model_admin, "undo-batch/<str:batch_id>/", view, "undo_batch")]

    def rows(self, plan: Plan, form: OperationForm) -> Preview:
        """The preview's rows, each changed one with the values it restores."""
        shown = build_preview(plan, form.zone)
        changes = {change.enrollment_id: change for change in plan.changes}
        for row in shown.changed_rows:
            row.restores = [
                (_label(move), _value(move, move.old, form.zone), _value(move, move.new, form.zone))
                for move in changed_fields(changes[row.enrollment_id])
            ]
        return shown

    def done_url(self, scope: Scope, done: Plan) -> str:
        return batch_rows_url(done.batch_id)  # the undo's own batch


def _batch_context(batch_id: uuid.UUID, zone) -> dict:
    """The batch's summary: its size, first action, when, by whom, through which door."""
    batch = AccessChange.objects.filter(batch_id=batch_id).select_related("actor")
    first = batch.order_by("created_at").first()
    return {
        "batch_id": batch_id,
        "batch_short": str(batch_id)[:8],
        "batch_size": batch.count(),
        "batch_when": format_instant(first.created_at, zone) if first else "",
        "batch_action": first.get_action_display() if first else "",
        # Translators: who made an access change without an actor (the clock's sweep, a command).
        "batch_by": (first.actor.email if first and first.actor else _("the system")),
        "batch_source": first.get_source_display() if first else "",
        # An undo's batch: undoing it applies this batch again (the summary says so).
        "undoes_batch_id": first.undoes_batch_id if first else None,
    }


UNDO_BATCH_PAGE = UndoBatchPage(
    "undo_batch",
    Undo,
    title=gettext_lazy("Undo a batch"),
    done=ngettext_lazy(
        "Undid the batch for %(count)s enrollment", "Undid the batch for %(count)s enrollments", "n"
    ),
    will=ngettext_lazy(
        "%(count)s enrollment will be restored.", "%(count)s enrollments will be restored.", "n"
    ),
    will_heading=gettext_lazy("Will be restored"),
    unchanged=ngettext_lazy(
        "%(count)s already as before the batch (nothing to change).",
        "%(count)s already as before the batch (nothing to change).",
        "n",
    ),
    intro=gettext_lazy(
        "Undoing puts each enrollment of the batch back to its state before the batch. An "
        "enrollment changed since the batch is left as it is. The undo is itself a batch in the "
        "audit trail."
    ),
    template="admin/enrollments/accesschange/undo_batch.html",
)
