"""Business errors of mutations arrive in the payload (`errors` / `messages`: FieldError
{field message code}), the object null, HTTP 200, when the document selects that field; and
top-level, as before, when it does not. Everything else stays top-level."""

from datetime import timedelta

import pytest

from enrollments.models import AccessChange, Enrollment
from tests.factories import CourseItemFactory, EnrollmentFactory
from tests.graphql.conftest import error_codes

pytestmark = pytest.mark.django_db

EXTEND = """
mutation ($userId: String!, $courseId: String!, $extensionDays: Int, $newEndedAt: Int,
          $indefinite: Boolean, $reason: String) {
  extendStudentCourseAccess(userId: $userId, courseId: $courseId, extensionDays: $extensionDays,
                            newEndedAt: $newEndedAt, indefinite: $indefinite, reason: $reason) {
    enrollment { id endedAt }
    errors { field message code }
  }
}
"""

PAUSE = """
mutation ($id: ID!, $reason: String) {
  pauseCourseMembership(input: {id: $id, reason: $reason}) {
    courseMembership { id is_paused }
    messages { field message code }
  }
}
"""
RESUME = PAUSE.replace("pauseCourseMembership", "resumeCourseMembership")

COMPLETE = """
mutation ($item: ID!) {
  completeCourseItem(input: {course_item_id: $item}) {
    courseMembership { id }
    messages { field message code }
  }
}
"""


@pytest.fixture
def key(make_key, manager):
    return make_key(manager)


def ids(enrollment) -> dict[str, str]:
    return {"userId": str(enrollment.user_id), "courseId": str(enrollment.course_id)}


def payload_error(body, field: str, errors_field: str) -> dict:
    """The one business error of the payload, after checking the answer's shape."""
    assert "errors" not in body, body
    payload = body["data"][field]
    [error] = payload[errors_field]
    object_field = "enrollment" if errors_field == "errors" else "courseMembership"
    assert payload[object_field] is None
    return error


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"extensionDays": 0}, ("extensionDays", "Invalid extension period")),
        ({"extensionDays": -3}, ("extensionDays", "Invalid extension period")),
        ({"newEndedAt": 1}, ("newEndedAt", "Invalid extension period")),
        # newEndedAt takes precedence over extensionDays, so it is the one at fault.
        ({"newEndedAt": 1, "extensionDays": 5}, ("newEndedAt", "Invalid extension period")),
        ({}, (None, "Invalid extension period")),
        ({"extensionDays": 5, "reason": "x" * 1001}, ("reason", None)),
    ],
)
def test_extend_errors_name_the_argument_at_fault(api, key, enrollment, arguments, expected):
    before = Enrollment.objects.get(pk=enrollment.pk).ended_at
    body = api.post(EXTEND, {**ids(enrollment), **arguments}, key=key)
    assert api.last_response.status_code == 200
    error = payload_error(body, "extendStudentCourseAccess", "errors")
    field, message = expected
    assert error["field"] == field
    if message:
        assert error["message"] == message
    assert Enrollment.objects.get(pk=enrollment.pk).ended_at == before
    assert not AccessChange.objects.exists()


def test_the_contracts_three_errors_arrive_verbatim_in_errors(api, key, enrollment):
    unknown = {**ids(enrollment), "userId": "00000000-0000-0000-0000-000000000000"}
    body = api.post(EXTEND, {**unknown, "extensionDays": 5}, key=key)
    assert payload_error(body, "extendStudentCourseAccess", "errors") == {
        "field": None,
        "message": "Student is not enrolled in this course",
        "code": "NOT_ENROLLED",
    }
    body = api.post(EXTEND, {**ids(enrollment), "extensionDays": 0}, key=key)
    assert payload_error(body, "extendStudentCourseAccess", "errors")["code"] == (
        "INVALID_EXTENSION_PERIOD"
    )
    Enrollment.objects.filter(pk=enrollment.pk).update(ended_at=None)
    body = api.post(EXTEND, {**ids(enrollment), "extensionDays": 5}, key=key)
    assert payload_error(body, "extendStudentCourseAccess", "errors") == {
        "field": None,
        "message": "Current enrollment has no end date",
        "code": "NO_END_DATE",
    }


def test_a_success_has_an_empty_error_list(api, key, enrollment):
    body = api.post(EXTEND, {**ids(enrollment), "extensionDays": 5}, key=key)
    payload = body["data"]["extendStudentCourseAccess"]
    assert payload["errors"] == []
    assert payload["enrollment"]["id"] == str(enrollment.pk)


def test_pause_and_resume_errors_arrive_in_messages(api, key, enrollment):
    body = api.post(RESUME, {"id": str(enrollment.pk)}, key=key)
    assert payload_error(body, "resumeCourseMembership", "messages") == {
        "field": None,
        "message": "Course membership is not paused",
        "code": "NOT_PAUSED",
    }
    assert api.post(PAUSE, {"id": str(enrollment.pk)}, key=key)["data"]["pauseCourseMembership"][
        "courseMembership"
    ]["is_paused"]
    body = api.post(PAUSE, {"id": str(enrollment.pk)}, key=key)
    assert payload_error(body, "pauseCourseMembership", "messages")["code"] == "ALREADY_PAUSED"
    for unknown in ("00000000-0000-0000-0000-000000000000", "not-an-id"):
        body = api.post(PAUSE, {"id": unknown}, key=key)
        assert payload_error(body, "pauseCourseMembership", "messages") == {
            "field": "id",
            "message": "Course membership not found",
            "code": "NOT_FOUND",
        }
    body = api.post(RESUME, {"id": str(enrollment.pk), "reason": "\x00"}, key=key)
    error = payload_error(body, "resumeCourseMembership", "messages")
    assert (error["field"], error["code"]) == ("reason", "INVALID_REASON")
    assert Enrollment.objects.get(pk=enrollment.pk).is_paused  # the resume did nothing


