"""Keyset paging of courseMemberships: cursors are positions, not offsets."""

import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from enrollments.graphql.pagination import decode_cursor, encode_cursor
from enrollments.models import Enrollment
from tests.factories import EnrollmentFactory, UserFactory
from tests.graphql.conftest import error_codes
from tests.graphql.data import memberships

pytestmark = pytest.mark.django_db

PAGE = """
query ($first: Int, $after: String, $last: Int, $before: String, $order: CourseMembershipOrder,
       $course_id: ID) {
  courseMemberships(first: $first, after: $after, last: $last, before: $before, order: $order,
                    course_id: $course_id) {
    edges { cursor node { id cursor } }
    nodes { id }
    page_info { has_next_page has_previous_page start_cursor end_cursor }
  }
}
"""


@pytest.fixture
def key(make_key, viewer) -> str:
    return make_key(viewer)


def page(api, key, **variables) -> dict:
    body = api.post(PAGE, variables, key=key)
    assert "errors" not in body, body
    return body["data"]["courseMemberships"]


def ids(connection_data: dict) -> list[str]:
    return [edge["node"]["id"] for edge in connection_data["edges"]]


def test_cursor_round_trip_is_the_rows_position():
    row = EnrollmentFactory()
    position = decode_cursor(encode_cursor(row))
    assert (position.created_at, position.id) == (row.created_at, row.pk)


@pytest.mark.parametrize(
    "cursor", ["", "nonsense", "bTE6eHh4Onl5eQ", "bTI6MTox", "a" * 101, "bTE6MTpub3QtYS11dWlk"]
)
def test_a_cursor_the_api_did_not_issue_is_invalid_cursor(api, key, cursor):
    body = api.post(PAGE, {"first": 1, "after": cursor}, key=key)
    assert error_codes(body) == ["INVALID_CURSOR"]
    assert body["data"] is None


def test_pages_250_rows_100_at_a_time_while_rows_are_inserted_before_the_cursor(api, key):
    originals = memberships(250, same_instant_every=5)
    course = originals[0].course
    seen: list[str] = []
    after = None
    inserted_before = 0
    for page_number in range(5):
        data = page(api, key, first=100, after=after, course_id=str(course.pk))
        seen += ids(data)
        if not data["page_info"]["has_next_page"]:
            break
        after = data["page_info"]["end_cursor"]
        # Between pages: rows land before the cursor, at an older instant and at the cursor's
        # own instant with a smaller id. An OFFSET pager would now repeat rows.
        position = decode_cursor(after)
        for created_at, pk in (
            (position.created_at - timedelta(days=1), uuid.uuid4()),
            (position.created_at, uuid.UUID(int=page_number)),
        ):
            row = EnrollmentFactory(id=pk, course=course, user=UserFactory())
            Enrollment.objects.filter(pk=row.pk).update(created_at=created_at)
            inserted_before += 1
    original_ids = [str(row.pk) for row in originals]
    assert sorted(seen) == sorted(original_ids)  # each original exactly once, nothing else
    assert len(seen) == len(set(seen)) == 250
    assert inserted_before == 4
    assert Enrollment.objects.filter(course=course).count() == 254


def test_rows_inserted_after_the_cursor_are_reached_and_deleted_ones_skipped(api, key):
    rows = memberships(6)
    first = page(api, key, first=3)
    assert ids(first) == [str(r.pk) for r in rows[:3]]
    rows[4].delete()
    late = EnrollmentFactory()
    rest = page(api, key, first=10, after=first["page_info"]["end_cursor"])
    assert ids(rest) == [str(rows[3].pk), str(rows[5].pk), str(late.pk)]
    assert rest["page_info"]["has_previous_page"] is True
    assert rest["page_info"]["has_next_page"] is False


def test_node_cursor_equals_edge_cursor_and_works_as_after(api, key):
    rows = memberships(4)
    data = page(api, key, first=4)
    for edge in data["edges"]:
        assert edge["cursor"] == edge["node"]["cursor"]
    assert data["page_info"]["start_cursor"] == data["edges"][0]["cursor"]
    assert data["page_info"]["end_cursor"] == data["edges"][-1]["cursor"]
    assert [n["id"] for n in data["nodes"]] == ids(data)
    second_node_cursor = data["edges"][1]["node"]["cursor"]
    assert ids(page(api, key, first=10, after=second_node_cursor)) == [str(r.pk) for r in rows[2:]]


def test_page_info_going_forward(api, key):
    memberships(5)
    one = page(api, key, first=2)
    assert one["page_info"]["has_previous_page"] is False
    assert one["page_info"]["has_next_page"] is True
    two = page(api, key, first=2, after=one["page_info"]["end_cursor"])
    assert two["page_info"]["has_previous_page"] is True
    assert two["page_info"]["has_next_page"] is True
    three = page(api, key, first=2, after=two["page_info"]["end_cursor"])
    assert len(three["edges"]) == 1
    assert three["page_info"]["has_next_page"] is False
    assert three["page_info"]["has_previous_page"] is True


