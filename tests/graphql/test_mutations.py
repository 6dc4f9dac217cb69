"""The mutations: thin over the operation core, domain errors with their code, nothing changed on
error, audit rows with source graphql and the request's user as actor."""

from datetime import timedelta

import pytest

from enrollments.access_window import MAX_ENDED_AT
from enrollments.models import AccessChange, Enrollment, ItemCompletion
from tests.factories import CourseItemFactory, EnrollmentFactory
from tests.graphql.conftest import error_codes
from tests.graphql.documents import EXTEND, PAUSE, RESUME

pytestmark = pytest.mark.django_db

COMPLETE = """
mutation ($item: ID!) {
  completeCourseItem(input: {course_item_id: $item}) {
    courseMembership { id course_status completion_rate next_incomplete_item { id } }
  }
}
"""


@pytest.fixture
def key(make_key, manager):
    return make_key(manager)


def extend(api, key, enrollment, **arguments):
    variables = {"userId": str(enrollment.user_id), "courseId": str(enrollment.course_id)}
    return api.post(EXTEND, {**variables, **arguments}, key=key)


def unix(value) -> int:
    return int(value.timestamp())


def test_extend_by_days(api, key, enrollment, manager):
    old_end = enrollment.ended_at
    body = extend(api, key, enrollment, extensionDays=10, reason="support ticket 42")
    data = body["data"]["extendStudentCourseAccess"]["enrollment"]
    assert data["endedAt"] == unix(old_end + timedelta(days=10))
    assert data["id"] == str(enrollment.pk)
    assert data["course"]["id"] == str(enrollment.course_id)
    assert data["user"]["email"] == enrollment.user.email
    enrollment.refresh_from_db()
    assert enrollment.ended_at == old_end + timedelta(days=10)
    assert data["updatedAt"] == unix(enrollment.updated_at)
    audit = AccessChange.objects.get(enrollment=enrollment)
    assert (audit.action, audit.source, audit.actor, audit.reason) == (
        AccessChange.Action.EXTEND,
        AccessChange.Source.GRAPHQL,
        manager,
        "support ticket 42",
    )


def test_new_ended_at_wins_over_days_and_indefinite_over_both(api, key, enrollment, clock):
    target = clock.current + timedelta(days=100)
    body = extend(api, key, enrollment, extensionDays=5, newEndedAt=unix(target))
    assert body["data"]["extendStudentCourseAccess"]["enrollment"]["endedAt"] == unix(target)
    body = extend(api, key, enrollment, extensionDays=5, newEndedAt=unix(target), indefinite=True)
    assert body["data"]["extendStudentCourseAccess"]["enrollment"]["endedAt"] is None
    assert Enrollment.objects.get(pk=enrollment.pk).ended_at is None


def test_indefinite_false_is_not_indefinite(api, key, enrollment):
    body = extend(api, key, enrollment, extensionDays=1, indefinite=False)
    assert body["data"]["extendStudentCourseAccess"]["enrollment"]["endedAt"] is not None


@pytest.mark.parametrize(
    "arguments",
    [
        {},
        {"extensionDays": 0},
        {"extensionDays": -5},
        {"extensionDays": 2_000_000_000},  # past the 2038 limit of a 32-bit endedAt
        {"newEndedAt": 0},  # in the past
        {"newEndedAt": -2_147_483_648},
    ],
)
def test_invalid_periods_are_the_contracts_error_and_change_nothing(
    api, key, enrollment, arguments
):
    before = Enrollment.objects.get(pk=enrollment.pk)
    body = extend(api, key, enrollment, **arguments)
    assert body["errors"][0]["message"] == "Invalid extension period"
    assert error_codes(body) == ["INVALID_EXTENSION_PERIOD"]
    assert body["data"] == {"extendStudentCourseAccess": None}
    after = Enrollment.objects.get(pk=enrollment.pk)
    assert (after.ended_at, after.updated_at) == (before.ended_at, before.updated_at)
    assert not AccessChange.objects.exists()


def test_the_latest_representable_end_is_accepted(api, key, enrollment):
    body = extend(api, key, enrollment, newEndedAt=2_147_483_647)
    assert body["data"]["extendStudentCourseAccess"]["enrollment"]["endedAt"] == 2_147_483_647
    assert Enrollment.objects.get(pk=enrollment.pk).ended_at == MAX_ENDED_AT


@pytest.mark.parametrize("argument", ["extensionDays", "newEndedAt"])
@pytest.mark.parametrize("number", [2**31, -(2**31) - 1, 10**30])
def test_numbers_beyond_graphql_int_are_an_invalid_extension_period(
    api, key, enrollment, argument, number
):
    body = extend(api, key, enrollment, **{argument: number})
    assert error_codes(body) == ["INVALID_EXTENSION_PERIOD"]
    assert body["errors"][0]["message"] == "Invalid extension period"
    assert api.last_response.status_code == 200  # application/json: a well-formed request
    assert not AccessChange.objects.exists()


