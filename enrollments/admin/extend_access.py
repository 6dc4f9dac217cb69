"""The "Extend access…" workflow: one form and one preview for a changelist selection (any
size) and for the change page's single enrollment.

Steps: the action (or the change page's button) shows the form; "Preview" shows what the
operation core would do (operations.preview); "Confirm" applies it (operations.apply,
source=admin, actor=the staff member) with the previewed plan's fingerprint as `expected`, then
redirects with counts and the skipped rows by name. When the plan under the row locks is not
the one previewed (rows swapped with the count unchanged, an end date moved meanwhile, the same
preview confirmed twice), the core applies nothing and the page shows the new preview instead.

A changelist selection (ticked rows or "select all") is a selection by filter; the change page
names its one enrollment (operations.selection says what differs).
"""

from dataclasses import dataclass, field

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse

from enrollments.admin import views
from enrollments.admin.display import enrollment_label, format_instant, natural_key
from enrollments.admin.forms import ExtendAccessForm
from enrollments.admin.reporting import error_text, report_plan
from enrollments.admin.selection import CHANGELIST_FILTERS, InvalidSelection, Selection
from enrollments.admin.time_zone import has_chosen_time_zone, remember_time_zone, staff_time_zone
from enrollments.errors import ChangedSincePreview, DomainError
from enrollments.models import AccessChange, Enrollment
from enrollments.operations import Extend, Plan, apply, preview
from enrollments.operations import Selection as CoreSelection
from enrollments.operations.audit import Attribution

#: Rows listed in each preview table; beyond that the page shows counts only.
PREVIEW_ROWS = 100


@dataclass(slots=True)
class PreviewRow:
    enrollment: Enrollment | None
    enrollment_id: object
    current_end: str
    new_end: str = ""
    reason: str = ""


@dataclass(slots=True)
class Preview:
    selected: int
    changed: int
    skipped: int
    changed_rows: list[PreviewRow] = field(default_factory=list)
    skipped_rows: list[PreviewRow] = field(default_factory=list)

    @property
    def unchanged(self) -> int:
        return self.selected - self.changed - self.skipped


def build_preview(plan: Plan, zone, selected: int) -> Preview:
    """What confirming would do, with the first PREVIEW_ROWS changed and skipped rows named."""
    changes, skipped = plan.changes, plan.skips
    shown_changes, shown_skipped = changes[:PREVIEW_ROWS], skipped[:PREVIEW_ROWS]
    ids = [c.enrollment_id for c in shown_changes] + [s.enrollment_id for s in shown_skipped]
    enrollments = Enrollment.objects.select_related("user", "course").in_bulk(ids)
    shown = Preview(selected=selected, changed=len(changes), skipped=len(skipped))
    shown.changed_rows = [
        PreviewRow(
            enrollment=enrollments.get(change.enrollment_id),
            enrollment_id=change.enrollment_id,
            current_end=format_instant(change.old_ended_at, zone),
            new_end=format_instant(change.new_ended_at, zone),
        )
        for change in shown_changes
    ]
    shown.skipped_rows = [
        PreviewRow(
            enrollment=(enrollment := enrollments.get(row.enrollment_id)),
            enrollment_id=row.enrollment_id,
            current_end=format_instant(enrollment.ended_at if enrollment else None, zone),
            reason=error_text(row.error),
        )
        for row in shown_skipped
    ]
    _sort_rows(shown.changed_rows)
    _sort_rows(shown.skipped_rows)
    return shown


def _sort_rows(rows: list[PreviewRow]) -> None:
    """In natural order (learner3 before learner10), by learner then course."""
    rows.sort(
        key=lambda r: (
            (natural_key(r.enrollment.user.email), natural_key(r.enrollment.course.title))
            if r.enrollment
            else ((), ())
        )
    )


