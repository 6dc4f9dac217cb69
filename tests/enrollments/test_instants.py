"""parse_instant: the one reading of an instant an operator types (commands, the admin's
"Enroll learners…" lines)."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from enrollments.instants import parse_instant


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-01", datetime(2026, 3, 1, tzinfo=UTC)),
        (" 2026-03-01T12:30:00 ", datetime(2026, 3, 1, 12, 30, tzinfo=UTC)),
        ("2026-03-01T12:30:00Z", datetime(2026, 3, 1, 12, 30, tzinfo=UTC)),
        ("2026-03-01T12:30:00+02:00", datetime(2026, 3, 1, 10, 30, tzinfo=UTC)),
    ],
)
def test_a_date_or_datetime_is_an_aware_utc_instant(text, expected):
    parsed = parse_instant(text)
    assert parsed == expected
    assert parsed.utcoffset() == timedelta(0)


def test_an_offset_is_converted_not_dropped():
    parsed = parse_instant("2026-03-01T00:00:00-05:00")
    assert parsed == datetime(2026, 3, 1, tzinfo=timezone(timedelta(hours=-5)))
    assert parsed.tzinfo is UTC


@pytest.mark.parametrize("text", ["", "tomorrow", "2026-02-30", "01/03/2026"])
def test_what_is_no_iso_date_is_a_value_error(text):
    with pytest.raises(ValueError):
        parse_instant(text)


def test_an_instant_beyond_the_calendar_in_utc_is_a_value_error_naming_it():
    with pytest.raises(ValueError, match=r"'9999-12-31T23:59-01:00' is out of range"):
        parse_instant("9999-12-31T23:59-01:00")
