"""A page of memberships with every field costs the same few queries whatever its size, with the
fast paths on and off (the `fast_paths` fixture). On PostgreSQL the statement timeout costs
none: it is set on the API's read connection, not per request (statement_timeout.py)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apikeys import permission_cache
from lms.models import Course, CourseItem
from tests.factories import CourseFactory, CourseRoleFactory, EnrollmentFactory, UserFactory
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
    # The key's first page reads its permissions and its course roles (none: issue 25), kept
    # with the key like the permissions; the pages after it read neither.
    student = rows[0].user
    raw_key = make_key(student)
    api.post(EVERY_FIELD, {"first": 1}, key=raw_key)
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


#: docs/api.md "List memberships", Healthie's way: one learner's memberships (client_id), with
#: each course's items.
HEALTHIE_PAGE = """
query courseMemberships($after: String, $client_id: ID, $first: Int) {
  courseMemberships(after: $after, client_id: $client_id, first: $first) { ...Page }
}
fragment Page on CourseMembershipPaginationConnection {
  total_count
  page_info { has_next_page end_cursor }
  nodes {
    id course_status
    course { id name description course_items { name item_type position } }
    next_incomplete_item { name item_type }
    user { first_name last_name full_name }
  }
}
"""


def test_a_page_of_one_learners_courses_reads_their_items_in_one_query(api, key):
    """A learner's page spans as many courses as rows: their items are read together, when the
    first course's are asked for (loading.course_items), not once per course (N+1: 33
    queries for 30 rows). Key (1), the page (1), total_count (1), the items (1)."""
    learner = UserFactory()
    courses = Course.objects.bulk_create(
        Course(slug=f"c-{n}", title=f"Course {n}", access_days=90) for n in range(30)
    )
    CourseItem.objects.bulk_create(
        CourseItem(course=course, title=f"{course.title} item {p}", position=p)
        for course in courses
        for p in (2, 1)
    )
    for course in courses:
        EnrollmentFactory(user=learner, course=course)
    variables = {"client_id": str(learner.pk)}

    counts = {}
    for first in (1, 30):
        with CaptureQueriesContext(connection) as queries:
            body = api.post(HEALTHIE_PAGE, {**variables, "first": first}, key=key)
        assert "errors" not in body, body
        nodes = body["data"]["courseMemberships"]["nodes"]
        assert len(nodes) == first
        counts[first] = len(queries.captured_queries)
    assert counts == {1: EXPECTED_QUERIES + 1, 30: EXPECTED_QUERIES + 1}
    by_name = {course.title: course for course in courses}
    for node in nodes:
        title = node["course"]["name"]
        assert node["course"]["id"] == str(by_name[title].pk)
        assert node["course"]["course_items"] == [
            {"name": f"{title} item {p}", "item_type": "lesson", "position": p} for p in (1, 2)
        ]


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


# Course roles (issue 25): a course's staff read their courses' memberships through one more
# condition on the same page query (operations/scope.py), never a check per row.


@pytest.fixture
def course_staff(rows):
    """Staff of the first course (120 of the 150 memberships) by a course role, holding no
    global permission."""
    return CourseRoleFactory(course=rows[0].course).user


def test_a_course_staff_page_costs_what_a_global_page_costs(api, key, make_key, rows, course_staff):
    """Key (1), the page (1), total_count (1), as for a global viewer: the key's course roles
    are kept with its permissions (apikeys.permission_cache), read by its first request."""
    staff_key = make_key(course_staff)
    # Both keys' first pages: granting the role emptied the cache (apikeys.permission_cache).
    api.post(EVERY_FIELD, {"first": 1}, key=staff_key)
    api.post(EVERY_FIELD, {"first": 1}, key=key)
    with CaptureQueriesContext(connection) as queries:
        body = api.post(EVERY_FIELD, {"first": 100}, key=staff_key)
    scoped = body["data"]["courseMemberships"]
    everyone_count, everyone = _count_queries(api, key, first=100)
    assert len(queries.captured_queries) == everyone_count == EXPECTED_QUERIES
    assert scoped["total_count"] == 120 and everyone["total_count"] == 150
    assert len(scoped["edges"]) == 100
    assert {edge["node"]["course_id"] for edge in scoped["edges"]} == {str(rows[0].course_id)}
    # The scope is a condition of the page's one statement (and of its count's): on
    # PostgreSQL in the inner read of the course's part (pagination.KeysetPage).
    page = next(q["sql"] for q in queries.captured_queries if "ORDER BY" in q["sql"])
    assert '."course_id" IN (' in page


def test_a_course_staff_key_reads_its_roles_once_per_cache_period(api, make_key, course_staff):
    """A cold cache: key (1), permissions (1), course roles (1), page (1), total_count (1);
    then the roles are kept with the permissions."""
    staff_key = make_key(course_staff)
    api.post("{ __typename }", key=staff_key)  # the key's first use is recorded (an UPDATE)
    permission_cache.clear()
    cold, _ = _count_queries(api, staff_key, first=100)
    warm, _ = _count_queries(api, staff_key, first=100)
    assert (cold, warm) == (5, EXPECTED_QUERIES)


def test_a_course_staff_session_page_costs_one_more_than_a_global_one(
    client, api, viewer, rows, course_staff
):
    """Signed in by session (no key cache): the roles are read once per request (1), next to
    the permissions every session request reads."""
    counts = {}
    for name, user in (("global", viewer), ("course", course_staff)):
        client.force_login(user)
        api.post(EVERY_FIELD, {"first": 1})
        with CaptureQueriesContext(connection) as queries:
            body = api.post(EVERY_FIELD, {"first": 100})
        assert "errors" not in body, body
        counts[name] = len(queries.captured_queries)
    assert counts["course"] == counts["global"] + 1
