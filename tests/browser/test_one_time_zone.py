"""One time zone in Chromium (issue 26): a staff member in Europe/Berlin (the browser's zone too)
previews "Extend access…" and confirms it; the preview (both ends, the 2038 limit's skip) and the
result page (the list, its messages) show Berlin times with the zone named and no UTC anywhere in
their content, and confirming leaves the staff member's zone as it was."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from tests.browser.conftest import log_in_directly, staff_with
from tests.browser.helpers import ENROLLMENTS, choose_action, fill_days_and_preview
from tests.factories import CourseFactory, EnrollmentFactory, UserFactory

pytestmark = pytest.mark.browser

BERLIN = "Europe/Berlin"


def test_a_preview_and_its_result_in_berlin_with_no_utc(page):
    staff = staff_with("view_enrollment", "change_enrollment", "extend_access", time_zone=BERLIN)
    course = CourseFactory(title="Python Basics")
    start = timezone.now() - timedelta(days=5)
    near, far = (
        EnrollmentFactory(
            user=UserFactory(email=email), course=course, start_at=start, ended_at=ended_at
        )
        for email, ended_at in (
            ("near@example.com", datetime(2036, 3, 1, 12, tzinfo=UTC)),
            ("far@example.com", datetime(2037, 12, 1, 12, tzinfo=UTC)),  # +60 days: past 2038
        )
    )
    log_in_directly(page, staff)
    page.goto(ENROLLMENTS)
    for enrollment in (near, far):
        page.check(f"input.action-select[value='{enrollment.pk}']")
    choose_action(page, "extend_access")
    assert page.input_value("#id_time_zone") == BERLIN

    fill_days_and_preview(page, 60)
    preview = page.inner_text("#content")
    preview = preview[preview.index("will be extended") :]
    changed = page.locator(f"table.preview-changed tr[data-enrollment='{near.pk}']")
    assert changed.locator("td.current-end").inner_text() == "2036-03-01 13:00 CET"
    assert changed.locator("td.new-end").inner_text() == "2036-04-30 14:00 CEST"
    assert "the extension ends after 2038-01-19 04:14 CET" in preview
    assert "Dates in Europe/Berlin." in preview
    assert "UTC" not in preview.split("Reason", 1)[0]

    page.click("input[name=_confirm]")
    page.wait_for_selector(".messagelist .success")
    result = page.inner_text("#content") + page.inner_text(".messagelist")
    assert "Extended access for 1 enrollment." in result
    assert "the extension ends after 2038-01-19 04:14 CET" in result
    assert "2036-04-30" in result and "14:00 CEST" in result  # the list's new end
    assert "UTC" not in result
    assert not re.search(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}", result), "no ISO instant left"
    assert "Time zone: Europe/Berlin" in " ".join(page.text_content("#user-tools").split())
    staff.refresh_from_db()
    assert staff.time_zone == BERLIN
