"""The "Extend access…" workflow: one form and one preview for a changelist selection (any
size) and for the change page's single enrollment.

Steps: the action (or the change page's button) shows the form; "Preview" shows what the bulk
service would do (selectors.extension_preview); "Confirm" applies it through
services.enrollments_extend_access_bulk (source=admin, actor=the staff member) in one
transaction, then redirects with counts and the skipped rows by name. The confirmation carries a
fingerprint of the previewed request and selection size: when either changed since the
preview, the preview is shown again instead of applying something nobody saw.
"""

import hashlib
from dataclasses import dataclass, field

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from enrollments.admin.display import format_instant
from enrollments.admin.forms import TIME_ZONE_SESSION_KEY, ExtendAccessForm, ExtensionParams
from enrollments.admin.reporting import error_text, report_bulk_result
from enrollments.admin.selection import CHANGELIST_FILTERS, InvalidSelection, Selection
from enrollments.errors import DomainError
from enrollments.models import AccessChange, Enrollment
from enrollments.selectors import extension_preview, parse_uuid
from enrollments.services import enrollments_extend_access_bulk

#: Rows listed in each preview table; beyond that the page shows counts only.
PREVIEW_ROWS = 100

EXTEND_PERMISSION = "enrollments.extend_access"


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


def build_preview(
    queryset: QuerySet[Enrollment], params: ExtensionParams, selected: int
) -> Preview:
    """What confirming would do, with the first PREVIEW_ROWS changed and skipped rows named.
    Raises InvalidExtensionPeriod for a request that is invalid for every row."""
    changes, skipped = extension_preview(queryset=queryset, **params.service_kwargs())
    shown_changes, shown_skipped = changes[:PREVIEW_ROWS], skipped[:PREVIEW_ROWS]
    ids = [c.enrollment_id for c in shown_changes] + [s.enrollment_id for s in shown_skipped]
    enrollments = Enrollment.objects.select_related("user", "course").in_bulk(ids)
    zone = params.time_zone
    preview = Preview(selected=selected, changed=len(changes), skipped=len(skipped))
    preview.changed_rows = [
        PreviewRow(
            enrollment=enrollments.get(change.enrollment_id),
            enrollment_id=change.enrollment_id,
            current_end=format_instant(change.old_ended_at, zone),
            new_end=format_instant(change.new_ended_at, zone),
        )
        for change in shown_changes
    ]
    preview.skipped_rows = [
        PreviewRow(
            enrollment=(enrollment := enrollments.get(row.enrollment_id)),
            enrollment_id=row.enrollment_id,
            current_end=format_instant(enrollment.ended_at if enrollment else None, zone),
            reason=error_text(row.error),
        )
        for row in shown_skipped
    ]
    _sort_rows(preview.changed_rows)
    _sort_rows(preview.skipped_rows)
    return preview


def _sort_rows(rows: list[PreviewRow]) -> None:
    rows.sort(
        key=lambda r: (
            (r.enrollment.user.email, r.enrollment.course.title) if r.enrollment else ("", "")
        )
    )


def fingerprint(params: ExtensionParams, selection: Selection, selected: int) -> str:
    text = f"{params.fingerprint()}|{selection.signature()}|selected={selected}"
    return hashlib.sha256(text.encode()).hexdigest()


