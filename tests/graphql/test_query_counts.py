"""A page of memberships with every field costs the same few queries whatever its size."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import CourseFactory
from tests.graphql.data import BASE, memberships

pytestmark = pytest.mark.django_db

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

#: API key with its user (1), the user's permissions (2: direct and through groups), the page
#: with progress, course and user joined (1), the next items of the page (1), total_count (1).
EXPECTED_QUERIES = 6


@pytest.fixture
def key(make_key, viewer, api) -> str:
    raw_key = make_key(viewer)
    api.post("{ __typename }", key=raw_key)  # the key's first use is recorded (one UPDATE)
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
    assert small == large <= EXPECTED_QUERIES
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
    assert count <= EXPECTED_QUERIES


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
    """API key (1), permissions (2), the membership with its progress (1), its next items (1):
    the row is read once, already scoped to what the user may see."""
    row = rows[0]
    variables = (
        {"id": str(row.pk)}
        if by == "id"
        else {"course_id": str(row.course_id), "user_id": str(row.user_id)}
    )
    with CaptureQueriesContext(connection) as queries:
        body = api.post(ONE, variables, key=key)
    assert body["data"]["courseMembership"]["id"] == str(row.pk)
    assert len(queries.captured_queries) == 5
