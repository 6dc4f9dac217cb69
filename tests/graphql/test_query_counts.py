"""A page of memberships with every field costs the same few queries whatever its size, with the
fast paths on and off (the `fast_paths` fixture). On PostgreSQL the statement timeout costs
none: it is set on the API's read connection, not per request (statement_timeout.py)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apikeys import permission_cache
from tests.factories import CourseFactory
from tests.graphql.data import BASE, memberships

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_paths")]

EVERY_FIELD = """
query ($first: Int, $after: String) {
  courseMemberships(first: $first, after: $after) {
    total_count
    page_info { has_next_page has_previous_page start_cursor end_cursor }
    nodes { id }
    edges {
      cursor
      node {
        id cursor course_id user_id course_status created_at updated_at start_at ended_at
        is_paused paused_at total_paused_duration access_state has_access completion_rate
        course { id slug title access_days pause_freezes_access }
        user { id email name }
        next_incomplete_item { id course_id title kind position }
        next_next_incomplete_item { id course_id title kind position }
      }
    }
  }
}
"""

#: API key with its user (1), the page with progress, next items, course and user (1),
#: total_count (1). The key's permissions were read by its first request and are kept
#: (apikeys.permission_cache); a key's first request reads them (1 more): see below.
EXPECTED_QUERIES = 3


@pytest.fixture
def key(make_key, viewer, api) -> str:
    raw_key = make_key(viewer)
    # The key's first use is recorded (one UPDATE) and reads its permissions; SQLite's
    # connection checks once that it has JSON functions. None of that is a page's cost.
    api.post(EVERY_FIELD, {"first": 1}, key=raw_key)
    return raw_key


@pytest.fixture
def rows():
    # Two courses, so nested courses differ; items half done, so next items exist.
    return memberships(120, items=6, completed=2) + memberships(
        30, course=CourseFactory(), items=4, completed=3, start=BASE + timedelta(days=1)
    )


def _count_queries(api, key, **variables) -> tuple[int, dict]:
    with CaptureQueriesContext(connection) as queries:
        body = api.post(EVERY_FIELD, variables, key=key)
    assert "errors" not in body, body
    return len(queries.captured_queries), body["data"]["courseMemberships"]


def test_first_1_and_first_100_cost_the_same_queries(api, key, rows):
    small, one = _count_queries(api, key, first=1)
    large, hundred = _count_queries(api, key, first=100)
    assert len(one["edges"]) == 1
    assert len(hundred["edges"]) == 100
    assert small == large == EXPECTED_QUERIES
    node = hundred["edges"][0]["node"]
    assert node["next_incomplete_item"]["position"] == 3
    assert node["next_next_incomplete_item"]["position"] == 4
    assert node["course_status"] == "in_progress"


def test_a_deep_page_costs_what_the_first_costs(api, key, rows):
    first_page, data = _count_queries(api, key, first=100)
    deep_page, deep = _count_queries(api, key, first=100, after=data["page_info"]["end_cursor"])
    assert len(deep["edges"]) == 50
    assert deep_page == first_page
    last = deep["edges"][-1]["node"]
    assert last["next_incomplete_item"]["position"] == 4
    assert last["next_next_incomplete_item"] is None


def test_a_student_page_costs_the_same(api, make_key, rows):
    # A student reads their own memberships: same queries, the permission check finds nothing.
    student = rows[0].user
    raw_key = make_key(student)
    api.post("{ __typename }", key=raw_key)
    count, data = _count_queries(api, raw_key, first=100)
    assert [edge["node"]["id"] for edge in data["edges"]] == [str(rows[0].pk)]
    assert count == EXPECTED_QUERIES


def test_a_page_with_a_cold_permission_cache_costs_at_most_five(api, key, rows):
    """The issue's bound, API-key authentication included: key (1), the user's permissions
    (1: direct and through groups at once), the page (1), total_count (1)."""
    permission_cache.clear()
    count, data = _count_queries(api, key, first=100)
    assert len(data["edges"]) == 100
    assert count == 4
    count, _ = _count_queries(api, key, first=100)
    assert count == EXPECTED_QUERIES


def test_a_page_without_total_count_is_two_queries(api, key, rows):
    document = EVERY_FIELD.replace("    total_count\n", "")
    with CaptureQueriesContext(connection) as queries:
        body = api.post(document, {"first": 100}, key=key)
    assert len(body["data"]["courseMemberships"]["edges"]) == 100
    statements = [query["sql"] for query in queries.captured_queries]
    assert len(statements) == 2, statements  # the key, the page
    page = next(sql for sql in statements if 'FROM "enrollments_enrollment"' in sql)
    # Only what the types expose: no password hash, no admin flags.
    assert '"lms_user"."password"' not in page and '"lms_user"."is_superuser"' not in page
    assert '"lms_courseitem"' in page  # the next items, folded into the page's query


ONE = """
query ($id: ID, $course_id: ID, $user_id: ID) {
  courseMembership(id: $id, course_id: $course_id, user_id: $user_id) {
    id course_status access_state has_access completion_rate
    course { slug } user { email } next_incomplete_item { title }
  }
}
"""


@pytest.mark.parametrize("by", ["id", "course and user"])
def test_one_membership_is_read_once(api, key, rows, by):
    """API key (1), the membership with its progress and next items (1; the key's permissions
    are kept from its first request): the row is read once, scoped to what the user may see."""
    row = rows[0]
    variables = (
        {"id": str(row.pk)}
        if by == "id"
        else {"course_id": str(row.course_id), "user_id": str(row.user_id)}
    )
    with CaptureQueriesContext(connection) as queries:
        body = api.post(ONE, variables, key=key)
    assert body["data"]["courseMembership"]["id"] == str(row.pk)
    assert len(queries.captured_queries) == 2
