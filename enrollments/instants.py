"""Instants typed as text by a person (a command's option or CSV cell, a line pasted into the
admin's "Enroll learners…" page), read the same way at every door that takes them.

The API takes its instants as its contract's scalars (graphql/scalars.py), and the admin's
date fields are read in the staff member's zone (admin/forms.py); this is for the doors where
an operator writes an ISO 8601 date or datetime: the commands, and the enroll page's lines that
carry an offset (a line's end without one is read in the staff member's zone, as the page's
fields are: admin/enrolling.py `read_line_end`).
"""

from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def parse_instant(text: str) -> datetime:
    """An ISO 8601 date or datetime as an aware UTC datetime.

    A date alone means midnight UTC; a datetime without an offset is read as UTC (the service
    runs in UTC, and cron lines should not depend on the shell's time zone). Raises ValueError.
    """
    value = datetime.fromisoformat(text.strip())
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:  # e.g. 9999-12-31T23:59-01:00 is in year 10000 in UTC
        raise ValueError(f"{text!r} is out of range") from None


def zone_of(name: str | None) -> ZoneInfo:
    """The zone a stored IANA name (`User.time_zone`) names; UTC when it is empty or no zone the
    installed database knows (a name stored long ago), so a reader is never left without one."""
    try:
        return ZoneInfo(name) if name else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def in_zone(instant: datetime, zone: tzinfo) -> datetime:
    """`instant` on `zone`'s wall clock; in UTC when that wall clock would be outside the
    calendar `datetime` holds (years 1 to 9999).

    A stored instant can lie within hours of the calendar's ends (a start typed as 9999-12-31
    12:00 UTC), where a zone east or west of UTC names a day in year 10000 or year 0:
    `astimezone` raises OverflowError there, and a page listing that one row answered 500 for
    every staff member in such a zone. Shown in UTC instead (its offset and abbreviation say
    so), the instant stays exact and the page stays up. Every place that turns a stored instant
    into a staff member's or learner's zone goes through here."""
    try:
        return instant.astimezone(zone)
    except OverflowError:
        return instant.astimezone(UTC)


def instant_text(instant: datetime, zone: tzinfo) -> str:
    """`2026-02-10 14:00 CET`: `instant` in `zone`, always with the zone's abbreviation, so no
    date a person reads is ambiguous. The one way the service writes an instant for people (the
    admin's `display.format_instant` and `instant_cell`, the learners' e-mails). Never raises:
    an instant the zone cannot show (`in_zone`) is written in UTC, named as such."""
    local = in_zone(instant, zone)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"