def test_literal_out_of_range_number_in_the_document_too(api, key, enrollment):
    body = api.post(
        f'mutation {{ extendStudentCourseAccess(userId: "{enrollment.user_id}", '
        f'courseId: "{enrollment.course_id}", newEndedAt: 99999999999) '
        "{ enrollment { id } } }",
        key=key,
    )
    assert error_codes(body) == ["INVALID_EXTENSION_PERIOD"]
    assert body["errors"][0]["extensions"]["detail"] == "newEndedAt is out of range"
    assert not AccessChange.objects.exists()


@pytest.mark.parametrize("supplied", [False, True], ids=["default", "supplied-in-range"])
def test_an_out_of_range_default_of_a_variable_too(api, key, enrollment, supplied):
    """`$d: Int = 99999999999` left out took GraphQL's generic validation error, where the
    same number as a literal or a variable is the contract's invalid extension period. A
    value supplied for the variable is what the request runs with, so the default is not
    used and is not the error (graphql-core refuses it as an invalid default)."""
    body = api.post(
        "mutation ($d: Int = 99999999999) { extendStudentCourseAccess("
        f'userId: "{enrollment.user_id}", courseId: "{enrollment.course_id}", '
        "extensionDays: $d) { enrollment { id } } }",
        {"d": 5} if supplied else None,
        key=key,
    )
    if supplied:
        assert error_codes(body) == ["GRAPHQL_VALIDATION_FAILED"]
    else:
        assert error_codes(body) == ["INVALID_EXTENSION_PERIOD"]
        assert body["errors"][0]["extensions"]["detail"] == "extensionDays is out of range"
    assert not AccessChange.objects.exists()


@pytest.mark.parametrize(
    "document",
    [
        "mutation { ...F } fragment F on Mutation { extendStudentCourseAccess(%s) "
        "{ enrollment { id } } }",
        "mutation { ... on Mutation { extendStudentCourseAccess(%s) { enrollment { id } } } }",
        "mutation { ...F } fragment F on Mutation { ...G } fragment G on Mutation { "
        "extendStudentCourseAccess(%s) { enrollment { id } } }",
    ],
    ids=["fragment", "inline-fragment", "nested-fragments"],
)
@pytest.mark.parametrize("as_variable", [False, True], ids=["literal", "variable"])
def test_out_of_range_number_through_a_fragment_too(api, key, enrollment, document, as_variable):
    arguments = f'userId: "{enrollment.user_id}", courseId: "{enrollment.course_id}", '
    arguments += "newEndedAt: $at" if as_variable else "newEndedAt: 99999999999"
    document = document % arguments
    if as_variable:
        document = document.replace("mutation {", "mutation ($at: Int) {", 1)
    body = api.post(document, {"at": 99999999999} if as_variable else None, key=key)
    assert error_codes(body) == ["INVALID_EXTENSION_PERIOD"]
    assert body["errors"][0]["message"] == "Invalid extension period"
    assert body["errors"][0]["extensions"]["detail"] == "newEndedAt is out of range"
    assert api.last_response.status_code == 200
    assert not AccessChange.objects.exists()


def test_an_out_of_range_number_of_another_field_is_left_to_graphql(api, key):
    body = api.post("{ courseMemberships(first: 99999999999) { totalCount } }", key=key)
    assert set(error_codes(body)) == {"GRAPHQL_VALIDATION_FAILED"}


def test_extending_indefinite_access_by_days_is_no_end_date(api, key, clock):
    enrollment = EnrollmentFactory(start_at=clock.current, ended_at=None)
    body = extend(api, key, enrollment, extensionDays=3)
    assert body["errors"][0]["message"] == "Current enrollment has no end date"
    assert error_codes(body) == ["NO_END_DATE"]


@pytest.mark.parametrize(
    "ids",
    [
        {"userId": "not-a-uuid"},
        {"courseId": "00000000-0000-0000-0000-000000000000"},
        {"userId": "", "courseId": ""},
        {"userId": "x" * 10_000},
    ],
)
def test_unknown_or_malformed_ids_are_not_enrolled(api, key, enrollment, ids):
    body = extend(api, key, enrollment, extensionDays=1, **ids)
    assert body["errors"][0]["message"] == "Student is not enrolled in this course"
    assert error_codes(body) == ["NOT_ENROLLED"]
    assert not AccessChange.objects.exists()


def test_a_too_long_reason_is_invalid_reason(api, key, enrollment):
    body = extend(api, key, enrollment, extensionDays=1, reason="x" * 1001)
    assert error_codes(body) == ["INVALID_REASON"]
    assert body["errors"][0]["message"] == (
        "A reason is at most 1000 characters of valid text and contains no NUL character"
    )
    assert not AccessChange.objects.exists()


