"""courseMemberships filters and courseMembership look-ups, with who sees what."""

from datetime import UTC, datetime, timedelta

import pytest

from enrollments.graphql.filters import EnrollmentFilter
from enrollments.models import Enrollment
from tests.factories import (
    CourseFactory,
    CourseItemFactory,
    EnrollmentFactory,
    ItemCompletionFactory,
)
from tests.graphql.conftest import error_codes

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 1, 1, tzinfo=UTC)

LIST = """
query ($course_id: ID, $user_id: ID, $course_status: String, $is_paused: Boolean,
       $access_state: AccessState, $ended_before: ISO8601DateTime,
       $ended_after: ISO8601DateTime) {
  courseMemberships(first: 100, course_id: $course_id, user_id: $user_id,
                    course_status: $course_status, is_paused: $is_paused,
                    access_state: $access_state, ended_before: $ended_before,
                    ended_after: $ended_after) {
    total_count
    nodes { id }
  }
}
"""

ONE = """
query ($id: ID, $course_id: ID, $user_id: ID) {
  courseMembership(id: $id, course_id: $course_id, user_id: $user_id) {
    id course_id user_id course_status is_paused paused_at start_at ended_at created_at
    updated_at total_paused_duration access_state has_access completion_rate cursor
    course { slug } user { email }
    next_incomplete_item { title position } next_next_incomplete_item { title position }
  }
}
"""


@pytest.fixture
def states(clock):
    """One membership in each access state, each of its own course and user."""
    now = clock.current
    return {
        "active": EnrollmentFactory(start_at=now - timedelta(days=1), ended_at=now + timedelta(1)),
        "expired": EnrollmentFactory(
            start_at=now - timedelta(days=10), ended_at=now - timedelta(days=1)
        ),
        "not_started": EnrollmentFactory(
            start_at=now + timedelta(days=1), ended_at=now + timedelta(days=9)
        ),
        "paused": EnrollmentFactory(
            start_at=now - timedelta(days=1),
            ended_at=now + timedelta(days=30),
            is_paused=True,
            paused_at=now - timedelta(hours=1),
        ),
        "indefinite": EnrollmentFactory(start_at=now - timedelta(days=1), ended_at=None),
    }


def listed(api, key, **variables) -> set[str]:
    body = api.post(LIST, variables, key=key)
    assert "errors" not in body, body
    data = body["data"]["courseMemberships"]
    assert data["total_count"] == len(data["nodes"])
    return {node["id"] for node in data["nodes"]}


def ids(*enrollments) -> set[str]:
    return {str(e.pk) for e in enrollments}


@pytest.fixture
def key(make_key, viewer):
    return make_key(viewer)


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ("ACTIVE", ["active", "indefinite"]),
        ("EXPIRED", ["expired"]),
        ("NOT_STARTED", ["not_started"]),
        ("PAUSED", ["paused"]),
    ],
)
def test_filter_by_access_state(api, key, states, state, expected):
    assert listed(api, key, access_state=state) == ids(*(states[name] for name in expected))


def test_filter_by_course_user_and_pause(api, key, states):
    active = states["active"]
    assert listed(api, key, course_id=str(active.course_id)) == ids(active)
    assert listed(api, key, user_id=str(active.user_id)) == ids(active)
    assert listed(api, key, is_paused=True) == ids(states["paused"])
    assert len(listed(api, key, is_paused=False)) == 4


def test_filter_by_end_of_access(api, key, states, clock):
    now = clock.current
    assert listed(api, key, ended_before=now.isoformat()) == ids(states["expired"])
    assert listed(api, key, ended_after=(now + timedelta(days=5)).isoformat()) == ids(
        states["not_started"], states["paused"]
    )
    window = listed(
        api,
        key,
        ended_after=now.isoformat(),
        ended_before="2026-01-05T00:00:00+00:00",
    )
    assert window == ids(states["active"])


def test_filter_by_course_status(api, key):
    course = CourseFactory()
    first, second = CourseItemFactory(course=course), CourseItemFactory(course=course)
    untouched, halfway, done = (EnrollmentFactory(course=course) for _ in range(3))
    for enrollment, items in ((halfway, [first]), (done, [first, second])):
        for item in items:
            ItemCompletionFactory(enrollment=enrollment, item=item, completed_at=NOW)
    assert listed(api, key, course_status="not_started") == ids(untouched)
    assert listed(api, key, course_status="in_progress") == ids(halfway)
    assert listed(api, key, course_status="completed") == ids(done)


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        ({"course_status": "finished"}, "course_status"),
        ({"course_id": "not-a-uuid"}, "course_id"),
        ({"user_id": "42"}, "user_id"),
    ],
)
def test_invalid_filter_values_are_bad_user_input(api, key, variables, field):
    body = api.post(LIST, variables, key=key)
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert field in body["errors"][0]["message"]


