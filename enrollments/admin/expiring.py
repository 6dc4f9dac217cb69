"""The "End access / set end…" workflow: end access now, or set an earlier end (the core's
`Expire`), for a changelist selection or for the change page's one enrollment.

The same steps as "Extend access…" (extend_access.py): the form (a new end, empty for now, in
the staff member's time zone, and a reason), "Preview" (operations.preview: the current and new
end of every row that changes, the skipped rows with the reason), "Confirm" (operations.apply
with the previewed plan's fingerprint as `expected`: a plan that moved, or a preview confirmed
twice, applies nothing and shows the new preview). It is also how an end that an extension set
too far is corrected: type the end it should have.
"""

import zoneinfo
from dataclasses import dataclass

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse

from enrollments.admin import views
from enrollments.admin.display import enrollment_label, format_instant
from enrollments.admin.extend_access import PREVIEW_ROWS, Preview, build_preview
from enrollments.admin.forms import WallClockDateTimeField, localize_wall_time
from enrollments.admin.reporting import error_text, report_plan
from enrollments.admin.selection import CHANGELIST_FILTERS, InvalidSelection, Selection
from enrollments.admin.time_zone import (
    has_chosen_time_zone,
    is_known_zone,
    remember_time_zone,
    staff_time_zone,
    time_zone_choices,
)
from enrollments.errors import ChangedSincePreview, DomainError, InvalidReason
from enrollments.models import AccessChange, Enrollment
from enrollments.operations import Expire, apply, preview
from enrollments.operations import Selection as CoreSelection
from enrollments.operations.audit import Attribution

TEMPLATE = "admin/enrollments/enrollment/expire_access.html"


@dataclass(frozen=True, slots=True)
class ExpireParams:
    at: object  # an aware datetime in UTC, or None for now
    reason: str
    time_zone: zoneinfo.ZoneInfo

    def operation(self) -> Expire:
        return Expire(at=self.at)


class ExpireAccessForm(forms.Form):
    """Parses what staff typed; the rules (after 2020, before 2038, earlier than the current
    end) are the operation's, shown at the field by the view."""

    at = WallClockDateTimeField(
        label="New end",
        required=False,
        help_text=(
            "Empty: access ends now. Otherwise the end each enrollment should have, earlier than "
            "its current end (it may still be in the future). In the time zone below."
        ),
    )
    time_zone = forms.ChoiceField(
        label="Time zone",
        choices=time_zone_choices,
        initial="UTC",
        help_text="Your time zone for the whole admin (the new end is read in it).",
    )
    reason = forms.CharField(
        label="Reason",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text="Optional; kept in the audit record of every changed enrollment.",
    )

    def clean(self) -> dict:
        data = super().clean()
        if data.get("at") and data.get("time_zone"):
            try:
                zone = zoneinfo.ZoneInfo(data["time_zone"])
                data["at_utc"] = localize_wall_time(data["at"], zone)
            except ValidationError as error:
                self.add_error("at", error)
        return data

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        name = self.data.get("time_zone") if self.is_bound else None
        if not is_known_zone(name):
            name = self.initial.get("time_zone") or "UTC"
        return zoneinfo.ZoneInfo(name)

    def params(self) -> ExpireParams:
        data = self.cleaned_data
        return ExpireParams(
            at=data.get("at_utc"),
            reason=data.get("reason", "").strip(),
            time_zone=zoneinfo.ZoneInfo(data["time_zone"]),
        )


