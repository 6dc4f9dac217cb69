"""On PostgreSQL, a deep page starts its index scan at the cursor: its cost does not grow with
the number of rows before it (no OFFSET, no scan from the start filtering rows out)."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from enrollments.graphql.pagination import encode_cursor
from enrollments.models import Enrollment
from tests.factories import CourseFactory
from tests.markers import requires_postgres

pytestmark = [requires_postgres, pytest.mark.postgres, pytest.mark.django_db]

ROWS = 30_000


def _nodes(plan: dict) -> list[dict]:
    found = [plan]
    for child in plan.get("Plans", []):
        found += _nodes(child)
    return found


@pytest.mark.parametrize("order", ["CREATED_AT_ASC", "CREATED_AT_DESC"])
def test_a_deep_page_seeks_to_the_cursor_in_the_index(api, make_key, viewer, order):
    course = CourseFactory()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO lms_user (id, password, is_superuser, email, first_name, last_name,
                                  is_staff, is_active, date_joined, time_zone, language)
            SELECT gen_random_uuid(), '', false, 'plan' || g || '@example.com', '', '', false,
                   true, now(), '', ''
            FROM generate_series(1, %s) g
            """,
            [ROWS],
        )
        cursor.execute(
            """
            INSERT INTO enrollments_enrollment (id, user_id, course_id, start_at, ended_at,
                is_paused, total_paused_duration, items_completed, course_status, created_at,
                updated_at)
            SELECT gen_random_uuid(), u.id, %s, now(), now() + interval '30 days', false, 0, 0,
                   'not_started', now() - (row_number() OVER ()) * interval '1 second', now()
            FROM lms_user u WHERE u.email LIKE 'plan%%'
            """,
            [course.pk],
        )
        cursor.execute("ANALYZE enrollments_enrollment")
    deep = Enrollment.objects.order_by("created_at", "id")[ROWS - 500]
    with CaptureQueriesContext(connection) as captured:
        body = api.post(
            f'{{ courseMemberships(first: 100, after: "{encode_cursor(deep)}", order: {order}) '
            "{ edges { node { id course { slug } } } } }",
            key=make_key(viewer),
        )
    assert "errors" not in body
    page_sql = [q["sql"] for q in captured.captured_queries if "LIMIT 102" in q["sql"]]
    assert len(page_sql) == 1
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + page_sql[0])
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    nodes = _nodes(plan[0]["Plan"])
    # The enrollment table is never read whole...
    assert not [
        n
        for n in nodes
        if n["Node Type"] == "Seq Scan" and n.get("Relation Name") == "enrollments_enrollment"
    ], nodes
    # ... and an index of it (an Index Scan, or the Bitmap Index Scan under a Bitmap Heap
    # Scan, as the planner likes) starts at the cursor's created_at.
    conditions = [
        n.get("Index Cond", "") for n in nodes if n.get("Index Name", "").startswith("enrollment_")
    ]
    assert any("created_at" in condition for condition in conditions), nodes