def test_complete_item_errors_arrive_in_messages(api, make_key, enrollment):
    student_key = make_key(enrollment.user)
    body = api.post(COMPLETE, {"item": "00000000-0000-0000-0000-000000000000"}, key=student_key)
    error = payload_error(body, "completeCourseItem", "messages")
    assert (error["field"], error["code"]) == ("course_item_id", "NOT_FOUND")
    elsewhere = CourseItemFactory()
    body = api.post(COMPLETE, {"item": str(elsewhere.pk)}, key=student_key)
    error = payload_error(body, "completeCourseItem", "messages")
    assert (error["field"], error["code"]) == (None, "NOT_ENROLLED")


def test_without_the_errors_field_the_error_is_top_level_as_before(api, key, enrollment):
    document = EXTEND.replace("errors { field message code }", "")
    body = api.post(document, {**ids(enrollment), "extensionDays": 0}, key=key)
    assert api.last_response.status_code == 200
    assert error_codes(body) == ["INVALID_EXTENSION_PERIOD"]
    assert body["errors"][0]["message"] == "Invalid extension period"
    assert body["errors"][0]["path"] == ["extendStudentCourseAccess"]
    assert body["data"] == {"extendStudentCourseAccess": None}
    pause = PAUSE.replace("messages { field message code }", "")
    body = api.post(pause, {"id": "00000000-0000-0000-0000-000000000000"}, key=key)
    assert error_codes(body) == ["NOT_FOUND"]
    assert body["data"] == {"pauseCourseMembership": None}


@pytest.mark.parametrize(
    "selection",
    [
        "problems: errors { field message }",
        "...E",
        "... on ExtendStudentCourseAccessPayload { errors { message } }",
        "... @include(if: true) { errors { message } }",
    ],
    ids=["alias", "fragment", "inline-fragment", "include"],
)
def test_the_errors_field_counts_however_it_is_selected(api, key, enrollment, selection):
    document = (
        "mutation ($userId: String!, $courseId: String!) {"
        " extendStudentCourseAccess(userId: $userId, courseId: $courseId, extensionDays: 0) {"
        f" enrollment {{ id }} {selection} }} }}"
        " fragment E on ExtendStudentCourseAccessPayload { errors { message } }"
    )
    if selection != "...E":
        document = document.rsplit(" fragment", 1)[0]
    body = api.post(document, ids(enrollment), key=key)
    assert "errors" not in body, body
    payload = body["data"]["extendStudentCourseAccess"]
    [error] = payload.get("problems") or payload["errors"]
    assert error["message"] == "Invalid extension period"


def test_a_skipped_errors_field_is_not_selected(api, key, enrollment):
    document = """
    mutation ($userId: String!, $courseId: String!) {
      extendStudentCourseAccess(userId: $userId, courseId: $courseId, extensionDays: 0) {
        enrollment { id } errors @skip(if: true) { message }
      }
    }
    """
    body = api.post(document, ids(enrollment), key=key)
    assert error_codes(body) == ["INVALID_EXTENSION_PERIOD"]


def test_permission_and_authentication_stay_top_level(api, make_key, enrollment, student):
    document = EXTEND
    body = api.post(document, {**ids(enrollment), "extensionDays": 5}, key=make_key(student))
    assert error_codes(body) == ["FORBIDDEN"]
    assert body["data"] == {"extendStudentCourseAccess": None}
    body = api.post(document, {**ids(enrollment), "extensionDays": 5})
    assert error_codes(body) == ["UNAUTHENTICATED"]


def test_numbers_beyond_int_stay_top_level(api, key, enrollment):
    """Not a business outcome: the document cannot execute (a validation-time error)."""
    body = api.post(EXTEND, {**ids(enrollment), "extensionDays": 2**31}, key=key)
    assert error_codes(body) == ["INVALID_EXTENSION_PERIOD"]
    assert "data" not in body


def test_each_aliased_mutation_reports_its_own_outcome(api, key, enrollment):
    other = EnrollmentFactory(ended_at=None)
    document = f"""
    mutation {{
      ok: extendStudentCourseAccess(userId: "{enrollment.user_id}",
                                    courseId: "{enrollment.course_id}", extensionDays: 1) {{
        enrollment {{ id }} errors {{ code }}
      }}
      failed: extendStudentCourseAccess(userId: "{other.user_id}", courseId: "{other.course_id}",
                                        extensionDays: 1) {{
        enrollment {{ id }} errors {{ code }}
      }}
    }}
    """
    body = api.post(document, key=key)
    assert "errors" not in body
    assert body["data"]["ok"]["enrollment"]["id"] == str(enrollment.pk)
    assert body["data"]["failed"] == {"enrollment": None, "errors": [{"code": "NO_END_DATE"}]}
    assert Enrollment.objects.get(pk=enrollment.pk).ended_at == enrollment.ended_at + timedelta(
        days=1
    )
