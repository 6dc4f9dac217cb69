"""Enter in a field of a preview/confirm page: HTML's implicit submission, which sends the form
with its first submit button, and sends nothing when that button is disabled.

While Confirm is disabled (the preview changes nothing: every row skipped) Enter updates the
preview. It used to do nothing at all: the disabled Confirm came first in the form, so a staff
member who fixed a field and pressed Enter kept the stale preview beside the new value (the
demo's walkthrough, docs/admin.md "Set up an instructor", step 5: 45 days skipped over the
course's 30, then 14 + Enter). While Confirm is enabled, Enter confirms as before: a request
changed since the preview gets the new preview with "You changed the request after the
preview" (confirming.INPUT_CHANGED), an unchanged one is applied. Confirm stays first on screen
either way, and the page has no axe violations."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from enrollments.models import AccessChange
from tests.browser.conftest import assert_accessible, log_in_directly
from tests.browser.helpers import ENROLLMENTS, enrollment
from tests.factories import CourseFactory, CourseRoleFactory, EnrollmentFactory, StaffFactory

pytestmark = pytest.mark.browser

END = datetime(2036, 3, 1, 12, tzinfo=UTC)


def press_enter_in(page, selector: str, what: str) -> None:
    """Focuses the field and presses Enter; fails unless the page is sent."""
    page.focus(selector)
    try:
        with page.expect_navigation(timeout=5_000):
            page.keyboard.press("Enter")
    except PlaywrightTimeout:
        pytest.fail(f"Enter in {selector} sent nothing: {what}")


def left_of(page, first: str, second: str) -> bool:
    return page.locator(first).bounding_box()["x"] < page.locator(second).bounding_box()["x"]


def preview_days(page, days: int) -> None:
    page.check("#id_mode_0")
    page.fill("#id_days", str(days))
    page.click("input[name=_preview]")
    page.wait_for_selector("#preview-heading")


def test_enter_in_a_field_updates_the_preview_when_confirm_is_disabled(
    page, transactional_db, axe_script
):
    course = CourseFactory(title="Python Basics", staff_max_extension_days=30)
    instructor = StaffFactory(email="instructor@example.com", time_zone="Europe/Berlin")
    CourseRoleFactory(user=instructor, course=course)
    bob = EnrollmentFactory(
        user__email="bob@example.com",
        course=course,
        start_at=timezone.now() - timedelta(days=5),
        ended_at=END,
    )
    log_in_directly(page, instructor)
    page.goto(f"{ENROLLMENTS}{bob.pk}/extend-access/")
    preview_days(page, 45)
    assert "at most 30 days" in page.inner_text(".preview")
    assert page.is_disabled("input[name=_confirm]"), "every row skipped: Confirm is disabled"
    assert left_of(page, "input[name=_confirm]", "input[name=_preview]"), "Confirm shown first"
    assert_accessible(page, axe_script)

    page.fill("#id_days", "14")
    press_enter_in(
        page,
        "#id_days",
        "the form's default button is the disabled Confirm: the page still shows the 45-day "
        "preview, bob skipped, beside 14 days",
    )
    assert "1 enrollment will be extended" in page.inner_text(".preview")
    assert page.is_enabled("input[name=_confirm]")
    assert left_of(page, "input[name=_confirm]", "input[name=_preview]")
    bob.refresh_from_db()
    assert bob.ended_at == END, "nothing applied by Enter"
    assert not AccessChange.objects.exists()


def test_enter_in_a_field_still_confirms_when_confirm_is_enabled(page, support_staff):
    """Enter after changing the days: the new preview with "You changed the request", nothing
    applied; Enter again on that preview: applied."""
    target = enrollment("learner12@example.com", ended_at=END)
    log_in_directly(page, support_staff)
    page.goto(f"{ENROLLMENTS}{target.pk}/extend-access/")
    preview_days(page, 30)
    assert page.is_enabled("input[name=_confirm]")

    page.fill("#id_days", "31")
    press_enter_in(page, "#id_days", "Confirm is enabled and first")
    assert "You changed the request after the preview" in page.inner_text(".changed-notice")
    target.refresh_from_db()
    assert target.ended_at == END

    press_enter_in(page, "#id_days", "Confirm is enabled and first")
    page.wait_for_selector(".messagelist .success")
    target.refresh_from_db()
    assert target.ended_at == END + timedelta(days=31)
