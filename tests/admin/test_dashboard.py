"""The admin home's dashboard (enrollments/admin/dashboard.py): every count equals the
enrollment list's result count for the link it carries, within the staff member's courses;
the weekly chart in the staff member's zone; two SQL statements whatever the size; nothing for
staff who may not view enrollments."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from enrollments.admin.dashboard import COLUMNS, WEEKS, dashboard
from tests.admin.conftest import logged_in
from tests.factories import CourseFactory, CourseRoleFactory, EnrollmentFactory, StaffFactory

pytestmark = pytest.mark.django_db

HOME = reverse("admin:index")


@pytest.fixture
def courses(clock):
    """Two courses with a row for every column and every boundary the columns draw."""
    now = clock.current
    python = CourseFactory(title="Python Basics")
    sql = CourseFactory(title="SQL for Everyone")
    started = now - timedelta(days=30)
    for course in (python, sql):
        for days in (1, 6.9, 7, 7.1, 29, 30, 31, None):  # active, ending at various distances
            ended = now + timedelta(days=days) if days is not None else None
            EnrollmentFactory(course=course, start_at=started, ended_at=ended)
        for days in (0, 0.5, 6.9, 7, 7.1):  # ended (0: at this very instant)
            EnrollmentFactory(course=course, start_at=started, ended_at=now - timedelta(days=days))
    EnrollmentFactory(  # paused, ending within 7 days
        course=python,
        start_at=started,
        ended_at=now + timedelta(days=3),
        is_paused=True,
        paused_at=now - timedelta(days=1),
    )
    EnrollmentFactory(  # not started yet, ending within 30 days
        course=sql, start_at=now + timedelta(days=2), ended_at=now + timedelta(days=20)
    )
    for days in (3, -3):  # removed learners: in no column
        EnrollmentFactory(
            course=python, start_at=started, ended_at=now + timedelta(days=days), removed_at=now
        )
    CourseFactory(title="Empty course")  # nothing to show: left out
    return python, sql


def list_count(client, url: str) -> int:
    response = client.get(url)
    assert response.status_code == 200
    return response.context["cl"].result_count


def test_every_count_equals_the_lists_count_for_its_link(viewer_client, courses):
    home = viewer_client.get(HOME)
    board = home.context["dashboard"]
    assert [course.title for course in board["courses"]] == ["Python Basics", "SQL for Everyone"]
    python, sql = board["courses"]
    # Active, paused, ending within 7 / 30 days (the paused and the not started included),
    # ended in the last 7 days (an end exactly 7 days ago is not within them).
    assert [cell.count for cell in python.cells] == [8, 1, 4, 7, 3]
    assert [cell.count for cell in sql.cells] == [8, 0, 3, 7, 3]
    for course in board["courses"]:
        for cell in course.cells:
            assert list_count(viewer_client, cell.url) == cell.count, cell.url
    for column, cell in zip(COLUMNS, board["totals"], strict=True):
        assert cell.count == sum(
            course.cells[COLUMNS.index(column)].count for course in board["courses"]
        )
        assert list_count(viewer_client, cell.url) == cell.count, cell.url
    html = home.content.decode()
    assert f'<a href="{python.cells[2].url.replace("&", "&amp;")}">4</a>' in html
    assert "Empty course" not in html


def test_a_course_staff_member_sees_their_courses_numbers(courses, clock):
    python_course, _sql = courses
    client = logged_in(CourseRoleFactory(course=python_course).user)
    board = client.get(HOME).context["dashboard"]
    assert [course.title for course in board["courses"]] == ["Python Basics"]
    for course in board["courses"]:
        for cell in course.cells:
            assert list_count(client, cell.url) == cell.count, cell.url
    assert sum(week.count for week in board["weeks"]) == 8  # Python's 8 ends to come


def test_staff_who_may_not_view_enrollments_get_django_s_home(courses):
    home = logged_in(StaffFactory()).get(HOME)
    assert home.status_code == 200
    assert home.context["dashboard"] is None
    assert "enrollment-dashboard" not in home.content.decode()


def test_weeks_are_calendar_weeks_in_the_staff_members_zone(viewer, clock):
    # Thursday 2026-01-01 00:00 UTC. The week in Berlin runs Monday 29 Dec 00:00 CET
    # (28 Dec 23:00 UTC) to Monday 5 Jan 00:00 CET (4 Jan 23:00 UTC).
    course = CourseFactory()
    started = clock.current - timedelta(days=1)
    for ended in (
        datetime(2026, 1, 4, 22, 30, tzinfo=UTC),  # Sunday 23:30 in Berlin: this week
        datetime(2026, 1, 4, 23, 30, tzinfo=UTC),  # Monday 00:30 in Berlin: next week
        datetime(2026, 3, 22, 22, 59, tzinfo=UTC),  # Sunday 23:59 CET: week 12, the last
        datetime(2026, 3, 22, 23, 0, tzinfo=UTC),  # Monday 00:00: week 13, not shown
    ):
        EnrollmentFactory(course=course, start_at=started, ended_at=ended)
    viewer.time_zone = "Europe/Berlin"
    viewer.save(update_fields=["time_zone"])
    board = logged_in(viewer).get(HOME).context["dashboard"]
    weeks = board["weeks"]
    assert len(weeks) == WEEKS
    assert [(weeks[0].first.isoformat(), weeks[0].last.isoformat())] == [
        ("2025-12-29", "2026-01-04")
    ]
    assert [week.count for week in weeks] == [1, 1] + [0] * 9 + [1]
    assert board["zone"] == "Europe/Berlin"

    viewer.time_zone = "UTC"  # the same ends in UTC: both in the week of 29 Dec
    viewer.save(update_fields=["time_zone"])
    weeks = logged_in(viewer).get(HOME).context["dashboard"]["weeks"]
    assert [week.count for week in weeks][:2] == [2, 0]


def test_the_chart_is_an_svg_with_its_numbers_in_a_table(viewer_client, courses):
    html = viewer_client.get(HOME).content.decode()
    assert (
        '<svg class="ends-chart" viewBox="0 0 720 240" role="img" '
        'aria-labelledby="ends-chart-title"' in html
    )
    assert (
        '<title id="ends-chart-title">Access ends per week for the next 12 weeks: 16 in all' in html
    )
    assert html.count('<rect class="bar"') == 4  # four weeks with ends, the others 0
    assert '<table class="ends-table">' in html
    assert "<script" not in html.split('id="content"', 1)[1].split("</svg>", 1)[0]


def test_two_statements_whatever_the_size(viewer, clock, django_assert_num_queries):
    request = RequestFactory().get(HOME)
    request.user = viewer

    def statements() -> int:
        with CaptureQueriesContext(connection) as queries:
            dashboard(request)
        return len(queries)

    course = CourseFactory()
    EnrollmentFactory(course=course, ended_at=clock.current + timedelta(days=3))
    dashboard(request)  # the viewer's permissions, read once per request
    with django_assert_num_queries(2):  # GROUP BY course; GROUP BY week
        dashboard(request)
    for _ in range(5):
        other = CourseFactory()
        for days in (3, 20, 50):
            EnrollmentFactory(course=other, ended_at=clock.current + timedelta(days=days))
    assert statements() == 2
    assert len(dashboard(request)["courses"]) == 6
