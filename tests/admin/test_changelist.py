"""The enrollment changelist: columns, filters, search, and a constant number of queries."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from enrollments.admin.enrollment import EnrollmentAdmin
from tests.admin.helpers import changelist_url
from tests.factories import (
    CourseFactory,
    CourseItemFactory,
    EnrollmentFactory,
    ItemCompletionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def states(clock):
    """One enrollment per access state, with different progress, in two courses."""
    now = clock.current
    python = CourseFactory(title="Python Basics", slug="python-basics")
    sql = CourseFactory(title="SQL for Everyone", slug="sql-for-everyone")
    items = [CourseItemFactory(course=python, position=n) for n in (1, 2, 3, 4)]
    started = now - timedelta(days=10)
    rows = {
        "active": EnrollmentFactory(
            course=python,
            user=UserFactory(
                email="ada@analytical.example", first_name="Ada", last_name="Lovelace"
            ),
            start_at=started,
            ended_at=now + timedelta(days=5),
        ),
        "expired": EnrollmentFactory(
            course=python, start_at=started, ended_at=now - timedelta(days=1)
        ),
        "not_started": EnrollmentFactory(
            course=sql, start_at=now + timedelta(days=3), ended_at=now + timedelta(days=40)
        ),
        "paused": EnrollmentFactory(
            course=sql,
            start_at=started,
            ended_at=now + timedelta(days=20),
            is_paused=True,
            paused_at=now - timedelta(days=1),
        ),
        "indefinite": EnrollmentFactory(course=sql, start_at=started, ended_at=None),
    }
    ItemCompletionFactory(enrollment=rows["active"], item=items[0], completed_at=now)
    for item in items:
        ItemCompletionFactory(enrollment=rows["expired"], item=item, completed_at=now)
    return rows


def result_ids(response) -> set:
    return {e.pk for e in response.context["cl"].result_list}


def test_columns(operator_client, states):
    response = operator_client.get(changelist_url())
    html = response.content.decode()
    assert response.status_code == 200
    for header in (
        "Student",
        "Course",
        "Start",
        "End",
        "Access",
        "Progress",
        "Course status",
    ):
        assert header in html
    assert "ada@analytical.example" in html and "Ada Lovelace" in html
    assert "Indefinite" in html
    for badge in ("access-active", "access-expired", "access-not_started", "access-paused"):
        assert badge in html
    assert "25% (1/4)" in html
    assert "100% (4/4)" in html
    # The status cells (the filter sidebar names every status whatever the rows are).
    statuses = re.findall(r'<td class="field-course_status_display">(.*?)</td>', html)
    assert sorted(re.sub(r"<[^>]+>", "", cell) for cell in statuses) == [
        "Completed",
        "In progress",
        "Not started",
        "Not started",
        "Not started",
    ]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("access_state=active", {"active", "indefinite"}),
        ("access_state=expired", {"expired"}),
        ("access_state=not_started", {"not_started"}),
        ("access_state=paused", {"paused"}),
        ("course_status=completed", {"expired"}),
        ("course_status=in_progress", {"active"}),
        ("course_status=not_started", {"not_started", "paused", "indefinite"}),
        ("paused=yes", {"paused"}),
        ("paused=no", {"active", "expired", "not_started", "indefinite"}),
        ("ends_within=7", {"active"}),
        ("ends_within=30", {"active", "paused"}),
        ("q=analytical", {"active"}),
        ("q=lovelace", {"active"}),
        ("q=sql-for-everyone", {"not_started", "paused", "indefinite"}),
        ("q=python basics", {"active", "expired"}),
        ("access_state=bogus", {"active", "expired", "not_started", "paused", "indefinite"}),
    ],
)
def test_filters_and_search(operator_client, states, query, expected):
    response = operator_client.get(changelist_url(query))
    assert result_ids(response) == {states[name].pk for name in expected}


def test_course_filter_and_date_hierarchy(operator_client, states):
    python = states["active"].course
    response = operator_client.get(changelist_url(f"course__id__exact={python.pk}"))
    assert result_ids(response) == {states["active"].pk, states["expired"].pk}
    end = states["not_started"].ended_at
    response = operator_client.get(
        changelist_url(
            f"ended_at__year={end.year}&ended_at__month={end.month}&ended_at__day={end.day}"
        )
    )
    assert result_ids(response) == {states["not_started"].pk}


@pytest.fixture
def many_rows(clock):
    """120 enrollments in three courses of three items, half of them with progress."""
    courses = [CourseFactory() for _ in range(3)]
    for course in courses:
        for position in (1, 2, 3):
            CourseItemFactory(course=course, position=position)
    for n in range(120):
        enrollment = EnrollmentFactory(
            course=courses[n % 3], ended_at=clock.current + timedelta(days=n)
        )
        if n % 2:
            ItemCompletionFactory(
                enrollment=enrollment,
                item=enrollment.course.items.first(),
                completed_at=clock.current,
            )


def test_the_page_costs_the_same_queries_for_25_or_100_rows(
    operator_client, monkeypatch, many_rows
):
    def queries_for(per_page: int) -> int:
        monkeypatch.setattr(EnrollmentAdmin, "list_per_page", per_page)
        with CaptureQueriesContext(connection) as captured:
            response = operator_client.get(changelist_url())
        assert response.status_code == 200
        assert len(response.context["cl"].result_list) == per_page
        return len(captured)

    assert queries_for(25) == queries_for(100)


@pytest.mark.parametrize("per_page", [25, 100])
def test_the_page_query_count_is_pinned_at_any_size(
    operator_client, monkeypatch, many_rows, django_assert_num_queries, per_page
):
    monkeypatch.setattr(EnrollmentAdmin, "list_per_page", per_page)
    operator_client.get(changelist_url())  # warm the session
    # Session, user, permissions (user and group), the course filter's choices (courses only),
    # one count (no unfiltered "total"), the page with its progress annotations, and the date
    # hierarchy (2).
    with django_assert_num_queries(9):
        response = operator_client.get(changelist_url())
    assert len(response.context["cl"].result_list) == per_page
    assert "%" in response.content.decode()


def test_the_page_query_count_is_pinned(operator_client, django_assert_num_queries, states):
    # Session, user, permissions (user and group), the course filter's choices (courses only),
    # one count (no unfiltered "total"), the page with its progress annotations, and the date
    # hierarchy (2).
    operator_client.get(changelist_url())  # warm the session
    with django_assert_num_queries(9):
        operator_client.get(changelist_url())


def test_autocomplete_for_user_and_course(client, admin_user, states):
    client.force_login(admin_user)
    url = "/admin/autocomplete/"
    common = {"app_label": "enrollments", "model_name": "enrollment"}
    users = client.get(url, {**common, "field_name": "user", "term": "analytical"}).json()
    assert [r["text"] for r in users["results"]] == ["ada@analytical.example"]
    courses = client.get(url, {**common, "field_name": "course", "term": "sql"}).json()
    assert [r["text"] for r in courses["results"]] == ["SQL for Everyone"]


def test_sorting_by_course_status(operator_client, states):
    """The status column sorts in SQL (an alias), though each row's status is read in Python."""
    columns = operator_client.get(changelist_url()).context["cl"].list_display
    index = list(columns).index("course_status_display")
    response = operator_client.get(changelist_url(f"o=-{index}"))
    assert response.status_code == 200
    statuses = [e.course_status for e in response.context["cl"].result_list]
    assert statuses == sorted(statuses, reverse=True)
    assert statuses[0] == "not_started" and "completed" in statuses
