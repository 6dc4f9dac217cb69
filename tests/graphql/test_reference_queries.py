"""Healthie's arguments and nested fields (tests/reference/healthie-2025-01-01.graphql): what they
mean here, their errors, and what they cost in SQL."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import CourseFactory, CourseItemFactory, EnrollmentFactory
from tests.graphql.conftest import error_codes
from tests.graphql.data import BASE, memberships

pytestmark = pytest.mark.django_db

LIST = """
query ($client_id: ID, $user_id: ID, $fetch_all: Boolean, $first: Int, $last: Int) {
  courseMemberships(client_id: $client_id, user_id: $user_id, fetch_all: $fetch_all,
                    first: $first, last: $last) {
    nodes { id }
  }
}
"""

ONE = """
query ($id: ID, $course_membership_id: ID, $course_id: ID, $course_item_id: ID, $user_id: ID,
       $user_group_id: ID) {
  courseMembership(id: $id, course_membership_id: $course_membership_id, course_id: $course_id,
                   course_item_id: $course_item_id, user_id: $user_id,
                   user_group_id: $user_group_id) { id }
}
"""


@pytest.fixture
def key(make_key, viewer):
    return make_key(viewer)


def nodes(body) -> list[str]:
    assert "errors" not in body, body
    return [node["id"] for node in body["data"]["courseMemberships"]["nodes"]]


def test_client_id_is_the_learner(api, key, enrollment):
    EnrollmentFactory()
    body = api.post(LIST, {"client_id": str(enrollment.user_id)}, key=key)
    assert nodes(body) == [str(enrollment.pk)]
    same = api.post(
        LIST, {"client_id": str(enrollment.user_id), "user_id": str(enrollment.user_id)}, key=key
    )
    assert nodes(same) == [str(enrollment.pk)]
    other = api.post(
        LIST, {"client_id": str(enrollment.user_id), "user_id": str(enrollment.course_id)}, key=key
    )
    assert error_codes(other) == ["BAD_USER_INPUT"]
    assert "`client_id` and `user_id`" in other["errors"][0]["message"]


def test_fetch_all_reads_every_row_up_to_the_cap(api, key, monkeypatch):
    rows = memberships(5)
    body = api.post(LIST, {"fetch_all": True}, key=key)
    assert nodes(body) == [str(row.pk) for row in rows]  # more than the default page, in order
    monkeypatch.setattr("enrollments.graphql.queries.FETCH_ALL_MAX", 4)
    over = api.post(LIST, {"fetch_all": True}, key=key)
    assert error_codes(over) == ["BAD_USER_INPUT"]
    assert "at most 4 memberships" in over["errors"][0]["message"]
    monkeypatch.setattr("enrollments.graphql.queries.FETCH_ALL_MAX", 5)
    assert len(nodes(api.post(LIST, {"fetch_all": True}, key=key))) == 5  # exactly the cap


def test_fetch_all_is_a_bounded_read(api, key, monkeypatch):
    """Never an unbounded read: the page's statement is limited to just past the cap (enough to
    tell that more match), whatever the number of rows."""
    memberships(6)
    monkeypatch.setattr("enrollments.graphql.queries.FETCH_ALL_MAX", 4)
    with CaptureQueriesContext(connection) as queries:
        over = api.post(LIST, {"fetch_all": True}, key=key)
    assert error_codes(over) == ["BAD_USER_INPUT"]
    [page] = [q["sql"] for q in queries.captured_queries if "enrollments_enrollment" in q["sql"]]
    limit = re.search(r"\bLIMIT (\d+)$", page.strip())  # the statement's own, not a subquery's
    assert limit and 4 < int(limit[1]) <= 4 + 2, page


def test_fetch_all_false_is_plain_paging(api, key):
    memberships(25)
    assert len(nodes(api.post(LIST, {"fetch_all": False}, key=key))) == 20


@pytest.mark.parametrize("size", [{"first": 2}, {"last": 2}])
def test_fetch_all_with_a_page_size_is_refused(api, key, size):
    body = api.post(LIST, {"fetch_all": True, **size}, key=key)
    assert error_codes(body) == ["BAD_USER_INPUT"]


def test_a_student_fetches_all_of_their_own_only(api, make_key, enrollment):
    EnrollmentFactory()
    body = api.post(LIST, {"fetch_all": True}, key=make_key(enrollment.user))
    assert nodes(body) == [str(enrollment.pk)]


def test_course_membership_by_healthie_arguments(api, key, enrollment):
    item = CourseItemFactory(course=enrollment.course)
    by_id = api.post(ONE, {"course_membership_id": str(enrollment.pk)}, key=key)
    assert by_id["data"]["courseMembership"] == {"id": str(enrollment.pk)}
    both = api.post(
        ONE, {"course_membership_id": str(enrollment.pk), "id": str(enrollment.pk)}, key=key
    )
    assert both["data"]["courseMembership"] == {"id": str(enrollment.pk)}
    by_item = api.post(
        ONE, {"course_item_id": str(item.pk), "user_id": str(enrollment.user_id)}, key=key
    )
    assert by_item["data"]["courseMembership"] == {"id": str(enrollment.pk)}


@pytest.mark.parametrize(
    ("variables", "code"),
    [
        ({"user_group_id": "7"}, "BAD_USER_INPUT"),
        ({"user_group_id": "7", "id": "{pk}"}, "BAD_USER_INPUT"),
        ({"id": "{pk}", "course_membership_id": "{other}"}, "BAD_USER_INPUT"),
        ({"course_item_id": "{item}"}, "BAD_USER_INPUT"),
        (
            {"course_item_id": "{item}", "course_id": "{course}", "user_id": "{user}"},
            "BAD_USER_INPUT",
        ),
        ({"id": "{pk}", "user_id": "{user}"}, "BAD_USER_INPUT"),
        (
            {"course_item_id": "00000000-0000-0000-0000-000000000000", "user_id": "{user}"},
            "NOT_FOUND",
        ),
        ({"course_item_id": "not-an-id", "user_id": "{user}"}, "NOT_FOUND"),
        ({"course_item_id": "{foreign_item}", "user_id": "{user}"}, "NOT_ENROLLED"),
    ],
)
def test_course_membership_argument_errors(api, key, enrollment, variables, code):
    values = {
        "pk": enrollment.pk,
        "other": EnrollmentFactory().pk,
        "item": CourseItemFactory(course=enrollment.course).pk,
        "foreign_item": CourseItemFactory().pk,
        "course": enrollment.course_id,
        "user": enrollment.user_id,
    }
    body = api.post(ONE, {k: v.format(**values) for k, v in variables.items()}, key=key)
    assert error_codes(body) == [code]
    assert body["data"] == {"courseMembership": None}
    if "user_group_id" in variables:
        assert "no user groups" in body["errors"][0]["message"]


def test_a_student_may_not_ask_by_item_for_someone_else(api, make_key, enrollment):
    item = CourseItemFactory(course=enrollment.course)
    other = EnrollmentFactory(course=enrollment.course)
    body = api.post(
        ONE,
        {"course_item_id": str(item.pk), "user_id": str(other.user_id)},
        key=make_key(enrollment.user),
    )
    assert error_codes(body) == ["FORBIDDEN"]


NESTED = """
query ($first: Int) {
  courseMemberships(first: $first) {
    nodes {
      id
      course { id name description created_at updated_at course_items(include_emails: false) {
        id name item_type description created_at updated_at course_name next_item { id }
        prev_item { id } course { name } } }
      next_incomplete_item {
        id name course { name } course_name next_item { name } prev_item { name }
      }
      next_next_incomplete_item { name }
      user { first_name last_name full_name name email }
    }
  }
}
"""


def _count(api, key, first) -> tuple[int, list]:
    with CaptureQueriesContext(connection) as queries:
        body = api.post(NESTED, {"first": first}, key=key)
    assert "errors" not in body, body
    return len(queries.captured_queries), body["data"]["courseMemberships"]["nodes"]


@pytest.mark.usefixtures("without_object_weight")  # a page of 35 with every item's neighbours
def test_nested_healthie_fields_cost_the_same_queries_for_any_rows_or_courses(api, key):
    """The page's courses' items are read together (loading.course_items): one query for
    one course or two, 1 row or 35."""
    api.post("{ __typename }", key=key)  # the key's first use is recorded (one UPDATE)
    memberships(30, items=4, completed=1)
    one, [node] = _count(api, key, 1)
    thirty, page = _count(api, key, 30)
    assert one == thirty
    assert len(page) == 30
    memberships(5, course=CourseFactory(), items=2, start=BASE - timedelta(days=1))
    two_courses, page = _count(api, key, 35)
    assert two_courses == thirty  # the second course's items read with the first's
    items = node["course"]["course_items"]
    assert [item["name"] for item in items] == ["item 1", "item 2", "item 3", "item 4"]
    assert items[0]["prev_item"] is None and items[-1]["next_item"] is None
    assert items[1]["next_item"] == {"id": items[2]["id"]}
    assert node["next_incomplete_item"]["name"] == "item 2"
    assert node["next_incomplete_item"]["next_item"] == {"name": "item 3"}
    assert node["next_incomplete_item"]["prev_item"] == {"name": "item 1"}
    assert node["next_incomplete_item"]["course"] == {"name": node["course"]["name"]}


def test_user_names_agree_across_the_two_apis(api, make_key, manager, enrollment):
    user = enrollment.user
    user.first_name, user.last_name = "Grace", "Hopper"
    user.save()
    query = """query ($id: ID) { courseMembership(id: $id) {
        user { first_name last_name full_name name } } }"""
    mutation = """mutation ($u: String!, $c: String!) {
        extendStudentCourseAccess(userId: $u, courseId: $c, extensionDays: 1) {
        enrollment { user { name } } } }"""
    key = make_key(manager)
    variables = {"u": str(user.pk), "c": str(enrollment.course_id)}
    for first, last, expected in [
        ("Grace", "Hopper", "Grace Hopper"),
        ("", "", user.email),
        ("Ada", "", "Ada"),
    ]:
        user.first_name, user.last_name = first, last
        user.save()
        member = api.post(query, {"id": str(enrollment.pk)}, key=key)["data"]["courseMembership"]
        admin = api.post(mutation, variables, key=key)["data"]["extendStudentCourseAccess"]
        assert member["user"] == {
            "first_name": first,
            "last_name": last,
            "full_name": expected,
            "name": expected,
        }
        assert admin["enrollment"]["user"]["name"] == expected
