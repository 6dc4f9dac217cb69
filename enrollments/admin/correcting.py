"""Correcting an over-extension without arithmetic by hand (issue 26, item 3): "Restore the end
before this change" on one enrollment's history.

Each access change of the enrollment's history that moved its end (an extension, a new end,
indefinite access, an earlier end, a resume that added paused time, an undo) links to this
preview/confirm page (confirming.OperationPage), which puts the end back to the change's old
end through the core (`operations.shortening.restore_end_before`: the operation, its
permission and its rules are the core's). The preview shows the current and the restored end;
a reason is kept in the audit record; Confirm applies exactly the previewed plan. When the end
is no longer the one that change set (a later change moved it), the core skips the enrollment
with END_CHANGED_SINCE and the page says so, with Confirm disabled; a stale preview (changed
between preview and Confirm, or confirmed twice) applies nothing and shows the new preview.

Restoring a later end is an extension (EXTEND_ACCESS, the course's limits on its staff apply),
an earlier one ends access sooner (EXPIRE_ACCESS): the link is shown, and the page opens, only
for staff holding that permission in the enrollment's course. The change must be one of the
enrollment's, and the enrollment within the staff member's courses; anything else is answered
as not found.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import URLPattern, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop, ngettext_lazy

from enrollments.admin import views
from enrollments.admin.confirming import OperationPage, Scope
from enrollments.admin.display import format_instant
from enrollments.admin.scoping import may
from enrollments.admin.time_zone import staff_time_zone
from enrollments.models import AccessChange
from enrollments.operations.scope import scope_of
from enrollments.operations.shortening import EndBackLater, RestoreEnd, restore_end_before
from enrollments.permissions import EXPIRE_ACCESS, EXTEND_ACCESS
from lms.identifiers import parse_uuid

#: Said when the change named did not move the end: there is nothing to restore (shown through
#: gettext).
NOTHING_TO_RESTORE = gettext_noop(
    "This change did not move the end of access: there is no end to restore."
)


def restore_end_url(change: AccessChange) -> str:
    return reverse(
        "admin:enrollments_enrollment_restore_end", args=[change.enrollment_id, change.pk]
    )


def restore_end_link(user, change: AccessChange, course_id) -> str:
    """The URL of "Restore the end before this change" for `change`, or "" when it moved no
    end or `user` may not apply the restoring operation in the course."""
    operation = restore_end_before(change)
    if operation is None or not scope_of(user, operation.permission).covers(course_id):
        return ""
    return restore_end_url(change)


class RestoreEndPage(OperationPage):
    """The page (see the module), under the enrollment admin:
    `<enrollment id>/restore-end/<change id>/`."""

    def check_permission(self, model_admin, request: HttpRequest) -> None:
        """Either permission somewhere (the operation of the change named needs one of them;
        the core keeps to that one's scope) and a view of the enrollment."""
        if not (
            (may(request.user, EXTEND_ACCESS) or may(request.user, EXPIRE_ACCESS))
            and model_admin.has_view_or_change_permission(request)
        ):
            raise PermissionDenied

    def urls(self, model_admin) -> list[URLPattern]:
        def view(request: HttpRequest, object_id: str, change_id: str) -> HttpResponse:
            self.check_permission(model_admin, request)
            enrollment = views.find_enrollment(model_admin, request, object_id)
            parsed = parse_uuid(change_id)
            change = (
                AccessChange.objects.select_related("actor")
                .filter(pk=parsed, enrollment=enrollment)
                .first()
                if enrollment is not None and parsed is not None
                else None
            )
            if change is None:
                return views.not_found(model_admin, request)
            operation = restore_end_before(change)
            if operation is None:
                messages.warning(request, _(NOTHING_TO_RESTORE))
                return HttpResponseRedirect(views.change_url(enrollment))
            actor = scope_of(request.user, operation.permission)
            if not actor.covers(enrollment.course_id):
                raise PermissionDenied  # sees the enrollment, may not apply this change to it
            scope = Scope.of_enrollment(enrollment, request.path, actor=actor)
            context = _change_context(change, operation, staff_time_zone(request))
            return self.respond(model_admin, request, scope, operation=operation, context=context)

        return [
            views.admin_path(
                model_admin,
                "<path:object_id>/restore-end/<str:change_id>/",
                view,
                self.name,
            )
        ]


def _change_context(change: AccessChange, operation: RestoreEnd, zone) -> dict:
    """What the page says about the change whose old end it restores."""
    return {
        "restored_change": change,
        "change_when": format_instant(change.created_at, zone),
        "change_action": change.get_action_display(),
        # Translators: who made an access change without an actor (the clock's sweep, a command).
        "change_by": change.actor.email if change.actor else _("the system"),
        "change_old_end": format_instant(operation.ended_at, zone),
        "change_new_end": format_instant(operation.changed_to, zone),
    }


RESTORE_END = RestoreEndPage(
    "restore_end",
    # Its operation is built per request (restore_end_before): later or earlier, one of two
    # permissions, which check_permission and the view ask for themselves.
    EndBackLater,
    title=gettext_lazy("Restore the end before a change"),
    done=ngettext_lazy(
        "Restored the end of access of %(count)s enrollment",
        "Restored the end of access of %(count)s enrollments",
        "n",
    ),
    done_one=gettext_lazy("Restored the end of access of this enrollment."),
    will=ngettext_lazy(
        "%(count)s enrollment will get the end back.",
        "%(count)s enrollments will get the end back.",
        "n",
    ),
    will_heading=gettext_lazy("Will get the end back"),
    unchanged=ngettext_lazy(
        "%(count)s already back at that end (nothing to change).",
        "%(count)s already back at that end (nothing to change).",
        "n",
    ),
    template="admin/enrollments/enrollment/restore_end.html",
)
