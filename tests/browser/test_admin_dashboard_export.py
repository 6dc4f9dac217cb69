"""The admin's export and dashboard in Chromium (issue 26 item 4): the enrollment list's
"Export CSV", filtered by course, downloaded and parsed (exactly the list's rows, dates in the
staff member's zone); the home page's dashboard, whose number opens the list with that many
rows, and axe-core finds no violation on it."""

import csv
import io
import zoneinfo
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.browser.conftest import assert_accessible, log_in_directly
from tests.browser.helpers import save_screenshot
from tests.factories import CourseFactory, EnrollmentFactory, UserFactory

pytestmark = [pytest.mark.browser]


@pytest.fixture
def courses(transactional_db):
    now = timezone.now()
    python = CourseFactory(title="Python Basics", slug="python-basics")
    sql = CourseFactory(title="SQL for Everyone", slug="sql-for-everyone")
    started = now - timedelta(days=20)
    rows = {
        "python": [
            EnrollmentFactory(
                course=python,
                user=UserFactory(email=f"py{n}@example.com"),
                start_at=started,
                ended_at=now + timedelta(days=days),
            )
            for n, days in enumerate((2, 5, 12, 40))
        ],
        "sql": [
            EnrollmentFactory(course=sql, start_at=started, ended_at=now + timedelta(days=days))
            for days in (3, 9, -2)
        ],
    }
    data = CourseFactory(title="Data Analysis with Pandas", slug="pandas")
    for n in range(24):  # spread over the weeks to come: the chart of the screenshot
        ended = now + timedelta(days=(n * 37) % 80 + 1, hours=n)
        EnrollmentFactory(course=data, start_at=started, ended_at=ended)
    return python, sql, rows


def test_export_downloads_the_filtered_list(page, support_staff, courses):
    python, _sql, rows = courses
    log_in_directly(page, support_staff)
    page.goto(f"/admin/enrollments/enrollment/?course__id__exact={python.pk}")
    with page.expect_download() as info:
        page.click("a.export-link")
    download = info.value
    assert download.suggested_filename.startswith("enrollments-")
    text = download.path().read_text(encoding="utf-8-sig")
    exported = list(csv.DictReader(io.StringIO(text)))
    assert sorted(row["learner e-mail"] for row in exported) == [
        f"py{n}@example.com" for n in range(4)
    ]
    assert {row["enrollment id"] for row in exported} == {str(e.pk) for e in rows["python"]}
    first = rows["python"][0]
    (row,) = [row for row in exported if row["enrollment id"] == str(first.pk)]
    berlin = first.ended_at.astimezone(zoneinfo.ZoneInfo("Europe/Berlin"))
    assert row["end (Europe/Berlin; empty: indefinite)"] == berlin.isoformat(timespec="seconds")


def test_dashboard_numbers_open_the_list_with_as_many_rows_and_pass_axe(
    page, support_staff, courses, axe_script, tmp_path
):
    log_in_directly(page, support_staff)
    page.goto("/admin/")
    table = page.locator(".dashboard-counts table")
    python_row = table.locator("tbody tr", has_text="Python Basics")
    # Active, paused, ending within 7 / 30 days, ended in the last 7 days.
    assert python_row.locator("td").all_inner_texts() == ["4", "0", "2", "3", "0"]
    sql_row = table.locator("tbody tr", has_text="SQL for Everyone")
    assert sql_row.locator("td").all_inner_texts() == ["2", "0", "1", "2", "1"]
    assert page.locator(".ends-table tbody tr").count() == 12
    assert_accessible(page, axe_script)
    page.set_viewport_size({"width": 1366, "height": 900})
    save_screenshot(page, "admin-dashboard-1366.png", tmp_path)

    python_row.locator("td").nth(2).locator("a").click()
    page.wait_for_selector("#result_list")
    assert page.locator("#result_list tbody tr").count() == 2
    assert "2 enrollments" in page.locator(".paginator").inner_text()
