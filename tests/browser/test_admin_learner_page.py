"""The learner page in Chromium (issue 26 item 5): a support member of staff opens a learner's
user page, reads each enrollment's state, progress and end in Europe/Berlin, follows an action
to its preview page, and axe-core finds no violation on the page. The audit trail's date range
and whole batch ids too. The screenshot in
docs/admin.md comes from here at 1366 px (`UPDATE_SCREENSHOTS=1`)."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Permission

from tests.browser.conftest import (
    SUPPORT_PERMISSIONS,
    assert_accessible,
    log_in_directly,
    staff_with,
)
from tests.browser.helpers import save_screenshot
from tests.factories import (
    AccessChangeFactory,
    CourseFactory,
    CourseItemFactory,
    EnrollmentFactory,
    ItemCompletionFactory,
    UserFactory,
)

pytestmark = pytest.mark.browser

BATCH = uuid.UUID("5b0c6a43-4a7e-4d8a-9a44-0c3f1d2e7a10")


@pytest.fixture
def learner(transactional_db):
    """A learner in four courses: active with progress, paused, expired and removed."""
    now = datetime.now(UTC)
    learner = UserFactory(email="lena.learner@example.com", first_name="Lena", last_name="Lernt")
    python = CourseFactory(title="Python Basics for Data Analysts")
    items = [CourseItemFactory(course=python) for _ in range(4)]
    active = EnrollmentFactory(
        user=learner,
        course=python,
        start_at=now - timedelta(days=20),
        ended_at=datetime(2036, 3, 1, 12, 0, tzinfo=UTC),
    )
    for item in items[:3]:
        ItemCompletionFactory(enrollment=active, item=item)
    EnrollmentFactory(
        user=learner,
        course=CourseFactory(title="SQL for Everyone"),
        start_at=now - timedelta(days=10),
        ended_at=now + timedelta(days=40),
        is_paused=True,
        paused_at=now - timedelta(days=2),
    )
    EnrollmentFactory(
        user=learner,
        course=CourseFactory(title="Statistics Refresher"),
        start_at=now - timedelta(days=100),
        ended_at=now - timedelta(days=10),
    )
    EnrollmentFactory(
        user=learner,
        course=CourseFactory(title="Web Scraping"),
        start_at=now - timedelta(days=50),
        ended_at=now + timedelta(days=10),
        removed_at=now - timedelta(days=5),
    )
    return learner


def test_the_learner_page_at_1366_px_reads_and_acts_with_no_axe_violation(
    page, learner, axe_script, tmp_path
):
    staff = staff_with(*SUPPORT_PERMISSIONS, "enroll_learners", time_zone="Europe/Berlin")
    staff.user_permissions.add(Permission.objects.get(codename="view_user"))
    page.set_viewport_size({"width": 1366, "height": 768})
    log_in_directly(page, staff)
    page.goto(f"/admin/lms/user/{learner.pk}/change/")

    section = page.locator("section.learner-enrollments")
    assert "Dates in your time zone, Europe/Berlin" in section.inner_text()
    rows = section.locator("tbody tr")
    assert rows.count() == 4
    python = rows.filter(has_text="Python Basics")
    assert "Active" in python.inner_text() and "75% (3/4)" in python.inner_text()
    assert "2036-03-01\n13:00 CET" in python.locator("td.field-end").inner_text()
    assert "Paused" in rows.filter(has_text="SQL for Everyone").inner_text()
    assert "Expired" in rows.filter(has_text="Statistics").inner_text()
    removed = rows.filter(has_text="Web Scraping")
    assert "Removed from course" in removed.inner_text()
    assert removed.locator("a.restore-link").count() == 1
    assert removed.locator("a.extend-access-link, a.pause-link").count() == 0
    assert rows.filter(has_text="SQL for Everyone").locator("a.resume-link").count() == 1
    # Nothing is sideways off screen at 1366 px.
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366

    assert_accessible(page, axe_script)
    section.scroll_into_view_if_needed()
    save_screenshot(page, "admin-learner-page-1366.png", tmp_path, full_page=False)

    # An action leads to its preview page for that enrollment; nothing changed yet.
    python.locator("a.extend-access-link").click()
    page.wait_for_url(lambda url: "/enrollments/enrollment/" in url)
    assert "Extend access" in page.inner_text("h1")
    assert "lena.learner@example.com" in page.content()


def test_the_audit_trails_date_range_in_chromium_with_no_axe_violation(page, learner, axe_script):
    """The trail's date inputs typed and sent (days in Europe/Berlin), then a bad date from a
    link: the message and the filter's own note, and axe-core finds nothing on either page."""
    changes = [
        AccessChangeFactory(
            enrollment=enrollment,
            actor=None,
            batch_id=BATCH,
            created_at=datetime(2026, 1, day, 23, 30, tzinfo=UTC),  # the next day in Berlin
        )
        for day, enrollment in zip(
            (1, 5), learner.enrollments.order_by("course__title")[:2], strict=True
        )
    ]
    staff = staff_with(*SUPPORT_PERMISSIONS, time_zone="Europe/Berlin")
    log_in_directly(page, staff)
    page.goto("/admin/enrollments/accesschange/")
    assert "Days in Europe/Berlin, both included." in page.inner_text("#changelist-filter")
    page.fill("#id_created_from", "2026-01-02")
    page.fill("#id_created_to", "2026-01-02")
    page.click(".date-range-filter input[type=submit]")
    page.wait_for_url("**created_from=2026-01-02**")
    assert page.locator("#result_list tbody tr").count() == 1
    assert changes[0].enrollment.course.title in page.inner_text("#result_list")
    # The batch id whole, one click selecting all of it.
    page.click("code.batch-id >> nth=0")
    assert page.evaluate("window.getSelection().toString()") == str(BATCH)
    assert_accessible(page, axe_script)

    page.goto("/admin/enrollments/accesschange/?created_from=2026-02-30")
    assert "From date “2026-02-30” is not a date" in page.inner_text("ul.messagelist")
    assert page.locator(".date-range-errors li").count() == 1
    assert page.locator("#result_list tbody tr").count() == 2
    assert_accessible(page, axe_script)
