"""The audit trail in the admin: read-only everywhere. Records are written by the operation
core only; nobody can add, edit or delete one here, whatever their permissions.

Scoped (issue 25, scoping.py): a user who may view the trail through course roles only
(VIEW_ACCESS_CHANGE in their courses) sees the records of their courses'
enrollments, one condition on `enrollment__course_id`; a record of another course is not found,
like a missing one. An enrollment's history on its page is shown to whoever sees the enrollment.
"""

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from enrollments.admin import correcting, export, undoing
from enrollments.admin.audit_filters import ActorFilter, DateRangeFilter, TrailCourseFilter
from enrollments.admin.date_drilldown import DateDrilldownMixin
from enrollments.admin.display import (
    ReadOnly,
    email_html,
    enrollment_label,
    format_instant,
    instant_cell,
    uuid_html,
)
from enrollments.admin.filters import KnownChoiceFilter
from enrollments.admin.scoping import page_scope, prime_roles, trail_scope
from enrollments.models import AccessChange, Enrollment
from enrollments.selectors.audit_log import audit_trail
from lms.identifiers import parse_uuid

AUDIT_FIELDS = (
    "when",
    "action",
    "old_end",
    "new_end",
    "paused_seconds",
    "actor_email",
    "source",
    "reason",
    "batch",
)


def access_change_trail_url(enrollment_id) -> str:
    """The whole audit trail of one enrollment, under "Access changes"."""
    url = reverse("admin:enrollments_accesschange_changelist")
    return f"{url}?enrollment__id__exact={enrollment_id}"


class ReadOnlyAuditMixin(ReadOnly):
    @admin.display(description=gettext_lazy("when"), ordering="created_at")
    def when(self, change: AccessChange) -> str:
        return instant_cell(change.created_at)

    @admin.display(description=gettext_lazy("old end"), ordering="old_ended_at")
    def old_end(self, change: AccessChange) -> str:
        if change.action == AccessChange.Action.ENROLL:
            return "—"
        return instant_cell(change.old_ended_at)

    @admin.display(description=gettext_lazy("new end"), ordering="new_ended_at")
    def new_end(self, change: AccessChange) -> str:
        return instant_cell(change.new_ended_at)

    @admin.display(description=gettext_lazy("when"))
    def created_at_display(self, change: AccessChange) -> str:
        return format_instant(change.created_at)

    @admin.display(description=gettext_lazy("old end of access"))
    def old_ended_at_display(self, change: AccessChange) -> str:
        return format_instant(change.old_ended_at)

    @admin.display(description=gettext_lazy("new end of access"))
    def new_ended_at_display(self, change: AccessChange) -> str:
        return format_instant(change.new_ended_at)

    # Translators: who made an access change (a column of the audit trail).
    @admin.display(description=gettext_lazy("actor"), ordering="actor__email")
    def actor_email(self, change: AccessChange) -> str:
        """The actor's e-mail, never broken inside a word (display.email_html)."""
        return email_html(change.actor.email) if change.actor is not None else "—"

    # Translators: the bulk operation an access change belongs to (a column of the audit trail).
    @admin.display(description=gettext_lazy("batch"))
    def batch(self, change: AccessChange) -> str:
        """The batch id whole (issue 26: it was cut to 8 characters), monospace and selected
        whole by one click to copy it (staff.css `.batch-id`), and a link to its changes."""
        if change.batch_id is None:
            return "—"
        url = reverse("admin:enrollments_accesschange_changelist")
        return format_html(
            '<code class="batch-id">{}</code><a href="{}?batch_id={}" class="batch-link" '
            'aria-label="{}">{}</a>',
            uuid_html(change.batch_id),
            url,
            change.batch_id,
            _("Every change of batch %(batch)s") % {"batch": change.batch_id},
            _("every change"),
        )


