"""On PostgreSQL, a course staff member's page walks their course's own index and stops: the
scope is one condition on `course_id` served by `enrollment_course_created_idx`, never a scan
of every row filtering out the other courses' (issue 25's target: a course staff page costs
what a global one costs).

Their page is their courses' memberships or their own: an OR that no index walks in order, so
the page reads each part's first rows and merges them (pagination.KeysetPage), then looks
the merged ids up by primary key. Without that, PostgreSQL walked the whole `(created_at, id)`
index filtering by the OR (a 1,000-row course among 1,000,000 rows: about ten times the SQL of
a global page); with `id IN (...)` for the look-up, it read a table of this test's size whole.
"""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from enrollments.graphql.pagination import encode_cursor
from enrollments.models import Enrollment
from tests.factories import CourseFactory, CourseRoleFactory, EnrollmentFactory
from tests.markers import requires_postgres

pytestmark = [requires_postgres, pytest.mark.postgres, pytest.mark.django_db]

COURSES = 40
PER_COURSE = 500


def _nodes(plan: dict) -> list[dict]:
    found = [plan]
    for child in plan.get("Plans", []):
        found += _nodes(child)
    return found


@pytest.fixture
def many_courses():
    """COURSES courses of PER_COURSE enrollments each, created at interleaved instants."""
    courses = [CourseFactory() for _ in range(COURSES)]
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO lms_user (id, password, is_superuser, email, first_name, last_name,
                                  is_staff, is_active, date_joined, time_zone, language)
            SELECT gen_random_uuid(), '', false, 'scoped' || g || '@example.com', '', '', false,
                   true, now(), '', ''
            FROM generate_series(1, %s) g
            """,
            [COURSES * PER_COURSE],
        )
        cursor.execute(
            """
            INSERT INTO enrollments_enrollment (id, user_id, course_id, start_at, ended_at,
                is_paused, total_paused_duration, items_completed, course_status, created_at,
                updated_at)
            SELECT gen_random_uuid(), u.id, (%s::uuid[])[1 + u.n %% %s], now(),
                   now() + interval '30 days', false, 0, 0, 'not_started',
                   now() - u.n * interval '1 second', now()
            FROM (SELECT id, row_number() OVER (ORDER BY email) AS n
                  FROM lms_user WHERE email LIKE 'scoped%%') u
            """,
            [[str(course.pk) for course in courses], COURSES],
        )
        cursor.execute("ANALYZE enrollments_enrollment")
    return courses


def _page_plan(api, key, document: str) -> list[dict]:
    with CaptureQueriesContext(connection) as captured:
        body = api.post(document, key=key)
    assert "errors" not in body, body
    page_sql = [q["sql"] for q in captured.captured_queries if "LIMIT 102" in q["sql"]]
    assert len(page_sql) == 1
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + page_sql[0])
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return _nodes(plan[0]["Plan"])


@pytest.mark.parametrize("deep", [False, True], ids=["first page", "deep page"])
@pytest.mark.parametrize("order", ["CREATED_AT_ASC", "CREATED_AT_DESC"])
def test_a_course_staff_page_walks_the_courses_index(api, make_key, many_courses, deep, order):
    course = many_courses[7]
    staff = CourseRoleFactory(course=course).user
    EnrollmentFactory(user=staff, course=many_courses[8])  # their own, in another course
    after = ""
    if deep:
        rows = Enrollment.objects.filter(course=course).order_by("created_at", "id")
        after = f', after: "{encode_cursor(rows[PER_COURSE // 2])}"'
    nodes = _page_plan(
        api,
        make_key(staff),
        f"{{ courseMemberships(first: 100, order: {order}{after}) {{ nodes {{ id }} }} }}",
    )
    enrollment_scans = [
        n for n in nodes if n.get("Relation Name") == "enrollments_enrollment" or "Index Name" in n
    ]
    # The enrollment table is never read whole (the merged ids are looked up by key), nor
    # walked in the global order filtering out the other courses...
    assert not [n for n in enrollment_scans if n["Node Type"] == "Seq Scan"], nodes
    assert not [n for n in nodes if n.get("Index Name") == "enrollment_created_id_idx"], nodes
    # ... the course's part walks the course's own index, from the cursor when there is one.
    course_walks = [
        n.get("Index Cond", "")
        for n in nodes
        if n.get("Index Name") == "enrollment_course_created_idx"
    ]
    assert course_walks and all("course_id" in cond for cond in course_walks), nodes
    if deep:
        assert any("created_at" in cond for cond in course_walks), nodes
