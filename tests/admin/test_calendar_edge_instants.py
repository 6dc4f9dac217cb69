"""An instant stored within hours of the calendar's ends is shown to every staff member.

`datetime` holds years 1 to 9999. A start stored as 9999-12-31 12:00 UTC is in year 10000 on
Kiritimati's wall clock (UTC+14), one stored as 0001-01-01 02:00 UTC in year 0 in New York:
converting it raised OverflowError, and every page listing that row answered 500 for staff in
such a zone. The admin shows such an instant in UTC instead (`instants.in_zone`), named as UTC,
and the CSV export writes it with its +00:00 offset.
"""

import csv
import io
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from enrollments.instants import in_zone, instant_text
from tests.admin.conftest import grant, logged_in
from tests.factories import CourseFactory, EnrollmentFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

EDGES = [
    pytest.param(datetime(9999, 12, 31, 12, tzinfo=UTC), "Pacific/Kiritimati", id="last-day"),
    pytest.param(datetime(1, 1, 1, 2, tzinfo=UTC), "America/New_York", id="first-day"),
]


@pytest.mark.parametrize("instant,zone", EDGES)
def test_an_instant_the_zone_cannot_show_is_written_in_utc(instant, zone):
    text = instant_text(instant, ZoneInfo(zone))
    assert text == f"{instant:%Y-%m-%d %H:%M} UTC"
    assert in_zone(instant, ZoneInfo(zone)) == instant


def test_an_instant_the_zone_can_show_stays_in_that_zone():
    instant = datetime(2026, 2, 10, 13, tzinfo=UTC)
    assert instant_text(instant, ZoneInfo("Europe/Berlin")) == "2026-02-10 14:00 CET"
    # Near the end, but still inside the calendar on that wall clock: the zone's own time.
    assert instant_text(datetime(9999, 12, 31, 9, tzinfo=UTC), ZoneInfo("Pacific/Kiritimati")) == (
        "9999-12-31 23:00 +14"
    )


@pytest.mark.parametrize("instant,zone", EDGES)
def test_the_staff_pages_showing_it_answer_for_staff_in_any_zone(clock, instant, zone):
    learner = UserFactory(email="lea@example.com")
    enrollment = EnrollmentFactory(
        user=learner, course=CourseFactory(title="Open course"), start_at=instant, ended_at=None
    )
    staff = StaffFactory(time_zone=zone)
    grant(staff, "view_enrollment")
    staff.user_permissions.add(
        Permission.objects.get(content_type__app_label="lms", codename="view_user")
    )
    client = logged_in(staff)
    shown = f"{instant:%Y-%m-%d}"

    listed = client.get(reverse("admin:enrollments_enrollment_changelist"))
    assert listed.status_code == 200
    assert shown in listed.content.decode()

    page = client.get(reverse("admin:enrollments_enrollment_change", args=[enrollment.pk]))
    assert page.status_code == 200
    assert f"{instant:%Y-%m-%d %H:%M} UTC" in page.content.decode()

    learner_page = client.get(reverse("admin:lms_user_change", args=[learner.pk]))
    assert learner_page.status_code == 200
    assert shown in learner_page.content.decode()

    exported = client.get(reverse("admin:enrollments_enrollment_export"))
    assert exported.status_code == 200
    text = b"".join(exported.streaming_content).decode("utf-8").lstrip("\ufeff")
    (row,) = list(csv.reader(io.StringIO(text)))[1:]
    assert instant.isoformat(timespec="seconds") in row