class AccessChangeInline(ReadOnlyAuditMixin, admin.TabularInline):
    """The enrollment's history on its change page, newest first."""

    model = AccessChange
    template = "admin/enrollments/enrollment/includes/history_inline.html"
    fk_name = "enrollment"
    verbose_name = gettext_lazy("access change")
    verbose_name_plural = gettext_lazy("History of access changes (newest first)")
    fields = AUDIT_FIELDS
    readonly_fields = AUDIT_FIELDS
    ordering = ("-created_at", "-id")
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = False

    #: Rows shown on the page; the full trail is one link away (Access changes, filtered).
    LATEST = 50

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).select_related("actor")

    def latest(self, request: HttpRequest, enrollment) -> QuerySet[AccessChange]:
        """The enrollment's LATEST newest records. (An inline formset filters its queryset, so
        it cannot be sliced: the slice becomes an id subquery.)"""
        newest = (
            AccessChange.objects.filter(enrollment=enrollment)
            .order_by("-created_at", "-id")
            .values("pk")[: self.LATEST]
        )
        return self.get_queryset(request).filter(pk__in=newest)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        # Whoever may see an enrollment may see its history (`obj`: the enrollment).
        scope = page_scope(request.user)
        return scope.covers(obj.course_id) if obj is not None else not scope.empty