class ExtendAccessMixin:
    """Adds the action, its URLs and its views to the enrollment ModelAdmin."""

    extend_access_template = "admin/enrollments/enrollment/extend_access.html"

    def has_extend_access_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.has_perm(EXTEND_PERMISSION)

    def _check_extend_permission(self, request: HttpRequest) -> None:
        """The views check again what the action list checked: a crafted request without the
        permission (or without access to enrollments at all) is refused."""
        if not (
            self.has_extend_access_permission(request)
            and self.has_view_or_change_permission(request)
        ):
            raise PermissionDenied

    def get_extend_access_urls(self) -> list:
        app, model = self.opts.app_label, self.opts.model_name
        wrap = self.admin_site.admin_view
        return [
            path(
                "extend-access/",
                wrap(require_POST(self.extend_access_view)),
                name=f"{app}_{model}_extend_access",
            ),
            path(
                "<path:object_id>/extend-access/",
                wrap(self.extend_access_one_view),
                name=f"{app}_{model}_extend_access_one",
            ),
        ]

    @admin.action(description="Extend access…", permissions=["extend_access"])
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
        self._check_extend_permission(request)
        try:
            selection = Selection.from_post(request.POST)
        except InvalidSelection as error:
            self.message_user(request, f"Invalid selection: {error}", messages.ERROR)
            return HttpResponseRedirect(
                self._changelist_url(request.POST.get(CHANGELIST_FILTERS, ""))
            )
        return self._extend_step(request, selection)

    def extend_access_one_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The change page's "Extend access" button: the same form for one enrollment."""
        self._check_extend_permission(request)
        pk = parse_uuid(object_id)
        enrollment = self.get_queryset(request).filter(pk=pk).first() if pk else None
        if enrollment is None or not self.has_view_or_change_permission(request, enrollment):
            self.message_user(request, "Enrollment not found.", messages.WARNING)
            return HttpResponseRedirect(self._changelist_url(""))
        selection = Selection(object_id=pk)
        if request.method != "POST":
            form = ExtendAccessForm(initial=self._extend_initial(request))
            return self._render_extend_page(request, selection, form, 1, enrollment=enrollment)
        return self._extend_step(request, selection, enrollment=enrollment)

    def _extend_step(
        self, request: HttpRequest, selection: Selection, enrollment: Enrollment | None = None
    ) -> HttpResponse:
        try:
            queryset = selection.queryset(self, request)
        except InvalidSelection as error:
            self.message_user(request, f"Invalid selection: {error}", messages.ERROR)
            return HttpResponseRedirect(self._changelist_url(selection.filters))
        selected = queryset.count()
        form = ExtendAccessForm(request.POST, initial=self._extend_initial(request))
        if not form.is_valid():
            return self._render_extend_page(
                request, selection, form, selected, enrollment=enrollment
            )
        params = form.params()
        request.session[TIME_ZONE_SESSION_KEY] = params.time_zone.key
        token = fingerprint(params, selection, selected)
        confirmed = "_confirm" in request.POST
        if confirmed and request.POST.get("preview_token") != token:
            messages.warning(
                request,
                "The request or the selection changed since the preview: check the new preview "
                "and confirm again.",
            )
            confirmed = False
        if not confirmed:
            try:
                preview = build_preview(queryset, params, selected)
            except DomainError as error:
                form.add_error(None, error_text(error))
                return self._render_extend_page(
                    request, selection, form, selected, enrollment=enrollment
                )
            return self._render_extend_page(
                request,
                selection,
                form,
                selected,
                preview=preview,
                token=token,
                enrollment=enrollment,
            )
        try:
            result = enrollments_extend_access_bulk(
                queryset=queryset,
                **params.service_kwargs(),
                actor=request.user,
                source=AccessChange.Source.ADMIN,
                reason=params.reason,
            )
        except DomainError as error:
            form.add_error(None, error_text(error))
            return self._render_extend_page(
                request, selection, form, selected, enrollment=enrollment
            )
        report_bulk_result(request, result, verb="Extended access for", selected=selected)
        if enrollment is not None:
            return HttpResponseRedirect(
                reverse("admin:enrollments_enrollment_change", args=[enrollment.pk])
            )
        return HttpResponseRedirect(self._changelist_url(selection.filters))

    def _extend_initial(self, request: HttpRequest) -> dict:
        return {"time_zone": request.session.get(TIME_ZONE_SESSION_KEY, "UTC")}

    def _changelist_url(self, filters: str) -> str:
        url = reverse("admin:enrollments_enrollment_changelist")
        return f"{url}?{filters}" if filters else url

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
            cancel_url = reverse("admin:enrollments_enrollment_change", args=[enrollment.pk])
        else:
            form_url = reverse("admin:enrollments_enrollment_extend_access")
            cancel_url = self._changelist_url(selection.filters)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Extend access",
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
            "zone_from_browser": TIME_ZONE_SESSION_KEY not in request.session,
            "form_url": form_url,
            "cancel_url": cancel_url,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.extend_access_template, context)
