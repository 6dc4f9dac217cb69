"""The extend form's time handling: wall times in a chosen zone, daylight-saving edges."""

import zoneinfo
from datetime import UTC, datetime

import pytest
from django.core.exceptions import ValidationError

from enrollments.admin.forms import ExtendAccessForm, localize_wall_time
from enrollments.operations import Extend

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")


def test_an_ordinary_wall_time_becomes_its_utc_instant():
    assert localize_wall_time(datetime(2026, 7, 1, 12, 0), BERLIN) == datetime(
        2026, 7, 1, 10, 0, tzinfo=UTC
    )


def test_a_repeated_wall_time_means_its_first_occurrence():
    # 2026-10-25 02:30 happens twice in Berlin (clocks go back at 03:00 CEST).
    assert localize_wall_time(datetime(2026, 10, 25, 2, 30), BERLIN) == datetime(
        2026, 10, 25, 0, 30, tzinfo=UTC
    )


def test_a_skipped_wall_time_is_refused():
    with pytest.raises(ValidationError, match="does not exist in Europe/Berlin"):
        localize_wall_time(datetime(2026, 3, 29, 2, 30), BERLIN)


def test_only_the_chosen_mode_reaches_the_operation():
    form = ExtendAccessForm(
        {"mode": "indefinite", "days": "30", "until": "2026-03-01T09:30", "time_zone": "UTC"}
    )
    assert form.is_valid(), form.errors
    operation = form.operation()
    assert (operation.days, operation.until, operation.indefinite) == (None, None, True)
    form = ExtendAccessForm({"mode": "days", "days": "30", "until": "", "time_zone": "UTC"})
    assert form.is_valid(), form.errors
    assert form.operation() == Extend(days=30)


def test_a_date_alone_means_midnight_in_the_chosen_zone():
    form = ExtendAccessForm({"mode": "until", "until": "2026-07-01", "time_zone": "Europe/Berlin"})
    assert form.is_valid(), form.errors
    assert form.operation().until == datetime(2026, 6, 30, 22, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("wall", "zone"),
    [
        # West of UTC, the last hours of year 9999 are in year 10000 in UTC.
        ("9999-12-31T23:59", "America/New_York"),
        ("9999-12-31T20:00", "America/Los_Angeles"),
        ("9999-12-31T13:00", "Pacific/Pago_Pago"),  # UTC-11, the farthest west the picker lists
        # East of UTC, the first hours of year 1 are in year 0.
        ("0001-01-01T00:00", "Asia/Tokyo"),
        ("0001-01-01", "Europe/Berlin"),  # local mean time then, +00:53
    ],
)
def test_a_wall_time_beyond_the_calendar_in_utc_is_a_form_error(wall, zone):
    form = ExtendAccessForm({"mode": "until", "until": wall, "time_zone": zone})
    assert not form.is_valid()
    assert form.errors["until"] == [
        f"{wall.replace('T', ' ')[:16]}{' 00:00' if len(wall) == 10 else ''} in {zone} is "
        "outside the range of dates that can be stored."
    ]


@pytest.mark.parametrize(
    ("wall", "zone", "instant"),
    [
        ("9999-12-31T23:59", "UTC", datetime(9999, 12, 31, 23, 59, tzinfo=UTC)),
        ("9999-12-31T23:59", "Pacific/Kiritimati", datetime(9999, 12, 31, 9, 59, tzinfo=UTC)),
        # New York's local mean time then: -04:56:02.
        ("0001-01-01T00:00", "America/New_York", datetime(1, 1, 1, 4, 56, 2, tzinfo=UTC)),
    ],
)
def test_the_calendars_ends_that_fit_in_utc_are_converted(wall, zone, instant):
    """They are valid form input; the core then refuses them (before now, past 2038)."""
    form = ExtendAccessForm({"mode": "until", "until": wall, "time_zone": zone})
    assert form.is_valid(), form.errors
    assert form.operation().until == instant