@admin.register(AccessChange)
class AccessChangeAdmin(DateDrilldownMixin, ReadOnlyAuditMixin, admin.ModelAdmin):
    list_display = (
        "when",
        "enrollment_link",
        "action",
        "old_end",
        "new_end",
        "actor_email",
        "source",
        "reason",
        "batch",
    )
    # Course, actor and date range: the selector's conditions (audit_filters.py).
    list_filter = (
        ("action", KnownChoiceFilter),
        ("source", KnownChoiceFilter),
        TrailCourseFilter,
        ActorFilter,
        DateRangeFilter,
    )
    list_select_related = ("enrollment__user", "enrollment__course", "actor")
    search_fields = (
        "enrollment__user__email",
        "enrollment__course__slug",
        "enrollment__course__title",
        "reason",
    )
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-id")
    fields = (
        "enrollment_link",
        "created_at_display",
        "action",
        "old_ended_at_display",
        "new_ended_at_display",
        "old_is_paused",
        "new_is_paused",
        "paused_seconds",
        "actor",
        "source",
        "reason",
        "batch_id",
    )
    readonly_fields = fields

    def get_urls(self):
        # "Undo this batch": the preview and its Confirm (enrollments/admin/undoing.py); the
        # list's CSV export (export.py).
        return [
            *undoing.UNDO_BATCH_PAGE.urls(self),
            *export.access_change_urls(self),
            *super().get_urls(),
        ]

    def get_list_display(self, request: HttpRequest):
        """The History page of one enrollment (the list filtered to it) adds, per change that
        moved the end, "Restore the end before this change" where the staff member may apply it
        (correcting.py); no query of its own (the enrollment's course is read with the rows)."""
        shown = super().get_list_display(request)
        if parse_uuid(request.GET.get("enrollment__id__exact", "")) is None:
            return shown
        user = request.user

        # Translators: the History column that corrects an end ("Restore the end before ...").
        @admin.display(description=pgettext_lazy("column", "correct"))
        def restore_end(change: AccessChange) -> str:
            url = (
                ""
                if change.enrollment.removed_at
                else correcting.restore_end_link(user, change, change.enrollment.course_id)
            )
            if not url:
                return "—"
            return format_html(
                '<a href="{}" class="restore-end-link">{}</a>',
                url,
                _("Restore the end before this change"),
            )

        return (*shown, restore_end)

    def get_queryset(self, request: HttpRequest) -> QuerySet[AccessChange]:
        """The records of the enrollments of the user's courses (every record for a holder of
        the global permission): the selector's read, the one the API's `auditLog` pages
        (enrollments/selectors/audit_log.py), with the list's filters on top."""
        return audit_trail(trail_scope(request.user))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        """VIEW_ACCESS_CHANGE globally, or through a role in some course; a
        record only of those courses (get_queryset finds no other). Nobody changes a record,
        so Django's change permission does not show the trail."""
        return not trail_scope(request.user).empty

    def change_view(self, request: HttpRequest, object_id, form_url="", extra_context=None):
        """A record of a batch links to the batch's rows and, with the permission, its undo."""
        change = self.get_object(request, object_id)
        extra_context = dict(extra_context or {})
        if change is not None and change.batch_id is not None:
            extra_context["batch_rows_url"] = undoing.batch_rows_url(change.batch_id)
            if undoing.may_undo(request.user):
                extra_context["undo_batch_url"] = undoing.undo_batch_url(change.batch_id)
                extra_context["undo_batch_label"] = undoing.undo_label(change.undoes_batch_id)
        return super().change_view(request, object_id, form_url, extra_context)

    def changelist_view(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        """Filtered to one enrollment (its "History" button), the page says whose trail it is;
        filtered to one batch, it offers to undo it."""
        prime_roles(request.user)
        enrollment_id = parse_uuid(request.GET.get("enrollment__id__exact", ""))
        # The trail is read, never picked from: not Django's "Select access change to view".
        extra_context = {"title": _("Access changes"), **(extra_context or {})}
        batch_id = parse_uuid(request.GET.get("batch_id", ""))
        if batch_id is not None:
            extra_context.update(self._batch_context(request, batch_id))
        if enrollment_id is not None:
            # Named only within the user's courses: another course's learner is not revealed.
            enrollment = (
                Enrollment.objects.select_related("user", "course")
                .filter(trail_scope(request.user).condition(), pk=enrollment_id)
                .first()
            )
            if enrollment is not None:
                extra_context["subtitle"] = _("History of %(enrollment)s") % {
                    "enrollment": enrollment_label(enrollment.user.email, enrollment.course.title)
                }
        return super().changelist_view(request, extra_context)

    def _batch_context(self, request: HttpRequest, batch_id) -> dict:
        """The list filtered to one batch says which batch it is (not Django's "Select access
        change to view"): an undo's batch (where "Undo this batch" lands) names the batch it
        undid and links to it. Its undo link says what undoing an undo does in the core
        (operations/undoing.py: the undone batch is applied again), never "Undo this batch",
        which read as a way back and silently reverted the undo (issue 26)."""
        undone = undoing.undone_batch(self.get_queryset(request), batch_id)
        if undone is None:
            context = {
                # Translators: the audit trail filtered to one batch; the batch id's start.
                "title": _("Changes of batch %(batch)s…") % {"batch": str(batch_id)[:8]},
                "subtitle": _("Changes of batch %(batch)s") % {"batch": batch_id},
            }
        else:
            context = {
                "title": _("Undo of batch %(batch)s…") % {"batch": str(undone)[:8]},
                "subtitle": _(
                    "Batch %(batch)s put the enrollments of batch %(undone)s back to their "
                    "state before it."
                )
                % {"batch": batch_id, "undone": undone},
                "undone_batch_url": undoing.batch_rows_url(undone),
            }
        if undoing.may_undo(request.user):
            context["undo_batch_url"] = undoing.undo_batch_url(batch_id)
            context["undo_batch_label"] = undoing.undo_label(undone)
        return context

    def history_view(self, request: HttpRequest, object_id, extra_context=None) -> HttpResponse:
        """An audit record never changes: its "History" is its enrollment's whole trail."""
        change = self.get_object(request, object_id)
        if change is None or not self.has_view_permission(request, change):
            return HttpResponseRedirect(reverse("admin:enrollments_accesschange_changelist"))
        return HttpResponseRedirect(access_change_trail_url(change.enrollment_id))

    def lookup_allowed(self, lookup, value, request=None) -> bool:
        # Links filter by one bulk operation (batch_id) or one enrollment.
        if lookup in {"batch_id", "enrollment__id__exact"}:
            return True
        return super().lookup_allowed(lookup, value, request)

    @admin.display(description=gettext_lazy("enrollment"), ordering="enrollment__user__email")
    def enrollment_link(self, change: AccessChange) -> str:
        enrollment = change.enrollment
        url = reverse("admin:enrollments_enrollment_change", args=[enrollment.pk])
        # The label's words (display.enrollment_label's msgid), the e-mail kept whole.
        words = conditional_escape(_("%(email)s in %(course)s")) % {
            "email": email_html(enrollment.user.email),
            "course": conditional_escape(enrollment.course.title),
        }
        return format_html('<a href="{}">{}</a>', url, mark_safe(words))  # noqa: S308 - escaped