#: Every id and status filter, Healthie's `client_id` too, and `fetch_all`.
BY_IDS = """
query ($course_id: ID, $user_id: ID, $client_id: ID, $course_status: String,
       $fetch_all: Boolean) {
  courseMemberships(course_id: $course_id, user_id: $user_id, client_id: $client_id,
                    course_status: $course_status, fetch_all: $fetch_all) {
    total_count
    nodes { id }
  }
}
"""


@pytest.mark.parametrize(
    ("variables", "says"),
    [
        ({"course_id": ""}, "course_id: Enter a valid UUID."),
        ({"course_id": " "}, "course_id: Enter a valid UUID."),
        ({"user_id": ""}, "user_id: Enter a valid UUID."),
        ({"client_id": ""}, "user_id: Enter a valid UUID."),
        ({"course_status": ""}, "course_status: Select a valid choice."),
        ({"course_id": "", "fetch_all": True}, "course_id: Enter a valid UUID."),
    ],
    ids=[
        "course_id empty",
        "course_id blank",
        "user_id empty",
        "client_id empty",
        "status empty",
        "fetch_all",
    ],
)
def test_an_empty_filter_value_is_bad_user_input_not_no_filter(api, key, variables, says):
    """As any other malformed id or unknown status (docs/api.md: "An invalid value is
    `BAD_USER_INPUT`"). django-filter reads "" (and " ", stripped) as no value and skips the
    filter: `course_id: ""` listed, counted and fetched every membership the caller may see."""
    EnrollmentFactory(course=CourseFactory())
    EnrollmentFactory(course=CourseFactory())
    body = api.post(BY_IDS, variables, key=key)
    assert error_codes(body) == ["BAD_USER_INPUT"], body
    assert says in body["errors"][0]["message"]
    assert body["data"] is None


def test_the_filterset_refuses_a_blank_filter_whatever_reads_it():
    """At the FilterSet's depth, not the API's: any door filtering with it refuses the same;
    an absent filter stays no filter, and a value with no blank is read as before."""
    for data in ({"course_id": ""}, {"user_id": "  "}, {"course_status": ""}):
        filterset = EnrollmentFilter(data=data, queryset=Enrollment.objects.all())
        assert not filterset.is_valid()
        assert list(filterset.errors) == list(data)
    enrollment = EnrollmentFactory()
    for data in ({}, {"course_id": f" {enrollment.course_id} "}, {"is_paused": False}):
        filterset = EnrollmentFilter(data=data, queryset=Enrollment.objects.all())
        assert filterset.is_valid(), filterset.errors
        assert list(filterset.qs) == [enrollment]


def test_datetime_without_offset_is_refused(api, key):
    body = api.post(LIST, {"ended_before": "2026-01-01T00:00:00"}, key=key)
    assert error_codes(body) == ["GRAPHQL_VALIDATION_FAILED"]
    assert "no UTC offset" in body["errors"][0]["message"]


@pytest.mark.parametrize(
    "value",
    # Valid ISO 8601 with an offset, but year 0 and year 10000 in UTC.
    ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"],
)
@pytest.mark.parametrize("sent_as", ["variable", "literal"])
@pytest.mark.parametrize("who", ["anonymous", "key"])
def test_a_datetime_out_of_range_in_utc_is_refused_not_a_server_error(
    api, key, value, sent_as, who
):
    """As a literal, the overflow escaped the scalar's parsing as an OverflowError: an
    INTERNAL_SERVER_ERROR with a logged traceback, for any caller, anonymous ones included
    (validation comes before authentication)."""
    if sent_as == "variable":
        body = api.post(LIST, {"ended_before": value}, key=key if who == "key" else None)
    else:
        document = f'{{ courseMemberships(ended_before: "{value}") {{ total_count }} }}'
        body = api.post(document, key=key if who == "key" else None)
    assert error_codes(body) == ["GRAPHQL_VALIDATION_FAILED"]
    # A literal is refused as any malformed literal is (graphql-core's wording, no reason).
    says = "out of range" if sent_as == "variable" else "Expected value of type 'ISO8601DateTime'"
    assert says in body["errors"][0]["message"]


def test_both_names_of_one_id_may_spell_it_in_either_case(api, key):
    """`client_id` and `user_id` name one argument: the same UUID in capitals is the same
    learner (the filter reads either case), not two ids that disagree."""
    enrollment = EnrollmentFactory()
    body = api.post(
        "query ($a: ID, $b: ID) { courseMemberships(client_id: $a, user_id: $b) { total_count } }",
        {"a": str(enrollment.user_id).upper(), "b": str(enrollment.user_id)},
        key=key,
    )
    assert "errors" not in body
    assert body["data"]["courseMemberships"]["total_count"] == 1
    other = EnrollmentFactory()
    body = api.post(
        "query ($a: ID, $b: ID) { courseMemberships(client_id: $a, user_id: $b) { total_count } }",
        {"a": str(enrollment.user_id), "b": str(other.user_id)},
        key=key,
    )
    assert error_codes(body) == ["BAD_USER_INPUT"]


