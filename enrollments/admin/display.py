"""How the enrollment admin renders instants, access states, progress and counts.

Words are marked for translation (issue 26 item 9): labels at import time with gettext_lazy,
sentences with a count through `counted` (an `ngettext_lazy` for the plural form, the number
written as the active language groups it, `1,234` in English)."""

import re
import zoneinfo
from collections.abc import Callable
from datetime import datetime, timedelta

from django.contrib import admin
from django.db.models import Model
from django.utils import formats, timezone
from django.utils.functional import lazy
from django.utils.html import conditional_escape, format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from enrollments.instants import instant_text
from enrollments.progress import CourseStatus
from enrollments.rules import AccessState

INDEFINITE = gettext_lazy("Indefinite")

#: Badge colours per access state (text, background): readable in light and dark themes.
_BADGE_COLOURS = {
    AccessState.ACTIVE: ("#fff", "#2e7d32"),
    AccessState.EXPIRED: ("#fff", "#c62828"),
    AccessState.NOT_STARTED: ("#fff", "#546e7a"),
    AccessState.PAUSED: ("#000", "#f9a825"),
    AccessState.REMOVED: ("#fff", "#424242"),
}

_STATE_LABELS = {
    # Translators: an enrollment's access state (a badge, a filter's choice).
    AccessState.ACTIVE: gettext_lazy("Active"),
    AccessState.EXPIRED: gettext_lazy("Expired"),
    # Translators: access state: access starts later.
    AccessState.NOT_STARTED: gettext_lazy("Not started"),
    AccessState.PAUSED: gettext_lazy("Paused"),
    AccessState.REMOVED: gettext_lazy("Removed from course"),
}


_COURSE_STATUS_LABELS = {
    # Translators: a learner's progress in a course: no item completed yet.
    CourseStatus.NOT_STARTED: gettext_lazy("Not started"),
    CourseStatus.IN_PROGRESS: gettext_lazy("In progress"),
    CourseStatus.COMPLETED: gettext_lazy("Completed"),
}

#: Where `counted_html` puts the number (a private-use character: never in a translation).
_NUMBER_SLOT = "\ue000"


def number(count: int) -> str:
    """A count as the active language writes it, grouped: `1,234` in English, `1.234` in
    German (the templates' `floatformat:"g"` writes the same)."""
    return formats.number_format(count, force_grouping=True)


def counted(sentence, count: int) -> str:
    """`sentence`, an `ngettext_lazy(singular, plural, "n")` whose words hold `%(count)s`, for
    `count`: the plural form the active language uses for that number, the number written by
    `number` ("Paused 1,234 enrollments")."""
    return sentence % {"n": count, "count": number(count)}


def counted_lazy(sentence, count: int) -> str:
    """`counted`, evaluated when shown (in the language of that request): for words declared
    at import time, such as a form field's help text naming a limit."""
    return lazy(counted, str)(sentence, count)


def counted_html(sentence, count: int) -> SafeString:
    """`counted`, escaped, with the number in <strong> (a preview's count lines:
    "<strong>3</strong> enrollments will be paused.")."""
    text = str(conditional_escape(sentence % {"n": count, "count": _NUMBER_SLOT}))
    return mark_safe(  # noqa: S308 - the words escaped above, the number formatted by format_html
        text.replace(_NUMBER_SLOT, format_html("<strong>{}</strong>", number(count)))
    )


def duration_text(seconds: float) -> str:
    """A duration as Python writes a timedelta (`2 days, 3:04:05`), its days in the active
    language."""
    duration = timedelta(seconds=seconds)
    clock = str(duration - timedelta(days=duration.days))
    if not duration.days:
        return clock
    return ngettext("%(count)s day, %(clock)s", "%(count)s days, %(clock)s", duration.days) % {
        "count": duration.days,
        "clock": clock,
    }


def state_label(state: AccessState | str) -> str:
    return str(_STATE_LABELS[AccessState(state)])


def course_status_label(status: str) -> str:
    """The column's and the filter's word for a `course_status` (an unknown value as is)."""
    return str(_COURSE_STATUS_LABELS.get(status, status))


