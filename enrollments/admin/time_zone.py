"""One time zone across the admin: the staff member's own, chosen once and remembered.

The zone is stored on the user (`User.time_zone`, an IANA name). `StaffTimeZoneMiddleware`
activates it for every admin request, so everything the admin renders (our columns through
`display.format_instant`, Django's own date drill-down, a typed date on a form) speaks the same
zone; `format_instant` writes the zone's abbreviation after every date, so no date is ambiguous.
Until a staff member chooses, dates are in UTC and the header says so, with a link to the
time-zone page (which proposes the browser's zone). The zone changes only there (issue 26): the
time-zone field of "Extend access" and "End access" says how the end typed on that form is read
(it starts as the staff member's), and changes neither that page's dates nor the admin's zone.

What is stored is always UTC; the zone changes only how instants are shown and typed.
"""

import importlib.resources
import zoneinfo
from functools import cache
from pathlib import Path

from django import forms
from django.contrib import admin
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

DEFAULT_ZONE = "UTC"


# The areas of the tz database's own picker list (zone.tab); also the fallback's filter.
_AREAS = (
    "Africa",
    "America",
    "Antarctica",
    "Arctic",
    "Asia",
    "Atlantic",
    "Australia",
    "Europe",
    "Indian",
    "Pacific",
)

Choices = list[tuple[str, str | list[tuple[str, str]]]]


def _zone_tab() -> str | None:
    """The text of the tz database's `zone.tab`, looked up where `zoneinfo` finds its data: the
    system's TZPATH first, then the `tzdata` package (when installed). None when neither has it."""
    for directory in zoneinfo.TZPATH:
        path = Path(directory) / "zone.tab"
        if path.is_file():
            return path.read_text(encoding="utf-8")
    try:
        return importlib.resources.files("tzdata.zoneinfo").joinpath("zone.tab").read_text("utf-8")
    except (ModuleNotFoundError, FileNotFoundError):
        return None


@cache
def canonical_zones() -> tuple[str, ...]:
    """The zones the picker offers: current IANA names, without legacy aliases, sorted.

    Why `zone.tab` and not a hand list or all of `zoneinfo.available_timezones()` (about 600
    names): the tz maintainers keep `zone.tab` as the list "for programs that let users select
    time zones": one or more zones per country, current names only (Asia/Kolkata, not
    Asia/Calcutta; Europe/Kyiv, not Europe/Kiev), none of the backward-compatibility links
    (US/Eastern, GB, Zulu, Etc/GMT+5, EST5EDT). It is preferred to `zone1970.tab`, which merges
    countries that share clocks since 1970 (a Dutch staff member would have to find
    Europe/Brussels); every country keeps its own city here. The names are intersected with the
    installed database, so the picker never offers a zone `ZoneInfo` cannot load.

    Without a `zone.tab` (neither the system nor the `tzdata` package ships one), the installed
    names under the same areas are offered instead: no US/..., Etc/..., GB or Zulu, though a few
    renamed cities (Asia/Calcutta) remain.
    """
    installed = zoneinfo.available_timezones()
    text = _zone_tab()
    if text is None:
        names = {name for name in installed if name.split("/", 1)[0] in _AREAS and "/" in name}
    else:
        names = {
            line.split("\t")[2].strip()
            for line in text.splitlines()
            if line.strip() and not line.startswith("#")
        } & installed
    return tuple(sorted(names))


@cache
def _grouped_zones() -> Choices:
    groups: dict[str, list[tuple[str, str]]] = {}
    for name in canonical_zones():
        groups.setdefault(name.split("/", 1)[0], []).append((name, name.replace("_", " ")))
    return [(area, members) for area, members in groups.items()]


def time_zone_choices(current: str | None = None) -> Choices:
    """The picker's choices: UTC first, then the canonical zones (`canonical_zones`) grouped by
    area (Africa, America, ... Pacific), alphabetical within each.

    `current` is the zone already stored (the user's). When it is a name the installed database
    still knows but the picker no longer lists (an alias chosen before, e.g. US/Eastern), it is
    offered as is, right after UTC, so that the form shows it selected and saving the form keeps
    it. It is kept rather than mapped to its canonical zone: the alias follows the same rules, and
    the staff member, not a form save, decides to change it."""
    choices: Choices = [(DEFAULT_ZONE, DEFAULT_ZONE)]
    if (
        current
        and current != DEFAULT_ZONE
        and is_known_zone(current)
        and current not in canonical_zones()
    ):
        # Translators: a time zone's legacy name (US/Eastern) the staff member chose before.
        choices.append((current, _("%(zone)s (an older name, still valid)") % {"zone": current}))
    return choices + _grouped_zones()


@cache
def _known_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones() - {"localtime"})


def is_known_zone(name: str | None) -> bool:
    """Whether `name` is a zone the installed database can load, aliases included: a zone stored
    before the picker listed only canonical names keeps working everywhere."""
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


class TimeZoneSelect(forms.Select):
    """The time-zone picker's <select>, the same HTML as Django's Select, its options written
    by one template: Django's select.html includes select_option.html, which includes
    attrs.html, for each option, so the picker's ~420 zones took about 840 template renders
    on every extension and correction form: most of such a page's rendering, and a quarter of
    the admin tests' time under the test client, which copies the context at each render.
    tests/admin/test_time_zone_select.py compares the two renderings."""

    template_name = "enrollments/widgets/time_zone_select.html"


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
    """The time-zone page's form. The stored zone (initial) stays a valid choice even when it is
    an alias the picker no longer lists."""

    time_zone = forms.ChoiceField(
        label=gettext_lazy("Your time zone"),
        choices=time_zone_choices,
        widget=TimeZoneSelect,
        help_text=gettext_lazy(
            "Every date in the admin is shown in this zone, with its abbreviation (e.g. CET), "
            "and dates you type are read in it. What is stored stays UTC."
        ),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = time_zone_choices(self.initial.get("time_zone"))


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
        "title": _("Your time zone"),
        "form": form,
        "next": _next_url(request),
        "zone_from_browser": not has_chosen_time_zone(request) and not form.is_bound,
    }
    return TemplateResponse(request, "admin/time_zone.html", context)