def test_student_lists_only_their_own(api, make_key, states):
    student = states["active"].user
    EnrollmentFactory(user=student)  # a second course of theirs
    mine = set(student.enrollments.values_list("pk", flat=True))
    key = make_key(student)
    assert listed(api, key) == {str(pk) for pk in mine}
    # Filtering by someone else returns nothing rather than their rows.
    assert listed(api, key, user_id=str(states["expired"].user_id)) == set()


def test_membership_by_id_has_every_field(api, key, clock):
    course = CourseFactory(slug="with-items")
    items = [CourseItemFactory(course=course, position=p, title=f"part {p}") for p in (1, 2, 3)]
    enrollment = EnrollmentFactory(
        course=course,
        start_at=clock.current - timedelta(days=1),
        ended_at=clock.current + timedelta(days=1),
    )
    ItemCompletionFactory(enrollment=enrollment, item=items[0], completed_at=NOW)

    body = api.post(ONE, {"id": str(enrollment.pk)}, key=key)

    membership = body["data"]["courseMembership"]
    assert membership["id"] == str(enrollment.pk)
    assert membership["course_id"] == str(course.pk)
    assert membership["user_id"] == str(enrollment.user_id)
    assert membership["course_status"] == "in_progress"
    assert membership["is_paused"] is False
    assert membership["paused_at"] is None
    assert membership["start_at"] == "2025-12-31T00:00:00+00:00"
    assert membership["ended_at"] == "2026-01-02T00:00:00+00:00"
    assert membership["created_at"].endswith("+00:00")
    assert membership["total_paused_duration"] == 0
    assert membership["access_state"] == "ACTIVE"
    assert membership["has_access"] is True
    assert membership["completion_rate"] == pytest.approx(1 / 3)
    assert membership["course"] == {"slug": "with-items"}
    assert membership["user"] == {"email": enrollment.user.email}
    assert membership["next_incomplete_item"] == {"title": "part 2", "position": 2}
    assert membership["next_next_incomplete_item"] == {"title": "part 3", "position": 3}


def test_membership_by_course_and_user(api, key, enrollment):
    body = api.post(
        ONE, {"course_id": str(enrollment.course_id), "user_id": str(enrollment.user_id)}, key=key
    )
    assert body["data"]["courseMembership"]["id"] == str(enrollment.pk)


@pytest.mark.parametrize(
    ("variables", "code", "message"),
    [
        ({"id": "not-a-uuid"}, "NOT_FOUND", "Course membership not found"),
        ({"id": "00000000-0000-0000-0000-000000000000"}, "NOT_FOUND", None),
        (
            {"course_id": "00000000-0000-0000-0000-000000000000", "user_id": "x"},
            "NOT_ENROLLED",
            "Student is not enrolled in this course",
        ),
        (
            {},
            "BAD_USER_INPUT",
            "Pass either `id` (or `course_membership_id`), or `user_id` with one of `course_id` "
            "and `course_item_id`",
        ),
        ({"course_id": "00000000-0000-0000-0000-000000000000"}, "BAD_USER_INPUT", None),
    ],
)
def test_membership_lookup_errors(api, key, variables, code, message):
    body = api.post(ONE, variables, key=key)
    assert error_codes(body) == [code]
    if message:
        assert body["errors"][0]["message"] == message
    assert body["data"] == {"courseMembership": None}


def test_student_reads_own_membership_but_not_others(api, make_key, enrollment):
    other = EnrollmentFactory()
    key = make_key(enrollment.user)
    assert api.post(ONE, {"id": str(enrollment.pk)}, key=key)["data"]["courseMembership"]
    # Someone else's membership by id does not exist for a student...
    assert error_codes(api.post(ONE, {"id": str(other.pk)}, key=key)) == ["NOT_FOUND"]
    # ... and asking by someone else's user id is forbidden.
    body = api.post(
        ONE, {"course_id": str(other.course_id), "user_id": str(other.user_id)}, key=key
    )
    assert error_codes(body) == ["FORBIDDEN"]


def test_paused_membership_shows_when_it_was_paused(api, key, states):
    body = api.post(ONE, {"id": str(states["paused"].pk)}, key=key)
    membership = body["data"]["courseMembership"]
    assert membership["is_paused"] is True
    assert membership["paused_at"] == "2025-12-31T23:00:00+00:00"
    assert membership["access_state"] == "PAUSED"
    assert membership["has_access"] is False
