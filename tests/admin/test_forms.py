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
    params = form.params()
    assert (params.days, params.until, params.indefinite) == (None, None, True)
    form = ExtendAccessForm({"mode": "days", "days": "30", "until": "", "time_zone": "UTC"})
    assert form.is_valid(), form.errors
    assert form.params().operation() == Extend(days=30)


def test_a_date_alone_means_midnight_in_the_chosen_zone():
    form = ExtendAccessForm({"mode": "until", "until": "2026-07-01", "time_zone": "Europe/Berlin"})
    assert form.is_valid(), form.errors
    assert form.params().until == datetime(2026, 6, 30, 22, 0, tzinfo=UTC)
