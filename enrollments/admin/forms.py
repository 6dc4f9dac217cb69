"""The forms of the preview/confirm pages (confirming.py): what they share (`OperationForm`
with the one `ReasonField`, the wall-clock date field) and the forms of "Extend access" and
"End access / set end", which parse what staff typed into the core's Extend and Expire. They
decide no rule: limits (positive days, a future end before 2038, a valid reason, ...) are the
core's, and its domain errors are shown on the form by the page."""

import zoneinfo
from datetime import UTC, datetime

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import ProhibitNullCharactersValidator
from django.forms.fields import BaseTemporalField
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext_lazy

from enrollments.admin.display import counted_lazy
from enrollments.admin.reporting import translated
from enrollments.admin.time_zone import TimeZoneSelect, is_known_zone, time_zone_choices
from enrollments.errors import InvalidReason
from enrollments.operations import Expire, Extend, Operation
from enrollments.operations.audit import MAX_REASON_LENGTH, clean_reason
from enrollments.operations.shortening import Shorten


class WallClockDateTimeField(forms.DateTimeField):
    """A date and time as typed, without a time zone: the form localises it in the zone the
    staff member chose (Django's field would use the server's zone, UTC)."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
    input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"]

    def to_python(self, value):
        """The typed wall time, naive. Unlike Django's field, it never attaches the active time
        zone: the zone is a separate field of the form."""
        if value in self.empty_values:
            return None
        if isinstance(value, datetime):
            result = value
        else:
            try:
                result = parse_datetime(str(value).strip())
            except ValueError:
                raise ValidationError(self.error_messages["invalid"], code="invalid") from None
            if result is None:
                result = BaseTemporalField.to_python(self, value)
        if result.tzinfo is not None:
            raise ValidationError(
                _("Enter the date and time without a UTC offset; choose the time zone below."),
                code="offset",
            )
        return result


class StaffZoneDateTimeField(WallClockDateTimeField):
    """A date and time typed in the staff member's own zone (the one the admin shows at the
    top of every page), cleaned to an aware instant in UTC by localize_wall_time: a time the
    clocks skip is refused rather than guessed, and one UTC cannot write (9999-12-31 23:00 in
    New York) is a form error, where Django's field would hand it on to fail as a server
    error when it is stored or compared."""

    def clean(self, value):
        wall = super().clean(value)
        if wall is None:
            return None
        return localize_wall_time(wall, timezone.get_current_timezone())


def localize_wall_time(wall: datetime, zone: zoneinfo.ZoneInfo) -> datetime:
    """`wall` (naive) as an instant in `zone`, converted to UTC. A time skipped by a daylight
    saving change does not exist there: refuse it rather than guess. A repeated time (clocks
    going back) means its first occurrence. A wall time near the calendar's ends (years 1 and
    9999) can name an instant that UTC cannot write, such as 9999-12-31 23:00 in New York:
    a form error too, since no date beyond the core's limit (2038, access_window.MAX_ENDED_AT)
    could be used anyway."""
    local = wall.replace(tzinfo=zone, fold=0)
    try:
        round_trip = local.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
    except OverflowError:
        raise ValidationError(
            _("%(wall)s in %(zone)s is outside the range of dates that can be stored."),
            code="out_of_range",
            params={"wall": wall.isoformat(sep=" ", timespec="minutes"), "zone": zone.key},
        ) from None
    if round_trip != wall:
        raise ValidationError(
            _("%(wall)s does not exist in %(zone)s (the clocks skip it for daylight saving time)."),
            code="nonexistent_time",
            params={"wall": wall.strftime("%Y-%m-%d %H:%M"), "zone": zone.key},
        )
    return local.astimezone(UTC)


#: The reason's help text, as a rule: optional.
OPTIONAL_REASON_HELP = counted_lazy(
    ngettext_lazy(
        "Optional, at most %(count)s character; kept in the audit record of every "
        "changed enrollment.",
        "Optional, at most %(count)s characters; kept in the audit record of every "
        "changed enrollment.",
        "n",
    ),
    MAX_REASON_LENGTH,
)
#: The reason's help text where a course of the page's rows requires a reason of the staff
#: member (OperationForm.require_reason).
REQUIRED_REASON_HELP = counted_lazy(
    ngettext_lazy(
        "Required: the course requires a reason for every access change by its staff (without "
        "one, its enrollments are skipped). At most %(count)s character; kept in the audit "
        "record of every changed enrollment.",
        "Required: the course requires a reason for every access change by its staff (without "
        "one, its enrollments are skipped). At most %(count)s characters; kept in the audit "
        "record of every changed enrollment.",
        "n",
    ),
    MAX_REASON_LENGTH,
)


class ReasonField(forms.CharField):
    """The reason of every admin page that changes access, declared once. Its limit and its
    wording are the core's (`audit.clean_reason`, `InvalidReason`: what the API and the commands
    say), so the field adds no validator of its own; Django's NUL check would word the refusal
    differently. The cleaned value is the reason as the audit row keeps it (stripped).

    The field itself is never required: whether a change needs a reason is the core's rule
    (a course's staff limits, operations/limits.py), per row, which skips the rows without one;
    the form only says so (`OperationForm.require_reason`)."""

    def __init__(self) -> None:
        super().__init__(
            label=gettext_lazy("Reason"),
            required=False,
            widget=forms.Textarea(attrs={"rows": 3, "cols": 60, "maxlength": MAX_REASON_LENGTH}),
            help_text=OPTIONAL_REASON_HELP,
        )
        self.validators = [
            v for v in self.validators if not isinstance(v, ProhibitNullCharactersValidator)
        ]

    def clean(self, value) -> str:
        try:
            return clean_reason(super().clean(value))
        except InvalidReason as refused:
            raise ValidationError(translated(refused.message), code=refused.code) from None


#: The operation forms' time-zone field: it only says how the typed end is read.
TYPED_ZONE_HELP = gettext_lazy(
    "The new end you type is read in this zone; it starts as your own. Choosing another one "
    "here changes only this form: the admin keeps showing dates in your zone, which you "
    "change on the Time zone page (link at the top of every page)."
)


class OperationForm(forms.Form):
    """The form of a preview/confirm page (confirming.py): the reason, and in a subclass the
    operation's parameters, rendered before it. A subclass with parameters builds the core's
    operation from them (`operation()`) and names the field a domain error of the whole
    request belongs to (`rule_error_field()`); the rules themselves are the operation's."""

    reason = ReasonField()

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if "time_zone" in self.fields:
            # The staff member's stored zone (initial) stays selectable if it is an old alias.
            self.fields["time_zone"].choices = time_zone_choices(self.initial.get("time_zone"))

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        """The zone the page shows dates in: the staff member's (the initial one), else UTC.
        Never the form's own time-zone field: that field says how a typed date is read, and
        choosing another zone there changes neither this page's dates nor the admin's zone
        (issue 26: previewing had silently switched the whole admin's zone)."""
        name = self.initial.get("time_zone")
        return zoneinfo.ZoneInfo(name if is_known_zone(name) else "UTC")

    def require_reason(self) -> None:
        """Says in the reason's help that it is required: a course of the page's rows requires
        one of this staff member (the page decides, confirming.reason_required). The field of
        this form only: Django copies the declared fields for each form. Call it before the
        form is cleaned or shown: a BoundField copies its field's help text when first built."""
        self.fields["reason"].help_text = REQUIRED_REASON_HELP

    def parameter_fields(self) -> list[forms.BoundField]:
        """The operation's own fields (all but the reason); none: the page previews at once."""
        return [self[name] for name in self.fields if name != "reason"]

    def operation(self) -> Operation | None:
        """The core operation the valid form asks for; None: the page's own operation."""
        return None

    def rule_error_field(self) -> str | None:
        """The field a request-level domain error is shown at; None: above the form."""
        return None


class ExtendAccessForm(OperationForm):
    MODE_DAYS = "days"
    MODE_UNTIL = "until"
    MODE_INDEFINITE = "indefinite"

    mode = forms.ChoiceField(
        # Translators: the legend of the choice of what to change (extend, a new end, ...).
        label=gettext_lazy("Change"),
        choices=[
            (MODE_DAYS, gettext_lazy("Extend by a number of days")),
            (MODE_UNTIL, gettext_lazy("Set a new end date and time")),
            (MODE_INDEFINITE, gettext_lazy("Grant indefinite access")),
        ],
        initial=MODE_DAYS,
        widget=forms.RadioSelect,
    )
    days = forms.IntegerField(
        label=gettext_lazy("Days"),
        required=False,
        widget=forms.NumberInput(attrs={"min": 1, "step": 1, "style": "width: 6em"}),
        help_text=gettext_lazy(
            "Added to each enrollment's current end date (or to today: see below)."
        ),
    )
    from_today = forms.BooleanField(
        label=gettext_lazy("From today when access has ended"),
        required=False,
        help_text=gettext_lazy(
            "Count the days from the later of the current end and now, so a learner whose "
            "access has ended gets them from today."
        ),
    )
    until = WallClockDateTimeField(
        label=gettext_lazy("New end"),
        required=False,
        help_text=gettext_lazy("Read in the time zone below."),
    )
    time_zone = forms.ChoiceField(
        label=gettext_lazy("Time zone of the new end"),
        choices=time_zone_choices,
        widget=TimeZoneSelect,
        initial="UTC",
        help_text=TYPED_ZONE_HELP,
    )

    def clean(self) -> dict:
        data = super().clean()
        mode = data.get("mode")
        if mode == self.MODE_DAYS and data.get("days") is None and "days" not in self.errors:
            self.add_error("days", _("Enter the number of days to add."))
        if mode == self.MODE_UNTIL and data.get("until") is None and "until" not in self.errors:
            self.add_error("until", _("Enter the new end date and time."))
        if mode == self.MODE_UNTIL and data.get("until") and data.get("time_zone"):
            try:
                data["until_utc"] = localize_wall_time(
                    data["until"], zoneinfo.ZoneInfo(data["time_zone"])
                )
            except ValidationError as error:
                self.add_error("until", error)
        return data

    def rule_error_field(self) -> str | None:
        """The field a rule error of the operation belongs to (days <= 0, an end in the past):
        the chosen mode's, so that the error is shown, and announced, at that field."""
        return {self.MODE_DAYS: "days", self.MODE_UNTIL: "until"}.get(self.cleaned_data.get("mode"))

    def operation(self) -> Extend:
        """Only on a valid form. Fields of the modes not chosen are ignored, so the operation's
        precedence never has to break a tie."""
        data = self.cleaned_data
        mode = data["mode"]
        return Extend(
            days=data["days"] if mode == self.MODE_DAYS else None,
            until=data["until_utc"] if mode == self.MODE_UNTIL else None,
            indefinite=mode == self.MODE_INDEFINITE,
            from_today=mode == self.MODE_DAYS and bool(data.get("from_today")),
        )


class ExpireAccessForm(OperationForm):
    """ "End access / set end": a new end (empty: now) in the staff member's zone, or "shorten
    by N days" (issue 26: correcting an over-extension without arithmetic by hand). The rules
    (after 2020, before 2038, earlier than the current end; for shortening: 1 to 36,500 days,
    not before the start) are the core's operations' (Expire, Shorten)."""

    MODE_END = "end"
    MODE_SHORTEN = "shorten"

    #: Not `mode` (the Extend form's): a request meant for one page is never read as the other's.
    end_mode = forms.ChoiceField(
        label=gettext_lazy("Change"),
        choices=[
            (MODE_END, gettext_lazy("Set a new end (empty: end access now)")),
            (MODE_SHORTEN, gettext_lazy("Shorten by a number of days")),
        ],
        initial=MODE_END,
        required=False,  # a form posted without it (before it existed) sets the end
        widget=forms.RadioSelect,
    )
    at = WallClockDateTimeField(
        label=gettext_lazy("New end"),
        required=False,
        help_text=gettext_lazy(
            "Empty: access ends now. Otherwise the end each enrollment should have, earlier than "
            "its current end (it may still be in the future). In the time zone below."
        ),
    )
    days = forms.IntegerField(
        label=gettext_lazy("Days"),
        required=False,
        widget=forms.NumberInput(attrs={"min": 1, "step": 1, "style": "width: 6em"}),
        help_text=gettext_lazy(
            "Taken off each enrollment's current end: 300 undoes an extension by 300 days. The "
            "preview shows every new end."
        ),
    )
    time_zone = forms.ChoiceField(
        label=gettext_lazy("Time zone of the new end"),
        choices=time_zone_choices,
        widget=TimeZoneSelect,
        initial="UTC",
        help_text=TYPED_ZONE_HELP,
    )

    @property
    def shortening(self) -> bool:
        return self.cleaned_data.get("end_mode") == self.MODE_SHORTEN

    def clean(self) -> dict:
        data = super().clean()
        if self.shortening:
            if data.get("days") is None and "days" not in self.errors:
                self.add_error("days", _("Enter the number of days to take off."))
        elif data.get("at") and data.get("time_zone"):
            zone = zoneinfo.ZoneInfo(data["time_zone"])
            try:
                data["at_utc"] = localize_wall_time(data["at"], zone)
            except ValidationError as error:
                self.add_error("at", error)
        return data

    def rule_error_field(self) -> str:
        return "days" if self.shortening else "at"

    def operation(self) -> Expire | Shorten:
        if self.shortening:
            return Shorten(days=self.cleaned_data["days"])
        return Expire(at=self.cleaned_data.get("at_utc"))
