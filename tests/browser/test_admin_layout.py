"""The admin at 1366 px, the most common laptop width: every column of the enrollment list,
the audit list and an enrollment's history is on screen, and every date is in the staff
member's time zone, with the zone's abbreviation. The screenshots in docs/ come from here
(`UPDATE_SCREENSHOTS=1`)."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from enrollments.models import AccessChange, Enrollment
from lms.models import User
from tests.browser.conftest import SUPPORT_PERMISSIONS, log_in_directly, staff_with
from tests.browser.helpers import save_screenshot
from tests.factories import AccessChangeFactory, CourseFactory

pytestmark = pytest.mark.browser

WIDTH = 1366


@pytest.fixture
def staff(transactional_db):
    return staff_with(
        *SUPPORT_PERMISSIONS,
        email="support@example.com",
        first_name="Sam",
        last_name="Support",
        time_zone="Europe/Berlin",
    )


@pytest.fixture
def trail(staff):
    """Twelve learners in two courses (long names included) and a trail of changes through
    every door, with reasons and a batch."""
    python = CourseFactory(title="Python Basics for Data Analysts", slug="python-basics")
    sql = CourseFactory(title="SQL for Everyone", slug="sql-for-everyone")
    now = timezone.now()
    batch = uuid.uuid4()
    enrollments = []
    for n in range(1, 13):
        user = User.objects.create_user(
            email=f"learner{n}.with-a-long-address@university.example.edu",
            first_name="Learner",
            last_name=f"Number {n}",
        )
        enrollments.append(
            Enrollment.objects.create(
                user=user,
                course=python if n % 2 else sql,
                start_at=now - timedelta(days=30),
                ended_at=datetime(2036, 3, 1, 12, 0, tzinfo=UTC) + timedelta(days=n),
            )
        )
    doors = [
        (AccessChange.Source.ADMIN, staff, "Goodwill after the March outage (ticket 4711)"),
        (AccessChange.Source.GRAPHQL, None, "Bought the extension in the shop"),
        (AccessChange.Source.COMMAND, None, "Term extension for the spring cohort"),
    ]
    for n, enrollment in enumerate(enrollments):
        source, actor, reason = doors[n % 3]
        AccessChangeFactory(
            enrollment=enrollment,
            action=AccessChange.Action.EXTEND,
            old_ended_at=enrollment.ended_at - timedelta(days=30),
            new_ended_at=enrollment.ended_at,
            source=source,
            actor=actor,
            reason=reason,
            batch_id=batch if source == AccessChange.Source.ADMIN else None,
        )
    return enrollments


@pytest.fixture
def wide_page(page):
    page.set_viewport_size({"width": WIDTH, "height": 768})
    return page


def assert_columns_on_screen(page, table: str, headers: list[str]) -> None:
    """Each named column header is rendered and ends within the viewport's width."""
    shown = page.evaluate(
        """table => Array.from(document.querySelectorAll(table + ' thead th')).map(th => [
            th.innerText.trim().toLowerCase(), th.getBoundingClientRect().right])""",
        table,
    )
    rights = dict(shown)
    for header in headers:
        assert header in rights, f"no column {header!r} in {table}: {shown}"
        assert rights[header] <= WIDTH, f"column {header!r} ends at {rights[header]} px"
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH
    # Nor is a column hidden inside a region that scrolls sideways (the list's own box).
    hidden = page.evaluate(
        """table => {
            const box = document.querySelector(table).closest('.results, .table-scroll');
            return box ? box.scrollWidth - box.clientWidth : 0;
        }""",
        table,
    )
    assert hidden <= 1, f"{hidden} px of {table} are scrolled out of sight"


def test_enrollment_list_at_1366_px(wide_page, staff, trail, tmp_path):
    page = wide_page
    log_in_directly(page, staff)
    page.goto("/admin/enrollments/enrollment/")
    assert page.inner_text(".time-zone-link") == "TIME ZONE: EUROPE/BERLIN"  # (upper-case CSS)
    assert_columns_on_screen(
        page,
        "#result_list",
        ["student", "course", "start", "end", "access", "progress", "course status"],
    )
    ends = page.locator("#result_list td.field-end").all_inner_texts()
    assert ends and all("CET" in end for end in ends), ends  # 2036-03: winter time in Berlin
    assert "2036-03-02\n13:00 CET" in ends
    save_screenshot(page, "admin-enrollments-1366.png", tmp_path, full_page=False)


def test_audit_list_and_history_at_1366_px(wide_page, staff, trail, tmp_path):
    page = wide_page
    log_in_directly(page, staff)
    page.goto("/admin/enrollments/accesschange/")
    assert_columns_on_screen(
        page,
        "#result_list",
        ["when", "enrollment", "action", "old end", "new end", "actor", "source", "reason"]
        + ["batch"],
    )
    whens = page.locator("#result_list td.field-when, #result_list th.field-when")
    assert whens.count() == 12
    assert all(text.endswith(("CET", "CEST")) for text in whens.all_inner_texts()), (
        whens.all_inner_texts()
    )
    save_screenshot(page, "admin-access-changes-1366.png", tmp_path, full_page=False)

    first = trail[0]
    page.goto(f"/admin/enrollments/enrollment/{first.pk}/change/")
    assert_columns_on_screen(
        page,
        "#access_changes-group",
        ["when", "action", "old end", "new end", "actor", "source", "reason", "batch"],
    )
    assert "2036-03-02 13:00 CET" in page.inner_text(".field-ended_at_display")
    # "History" opens the whole access-change trail of this enrollment.
    page.click(".object-tools a.historylink")
    page.wait_for_url("**/accesschange/?enrollment__id__exact=*")
    assert page.locator("#result_list tbody tr").count() == 1
    assert first.user.email in page.inner_text("#content h2")
