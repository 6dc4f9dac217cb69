"""The "End access / set end…" workflow: end access now, or set an earlier end (the core's
`Expire`), for a changelist selection or for the change page's one enrollment.

A form page (operation_form_page), as "Extend access…" (extend_access.py): the form (a
new end, empty for now, in the staff member's time zone, and a reason), "Preview"
(operations.preview: the current and new end of every row that changes, the skipped rows with
the reason), "Confirm" (operations.apply with the previewed plan's fingerprint as `expected`:
a plan that moved, or a preview confirmed twice, applies nothing and shows the new preview).
It is also how an end that an extension set too far is corrected: type the end it should have.
"""

import zoneinfo
from dataclasses import dataclass

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern

from enrollments.admin.forms import (
    OperationForm,
    WallClockDateTimeField,
    localize_wall_time,
    reason_field,
)
from enrollments.admin.operation_form_page import OperationFormPage
from enrollments.admin.time_zone import time_zone_choices
from enrollments.operations import Expire

#: The result: "Set the new end of access for 3 enrollments."
EXPIRED = "Set the new end of access for"


@dataclass(frozen=True, slots=True)
class ExpireParams:
    at: object  # an aware datetime in UTC, or None for now
    reason: str
    time_zone: zoneinfo.ZoneInfo

    def operation(self) -> Expire:
        return Expire(at=self.at)


class ExpireAccessForm(OperationForm):
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
    reason = reason_field()

    def clean(self) -> dict:
        data = super().clean()
        if data.get("at") and data.get("time_zone"):
            try:
                zone = zoneinfo.ZoneInfo(data["time_zone"])
                data["at_utc"] = localize_wall_time(data["at"], zone)
            except ValidationError as error:
                self.add_error("at", error)
        return data

    def rule_error_field(self) -> str:
        return "at"

    def params(self) -> ExpireParams:
        data = self.cleaned_data
        return ExpireParams(
            at=data.get("at_utc"),
            reason=data.get("reason", "").strip(),
            time_zone=zoneinfo.ZoneInfo(data["time_zone"]),
        )


EXPIRE_ACCESS = OperationFormPage(
    "expire_access", "End access / set end", ExpireAccessForm, Expire, verb=EXPIRED
)


class ExpireAccessMixin:
    """The "End access / set end…" action, its URLs and its views, for the enrollment admin."""

    def has_expire_access_permission(self, request: HttpRequest, obj=None) -> bool:
        return EXPIRE_ACCESS.permission.held_by(request.user)

    def get_expire_access_urls(self) -> list[URLPattern]:
        return EXPIRE_ACCESS.urls(self)

    @admin.action(description="End access / set end…", permissions=[Expire.permission.codename])
    def expire_access(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse:
        """The changelist action: shows the form for the selection; nothing changes yet."""
        return EXPIRE_ACCESS.show_form(self, request, queryset)

    def expire_access_view(self, request: HttpRequest) -> HttpResponse:
        """Preview and confirmation for a changelist selection (POST only)."""
        return EXPIRE_ACCESS.selection_step(self, request)

    def expire_access_one_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The change page's "End access / set end" button: the same form for one enrollment."""
        return EXPIRE_ACCESS.one_step(self, request, object_id)
