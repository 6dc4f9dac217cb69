"""In a real browser: correcting an over-extension with "End access / set end" from the
enrollment's page, and "Extend from today" for a learner whose access has ended; axe-core on
every step of both; ending access by keyboard alone."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from enrollments.models import AccessChange, Enrollment
from tests.browser.conftest import assert_accessible, log_in_directly, staff_with
from tests.browser.helpers import log_in_by_keyboard, preview_and_confirm, tab_to
from tests.factories import CourseFactory, EnrollmentFactory, UserFactory

pytestmark = pytest.mark.browser

BERLIN = "Europe/Berlin"


@pytest.fixture
def staff(transactional_db):
    return staff_with(
        "view_enrollment",
        "change_enrollment",
        "extend_access",
        "expire_access",
        time_zone=BERLIN,
    )


def test_correcting_an_over_extension_with_an_earlier_end(page, staff, axe_script):
    over = EnrollmentFactory(
        user=UserFactory(email="over@example.com"),
        course=CourseFactory(title="Python Basics"),
        start_at=timezone.now() - timedelta(days=5),
        ended_at=datetime(2037, 1, 1, 12, 0, tzinfo=UTC),  # extended a year too far
    )
    log_in_directly(page, staff)
    page.goto(f"/admin/enrollments/enrollment/{over.pk}/change/")
    page.click("a.expire-access-link")
    page.wait_for_selector("#expire-access-form")
    assert "2037-01-01 13:00 CET" in page.inner_text(".selection-summary")
    assert page.input_value("#id_time_zone") == BERLIN
    assert_accessible(page, axe_script)

    page.fill("#id_at", "2036-03-01T12:00")
    page.fill("#id_reason", "Extended by 365 days instead of 65")
    page.click("input[name=_preview]")
    page.wait_for_selector("#preview-heading")
    assert "1 enrollment will get the new end" in page.inner_text(".counts")
    row = page.locator(f"table.preview-changed tr[data-enrollment='{over.pk}']")
    assert row.locator("td.current-end").inner_text() == "2037-01-01 13:00 CET"
    assert row.locator("td.new-end").inner_text() == "2036-03-01 12:00 CET"
    assert_accessible(page, axe_script)

    page.click("input[name=_confirm]")
    page.wait_for_selector(".messagelist .success")
    assert "Set the new end of access for this enrollment." in page.inner_text(".messagelist")
    assert "2036-03-01 12:00 CET" in page.inner_text(".field-ended_at_display")
    over.refresh_from_db()
    assert over.ended_at == datetime(2036, 3, 1, 11, 0, tzinfo=UTC)
    audit = AccessChange.objects.get(enrollment=over)
    assert (audit.action, audit.source, audit.reason) == (
        "expire",
        "admin",
        "Extended by 365 days instead of 65",
    )

    page.goto(f"/admin/enrollments/enrollment/{over.pk}/expire-access/")
    page.fill("#id_at", "2019-05-01T00:00")  # a rule of the operation: shown at the field
    page.click("input[name=_preview]")
    page.wait_for_selector("#form-errors")
    assert page.locator("#id_at_error").count() == 1
    assert_accessible(page, axe_script)


def test_extend_from_today_for_an_expired_learner(page, staff, axe_script):
    now = timezone.now()
    lapsed = EnrollmentFactory(
        user=UserFactory(email="lapsed@example.com"),
        course=CourseFactory(title="Data Basics"),
        start_at=now - timedelta(days=200),
        ended_at=now - timedelta(days=20),
    )
    log_in_directly(page, staff)
    page.goto("/admin/enrollments/enrollment/?q=lapsed%40example.com")
    page.check(f"input.action-select[value='{lapsed.pk}']")
    page.select_option("select[name=action]", "extend_access")
    page.click("button[name=index]")
    page.wait_for_selector("#extend-access-form")
    page.check("input[name=mode][value=days]")
    page.fill("#id_days", "30")
    page.check("#id_from_today")
    assert_accessible(page, axe_script)
    page.click("input[name=_preview]")
    page.wait_for_selector("#preview-heading")

    row = page.locator(f"table.preview-changed tr[data-enrollment='{lapsed.pk}']")
    # 30 days from today, not from the end 20 days ago (which would still be expired).
    in_30_days = (timezone.now() + timedelta(days=30)).astimezone(ZoneInfo(BERLIN))
    assert row.locator("td.new-end").inner_text().startswith(in_30_days.strftime("%Y-%m-%d"))
    assert_accessible(page, axe_script)

    page.click("input[name=_confirm]")
    page.wait_for_selector(".messagelist .success")
    assert "Extended access for 1 enrollment." in page.inner_text(".messagelist")
    stored = Enrollment.objects.get(pk=lapsed.pk).ended_at
    assert abs(stored - (timezone.now() + timedelta(days=30))) < timedelta(minutes=5)


def test_ending_access_now_by_keyboard_alone(page, staff):
    """From the enrollment's page: Tab to "End access / set end", Enter; the new end left
    empty (now); Preview by Enter, the focus on the preview; Confirm by Enter."""
    target = EnrollmentFactory(
        user=UserFactory(email="keys@example.com"),
        course=CourseFactory(title="Keyboard Course"),
        start_at=timezone.now() - timedelta(days=5),
        ended_at=timezone.now() + timedelta(days=30),
    )
    log_in_by_keyboard(page, staff)
    page.goto(f"/admin/enrollments/enrollment/{target.pk}/change/")
    tab_to(page, "a.expire-access-link")
    page.keyboard.press("Enter")
    page.wait_for_selector("#expire-access-form")
    preview_and_confirm(page)  # the focus lands on the preview, then Confirm
    target.refresh_from_db()
    assert abs(target.ended_at - timezone.now()) < timedelta(minutes=5)
    assert AccessChange.objects.get(enrollment=target).action == "expire"