class ExpireAccessMixin:
    """Adds the action, its URLs and its views to the enrollment ModelAdmin."""

    def has_expire_access_permission(self, request: HttpRequest, obj=None) -> bool:
        return Expire.permission.held_by(request.user)

    def get_expire_access_urls(self) -> list:
        return [
            views.admin_path(
                self, "expire-access/", self.expire_access_view, "expire_access", post_only=True
            ),
            views.admin_path(
                self,
                "<path:object_id>/expire-access/",
                self.expire_access_one_view,
                "expire_access_one",
            ),
        ]

    @admin.action(description="End access / set end…", permissions=[Expire.permission.codename])
    def expire_access(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse:
        """The changelist action: the form for the selection; nothing changes yet."""
        try:
            selection = Selection.from_action(request)
        except InvalidSelection as error:
            self.message_user(request, f"Invalid selection: {error}", messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())
        form = ExpireAccessForm(initial=self._expire_initial(request))
        return self._render_expire_page(request, selection, form, queryset.count())

    def expire_access_view(self, request: HttpRequest) -> HttpResponse:
        """Preview and confirmation for a changelist selection (POST only)."""
        views.check_permission(self, request, self.has_expire_access_permission)
        try:
            selection = Selection.from_post(request.POST)
        except InvalidSelection as error:
            self.message_user(request, f"Invalid selection: {error}", messages.ERROR)
            return HttpResponseRedirect(
                views.changelist_url(request.POST.get(CHANGELIST_FILTERS, ""))
            )
        return self._expire_step(request, selection)

    def expire_access_one_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The change page's "End access / set end" button: the same form for one enrollment."""
        views.check_permission(self, request, self.has_expire_access_permission)
        enrollment = views.find_enrollment(self, request, object_id)
        if enrollment is None:
            return views.not_found(self, request)
        selection = Selection(ids=(enrollment.pk,))
        if request.method != "POST":
            form = ExpireAccessForm(initial=self._expire_initial(request))
            return self._render_expire_page(request, selection, form, 1, enrollment=enrollment)
        return self._expire_step(request, selection, enrollment=enrollment)

    def _expire_step(
        self, request: HttpRequest, selection: Selection, enrollment: Enrollment | None = None
    ) -> HttpResponse:
        try:
            queryset, selected = selection.resolve(self, request)
        except InvalidSelection as error:
            self.message_user(request, f"Invalid selection: {error}", messages.ERROR)
            return HttpResponseRedirect(views.changelist_url(selection.filters))
        form = ExpireAccessForm(request.POST, initial=self._expire_initial(request))

        def page(**extra) -> TemplateResponse:
            return self._render_expire_page(
                request, selection, form, selected, enrollment=enrollment, **extra
            )

        if not form.is_valid():
            return page()
        params = form.params()
        remember_time_zone(request, params.time_zone)
        operation = params.operation()
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
                report_plan(request, done, verb="Set the new end of access for")
                if enrollment is not None:
                    return HttpResponseRedirect(views.change_url(enrollment))
                return HttpResponseRedirect(views.changelist_url(selection.filters))
        except ChangedSincePreview as error:
            messages.warning(request, f"{error.message}: check the new preview and confirm again.")
            plan = error.plan
        except DomainError as error:  # an instant out of range, or a bad reason
            field = "reason" if isinstance(error, InvalidReason) else "at"
            form.add_error(field, error_text(error))
            return page()
        shown = build_preview(plan, params.time_zone, selected)
        return page(preview=shown, token=plan.fingerprint())

    def _expire_initial(self, request: HttpRequest) -> dict:
        return {"time_zone": staff_time_zone(request).key}

    def _render_expire_page(
        self,
        request: HttpRequest,
        selection: Selection,
        form: ExpireAccessForm,
        selected: int,
        *,
        preview: Preview | None = None,
        token: str = "",
        enrollment: Enrollment | None = None,
    ) -> TemplateResponse:
        if enrollment is not None:
            form_url = reverse(
                "admin:enrollments_enrollment_expire_access_one", args=[enrollment.pk]
            )
            cancel_url = views.change_url(enrollment)
        else:
            form_url = reverse("admin:enrollments_enrollment_expire_access")
            cancel_url = views.changelist_url(selection.filters)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "End access / set end",
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
        return TemplateResponse(request, TEMPLATE, context)
