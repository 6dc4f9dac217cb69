"""One time zone across the admin: the staff member's own, chosen once and remembered.

The zone is stored on the user (`User.time_zone`, an IANA name). `StaffTimeZoneMiddleware`
activates it for every admin request, so everything the admin renders (our columns through
`display.format_instant`, Django's own date drill-down, a typed date on a form) speaks the same
zone; `format_instant` writes the zone's abbreviation after every date, so no date is ambiguous.
Until a staff member chooses, dates are in UTC and the header says so, with a link to the
time-zone page (which proposes the browser's zone). The "Extend access" form's time-zone field
is the same preference: choosing another zone there changes it for the whole admin.

What is stored is always UTC; the zone changes only how instants are shown and typed.
"""

import zoneinfo
from functools import cache

from django import forms
from django.contrib import admin
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

DEFAULT_ZONE = "UTC"


@cache
def time_zone_choices() -> list[tuple[str, str]]:
    """Every IANA zone name, UTC first."""
    names = sorted(zoneinfo.available_timezones() - {"localtime"})
    return [(DEFAULT_ZONE, DEFAULT_ZONE)] + [(name, name) for name in names if name != DEFAULT_ZONE]


@cache
def _known_zones() -> frozenset[str]:
    return frozenset(name for name, _ in time_zone_choices())


def is_known_zone(name: str | None) -> bool:
    return name in _known_zones()


def has_chosen_time_zone(request: HttpRequest) -> bool:
    return is_known_zone(getattr(request.user, "time_zone", None))


def staff_time_zone(request: HttpRequest) -> zoneinfo.ZoneInfo:
    """The zone this staff member chose, UTC until they choose one (or when the stored name is
    no longer a known zone)."""
    name = getattr(request.user, "time_zone", None)
    return zoneinfo.ZoneInfo(name if is_known_zone(name) else DEFAULT_ZONE)


def remember_time_zone(request: HttpRequest, zone: zoneinfo.ZoneInfo) -> None:
    """Keeps `zone` as the staff member's zone (one UPDATE, only when it changed) and shows the
    rest of this request in it."""
    user = request.user
    if user.is_authenticated and user.time_zone != zone.key:
        user.time_zone = zone.key
        user.save(update_fields=["time_zone"])
    timezone.activate(zone)


class StaffTimeZoneMiddleware:
    """Activates the staff member's zone for admin requests (after AuthenticationMiddleware).
    Other requests (the GraphQL API: instants as Unix seconds) keep the server's UTC."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(reverse("admin:index")):
            return self.get_response(request)
        timezone.activate(staff_time_zone(request))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


class TimeZoneForm(forms.Form):
    time_zone = forms.ChoiceField(
        label="Your time zone",
        choices=time_zone_choices,
        help_text=(
            "Every date in the admin is shown in this zone, with its abbreviation (e.g. CET), "
            "and dates you type are read in it. What is stored stays UTC."
        ),
    )


def _next_url(request: HttpRequest) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse("admin:index")


def time_zone_view(request: HttpRequest) -> HttpResponse:
    """The staff member's time-zone page (any staff member, about their own preference)."""
    form = TimeZoneForm(request.POST or None, initial={"time_zone": staff_time_zone(request).key})
    if request.method == "POST" and form.is_valid():
        remember_time_zone(request, zoneinfo.ZoneInfo(form.cleaned_data["time_zone"]))
        return HttpResponseRedirect(_next_url(request))
    context = {
        **admin.site.each_context(request),
        "title": "Your time zone",
        "form": form,
        "next": _next_url(request),
        "zone_from_browser": not has_chosen_time_zone(request) and not form.is_bound,
    }
    return TemplateResponse(request, "admin/time_zone.html", context)