class ExtendAccessMixin:
    """Adds the action, its URLs and its views to the enrollment ModelAdmin."""

    extend_access_template = "admin/enrollments/enrollment/extend_access.html"

    def has_extend_access_permission(self, request: HttpRequest, obj=None) -> bool:
        return Extend.permission.held_by(request.user)

    def get_extend_access_urls(self) -> list:
        return [
            views.admin_path(
                self, "extend-access/", self.extend_access_view, "extend_access", post_only=True
            ),
            views.admin_path(
                self,
                "<path:object_id>/extend-access/",
                self.extend_access_one_view,
                "extend_access_one",
            ),
        ]

    @admin.action(description="Extend access…", permissions=[Extend.permission.codename])
    def extend_access(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse:
        """The changelist action: shows the form for the selection; nothing changes yet."""
        try:
            selection = Selection.from_action(request)
        except InvalidSelection as error:
            self.message_user(request, f"Invalid selection: {error}", messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())
        form = ExtendAccessForm(initial=self._extend_initial(request))
        return self._render_extend_page(request, selection, form, queryset.count())

    def extend_access_view(self, request: HttpRequest) -> HttpResponse:
        """Preview and confirmation for a changelist selection (POST only)."""
        views.check_permission(self, request, self.has_extend_access_permission)
        try:
            selection = Selection.from_post(request.POST)
        except InvalidSelection as error:
            self.message_user(request, f"Invalid selection: {error}", messages.ERROR)
            return HttpResponseRedirect(
                views.changelist_url(request.POST.get(CHANGELIST_FILTERS, ""))
            )
        return self._extend_step(request, selection)

    def extend_access_one_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The change page's "Extend access" button: the same form for one enrollment."""
        views.check_permission(self, request, self.has_extend_access_permission)
        enrollment = views.find_enrollment(self, request, object_id)
        if enrollment is None:
            return views.not_found(self, request)
        selection = Selection(ids=(enrollment.pk,))
        if request.method != "POST":
            form = ExtendAccessForm(initial=self._extend_initial(request))
            return self._render_extend_page(request, selection, form, 1, enrollment=enrollment)
        return self._extend_step(request, selection, enrollment=enrollment)

    def _extend_step(
        self, request: HttpRequest, selection: Selection, enrollment: Enrollment | None = None
    ) -> HttpResponse:
        try:
            queryset, selected = selection.resolve(self, request)
        except InvalidSelection as error:
            self.message_user(request, f"Invalid selection: {error}", messages.ERROR)
            return HttpResponseRedirect(views.changelist_url(selection.filters))
        form = ExtendAccessForm(request.POST, initial=self._extend_initial(request))

        def page(**extra) -> TemplateResponse:
            return self._render_extend_page(
                request, selection, form, selected, enrollment=enrollment, **extra
            )

        if not form.is_valid():
            return page()
        params = form.params()
        remember_time_zone(request, params.time_zone)
        operation = params.operation()
        # The change page names its enrollment; a changelist selection is a filter.
        core_selection = (
            CoreSelection.named([enrollment.pk])
            if enrollment is not None
            else CoreSelection.by_filter(queryset)
        )
        try:
            if "_confirm" not in request.POST:
                plan = preview(operation, core_selection)
            else:
                by = Attribution(request.user, AccessChange.Source.ADMIN, params.reason)
                expected = request.POST.get("preview_token", "")
                done = apply(operation, core_selection, by, expected=expected)
                report_plan(request, done, verb="Extended access for")
                if enrollment is not None:
                    return HttpResponseRedirect(views.change_url(enrollment))
                return HttpResponseRedirect(views.changelist_url(selection.filters))
        except ChangedSincePreview as error:
            messages.warning(request, f"{error.message}: check the new preview and confirm again.")
            plan = error.plan
        except DomainError as error:  # a request invalid for every row
            form.add_error(form.rule_error_field(), error_text(error))
            return page()
        shown = build_preview(plan, params.time_zone, selected)
        return page(preview=shown, token=plan.fingerprint())

    def _extend_initial(self, request: HttpRequest) -> dict:
        return {"time_zone": staff_time_zone(request).key}

    def _render_extend_page(
        self,
        request: HttpRequest,
        selection: Selection,
        form: ExtendAccessForm,
        selected: int,
        *,
        preview: Preview | None = None,
        token: str = "",
        enrollment: Enrollment | None = None,
    ) -> TemplateResponse:
        if enrollment is not None:
            form_url = reverse(
                "admin:enrollments_enrollment_extend_access_one", args=[enrollment.pk]
            )
            cancel_url = views.change_url(enrollment)
        else:
            form_url = reverse("admin:enrollments_enrollment_extend_access")
            cancel_url = views.changelist_url(selection.filters)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Extend access",
            "enrollment_label": (
                enrollment_label(enrollment.user.email, enrollment.course.title)
                if enrollment
                else ""
            ),
            "form": form,
            "media": self.media + form.media,
            "selection": selection,
            "selection_fields": [] if enrollment is not None else selection.hidden_fields(),
            "selected": selected,
            "enrollment": enrollment,
            "enrollment_end": format_instant(enrollment.ended_at, form.zone) if enrollment else "",
            "preview": preview,
            "preview_rows_limit": PREVIEW_ROWS,
            "token": token,
            "zone": form.zone,
            "zone_from_browser": not has_chosen_time_zone(request) and not form.is_bound,
            "form_url": form_url,
            "cancel_url": cancel_url,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.extend_access_template, context)