def test_has_previous_page_after_the_after_row_was_deleted(api, key):
    rows = memberships(4)
    cursor = encode_cursor(rows[1])
    rows[1].delete()
    data = page(api, key, first=5, after=cursor)
    assert ids(data) == [str(r.pk) for r in rows[2:]]
    assert data["page_info"]["has_previous_page"] is True  # rows[0] is still there
    rows[0].delete()
    assert page(api, key, first=5, after=cursor)["page_info"]["has_previous_page"] is False


def test_paging_backward_with_last_and_before(api, key):
    rows = memberships(7)
    expected = [str(r.pk) for r in rows]
    tail = page(api, key, last=3)
    assert ids(tail) == expected[4:]
    assert tail["page_info"]["has_previous_page"] is True
    assert tail["page_info"]["has_next_page"] is False
    middle = page(api, key, last=3, before=tail["page_info"]["start_cursor"])
    assert ids(middle) == expected[1:4]
    assert middle["page_info"]["has_next_page"] is True
    head = page(api, key, last=3, before=middle["page_info"]["start_cursor"])
    assert ids(head) == expected[:1]
    assert head["page_info"]["has_previous_page"] is False


def test_descending_order_pages_newest_first(api, key):
    rows = memberships(5, same_instant_every=2)
    expected = [str(r.pk) for r in sorted(rows, key=lambda r: (r.created_at, r.pk), reverse=True)]
    one = page(api, key, first=3, order="CREATED_AT_DESC")
    two = page(api, key, first=3, after=one["page_info"]["end_cursor"], order="CREATED_AT_DESC")
    assert ids(one) + ids(two) == expected
    assert two["page_info"]["has_next_page"] is False


def test_after_and_before_bound_a_window(api, key):
    rows = memberships(6)
    data = page(api, key, first=10, after=encode_cursor(rows[0]), before=encode_cursor(rows[4]))
    assert ids(data) == [str(r.pk) for r in rows[1:4]]


def test_ties_on_created_at_are_broken_by_id(api, key):
    rows = memberships(6, same_instant_every=6)
    expected = sorted(str(r.pk) for r in rows)
    seen = []
    after = None
    for _ in range(3):
        data = page(api, key, first=2, after=after)
        seen += ids(data)
        after = data["page_info"]["end_cursor"]
    assert seen == sorted(seen) == expected


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"first": 101}, "`first` must be between 0 and 100"),
        ({"last": 101}, "`last` must be between 0 and 100"),
        ({"first": -1}, "`first` must be between 0 and 100"),
        ({"first": 1, "last": 1}, "Pass either `first` or `last`, not both"),
    ],
)
def test_page_size_is_bounded(api, key, variables, message):
    body = api.post(PAGE, variables, key=key)
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["message"] == message


def test_default_page_size_is_20(api, key):
    memberships(25)
    assert len(page(api, key)["edges"]) == 20


def test_total_count_is_counted_only_when_selected(api, key):
    memberships(3)
    with CaptureQueriesContext(connection) as without:
        api.post("{ courseMemberships(first: 2) { edges { cursor } } }", key=key)
    with CaptureQueriesContext(connection) as with_count:
        body = api.post("{ courseMemberships(first: 2) { total_count } }", key=key)
    assert body["data"]["courseMemberships"]["total_count"] == 3
    # Django names the result of QuerySet.count() "__count".
    assert not any("__count" in q["sql"] for q in without.captured_queries)
    assert sum("__count" in q["sql"] for q in with_count.captured_queries) == 1
    # Asking only for the count reads no page, and counts without the progress subqueries.
    reads = [q["sql"] for q in with_count.captured_queries if "enrollments_enrollment" in q["sql"]]
    # (removed learners are left out of the list: the one condition)
    assert reads == [
        'SELECT COUNT(*) AS "__count" FROM "enrollments_enrollment" '
        'WHERE "enrollments_enrollment"."removed_at" IS NULL'
    ]


def test_page_query_uses_no_offset(api, key):
    memberships(5)
    first = page(api, key, first=2)
    with CaptureQueriesContext(connection) as queries:
        page(api, key, first=2, after=first["page_info"]["end_cursor"])
    page_queries = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith("SELECT")
        and "ORDER BY" in q["sql"]
        and "enrollments_enrollment" in q["sql"]
    ]
    assert len(page_queries) == 1
    # The next-but-one item subquery has its own "LIMIT 1 OFFSET 1"; the page itself is only
    # limited: first + 2 rows (the cursor's own row and one to see whether more follow).
    assert page_queries[0].endswith("LIMIT 4")