def course_status_choices() -> list[tuple[str, str]]:
    return [(status, course_status_label(status)) for status in CourseStatus.CHOICES]


def enrollment_label(email: str, course_title: str) -> str:
    """How staff pages and messages name an enrollment: `learner@example.com in Course`."""
    # Translators: names an enrollment: a learner's e-mail address and a course's title.
    return _("%(email)s in %(course)s") % {"email": email, "course": course_title}


def state_badge(state: AccessState | str) -> SafeString:
    state = AccessState(state)
    colour, background = _BADGE_COLOURS[state]
    return format_html(
        '<span class="access-badge access-{}" style="color:{};background:{};padding:1px 8px;'
        'border-radius:8px;white-space:nowrap;font-size:0.85em">{}</span>',
        state.value,
        colour,
        background,
        _STATE_LABELS[state],
    )


def format_instant(instant: datetime | None, zone: zoneinfo.ZoneInfo | None = None) -> str:
    """`2026-02-10 14:00 CET`: in `zone`, by default the active one (the staff member's in the
    admin, see time_zone.StaffTimeZoneMiddleware), always with the zone's abbreviation, so no
    date on a staff page is ambiguous. "Indefinite" for no end."""
    if instant is None:
        return str(INDEFINITE)
    return instant_text(instant, zone or timezone.get_current_timezone())


def instant_cell(instant: datetime | None, zone: zoneinfo.ZoneInfo | None = None) -> SafeString:
    """A list column's date: the day, and under it the time with the zone (`14:00 CET`), so a
    date column stays narrow enough for every column to fit at 1366 px."""
    if instant is None:
        return format_html('<span class="instant">{}</span>', INDEFINITE)
    day, time_and_zone = instant_text(instant, zone or timezone.get_current_timezone()).split(
        " ", 1
    )
    return format_html(
        '<span class="instant"><time datetime="{}">{} <span class="instant-time">{}</span>'
        "</time></span>",
        instant.isoformat(),
        day,
        time_and_zone,
    )


def zoned(field: str, label: str, *, cell: bool = False) -> Callable[[Model], str]:
    """A column or read-only field (`list_display`, `readonly_fields`, `fieldsets`) showing the
    model's `field` (a DateTimeField) in the staff member's zone, named: Django's own rendering
    of a date field names no zone (issue 26: course and user pages). `cell`: the list's two-line
    `instant_cell`, else `format_instant`'s one line. Empty (never logged in): "-"."""

    def show(obj: Model) -> str:
        instant = getattr(obj, field)
        if instant is None:
            return "-"
        return instant_cell(instant) if cell else format_instant(instant)

    show.__name__ = f"{field}_zoned"
    return admin.display(description=label, ordering=field)(show)


def natural_key(text: str) -> tuple:
    """Sorts as people read: learner3 before learner10 (runs of digits compare as numbers),
    case-insensitively."""
    return tuple(
        (1, int(part), "") if part.isdigit() else (0, 0, part.casefold())
        for part in re.split(r"(\d+)", text)
        if part
    )


def email_html(email: str) -> SafeString:
    """An e-mail address that a narrow cell may wrap only before its "@", never inside a word
    (issue 26: addresses were broken mid-word): each part is kept whole (staff.css `.email`);
    copying the text gives the address unchanged."""
    local, at, domain = email.rpartition("@")
    if not at:
        return format_html('<span class="email"><span>{}</span></span>', email)
    return format_html(
        '<span class="email"><span>{}</span><wbr><span>@{}</span></span>', local, domain
    )


def uuid_html(value: object) -> SafeString:
    """A UUID whole, breakable only after its hyphens (`<wbr>`, no text added: copying it gives
    the id unchanged)."""
    parts = str(value).split("-")
    return format_html_join(mark_safe("-<wbr>"), "{}", ((part,) for part in parts))


def nowrap(text: str) -> SafeString:
    return format_html('<span style="white-space:nowrap">{}</span>', text)


class ReadOnly:
    """An admin (or inline) of records nobody adds, changes or deletes by hand: the audit
    trail, the jobs, the erasures. Viewing stays the model admin's own rule."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