def test_pause_then_resume(api, key, enrollment, clock, manager):
    body = api.post(PAUSE, {"id": str(enrollment.pk), "reason": "sick leave"}, key=key)
    paused = body["data"]["pauseCourseMembership"]["courseMembership"]
    assert paused["is_paused"] is True
    assert paused["paused_at"] == clock.current.isoformat()
    assert paused["access_state"] == "PAUSED"

    clock.advance(days=2)
    body = api.post(RESUME, {"id": str(enrollment.pk)}, key=key)
    resumed = body["data"]["resumeCourseMembership"]["courseMembership"]
    assert resumed["is_paused"] is False
    assert resumed["paused_at"] is None
    assert resumed["total_paused_duration"] == 2 * 86400
    # The course freezes access while paused: the two days come back at the end.
    assert resumed["ended_at"] == (enrollment.ended_at + timedelta(days=2)).isoformat()
    actions = AccessChange.objects.filter(enrollment=enrollment).order_by("created_at")
    assert [(a.action, a.source, a.actor) for a in actions] == [
        (AccessChange.Action.PAUSE, AccessChange.Source.GRAPHQL, manager),
        (AccessChange.Action.RESUME, AccessChange.Source.GRAPHQL, manager),
    ]
    assert actions[0].reason == "sick leave"


def test_pause_twice_is_already_paused_and_resume_unpaused_is_not_paused(api, key, enrollment):
    api.post(PAUSE, {"id": str(enrollment.pk)}, key=key)
    body = api.post(PAUSE, {"id": str(enrollment.pk)}, key=key)
    assert error_codes(body) == ["ALREADY_PAUSED"]
    assert body["errors"][0]["message"] == "Course membership is already paused"
    api.post(RESUME, {"id": str(enrollment.pk)}, key=key)
    body = api.post(RESUME, {"id": str(enrollment.pk)}, key=key)
    assert error_codes(body) == ["NOT_PAUSED"]
    assert AccessChange.objects.filter(enrollment=enrollment).count() == 2


@pytest.mark.parametrize("document", [PAUSE, RESUME])
@pytest.mark.parametrize("bad_id", ["nope", "00000000-0000-0000-0000-000000000000"])
def test_pause_resume_unknown_membership_is_not_found(api, key, document, bad_id):
    body = api.post(document, {"id": bad_id}, key=key)
    assert error_codes(body) == ["NOT_FOUND"]


def test_student_completes_an_item_of_their_own_course(api, make_key, enrollment):
    first = CourseItemFactory(course=enrollment.course, position=1)
    second = CourseItemFactory(course=enrollment.course, position=2)
    key = make_key(enrollment.user)
    body = api.post(COMPLETE, {"item": str(first.pk)}, key=key)
    membership = body["data"]["completeCourseItem"]["courseMembership"]
    assert membership["id"] == str(enrollment.pk)
    assert membership["course_status"] == "in_progress"
    assert membership["completion_rate"] == 0.5
    assert membership["next_incomplete_item"] == {"id": str(second.pk)}
    # Idempotent.
    api.post(COMPLETE, {"item": str(first.pk)}, key=key)
    assert ItemCompletion.objects.filter(enrollment=enrollment).count() == 1


def test_completing_needs_an_enrollment_in_the_items_course(api, make_key, enrollment):
    elsewhere = CourseItemFactory()
    key = make_key(enrollment.user)
    body = api.post(COMPLETE, {"item": str(elsewhere.pk)}, key=key)
    assert error_codes(body) == ["NOT_ENROLLED"]
    for missing in ("00000000-0000-0000-0000-000000000000", "garbage"):
        body = api.post(COMPLETE, {"item": missing}, key=key)
        assert error_codes(body) == ["NOT_FOUND"]
        assert body["errors"][0]["message"] == "Course item not found"
    assert not ItemCompletion.objects.exists()


def test_completing_while_paused_is_no_access(api, make_key, clock):
    enrollment = EnrollmentFactory(
        start_at=clock.current - timedelta(days=1),
        ended_at=clock.current + timedelta(days=1),
        is_paused=True,
        paused_at=clock.current,
    )
    item = CourseItemFactory(course=enrollment.course)
    body = api.post(COMPLETE, {"item": str(item.pk)}, key=make_key(enrollment.user))
    assert error_codes(body) == ["NO_ACCESS"]
    assert not ItemCompletion.objects.exists()


def test_a_failing_mutation_leaves_the_others_of_its_document_alone(api, key, enrollment):
    # Each mutation runs its own core transaction; one failing does not undo another.
    other = EnrollmentFactory(start_at=enrollment.start_at, ended_at=enrollment.ended_at)
    body = api.post(
        f"""mutation {{
          ok: pauseCourseMembership(input: {{id: "{other.pk}"}}) {{ courseMembership {{ id }} }}
          bad: resumeCourseMembership(input: {{id: "{enrollment.pk}"}}) {{
            courseMembership {{ id }} }}
        }}""",
        key=key,
    )
    assert body["data"]["ok"]["courseMembership"]["id"] == str(other.pk)
    assert body["data"]["bad"] is None
    assert error_codes(body) == ["NOT_PAUSED"]
    assert Enrollment.objects.get(pk=other.pk).is_paused is True
