"""A mutation's payload shows a learner's e-mail only to a caller who may read that learner.

The queries already keep to one rule (enrollments.graphql.permissions.may_read_learner): with
`view_enrollment`, everyone's memberships; without it, one's own only. A key holding only the
permission of a mutation (extend, pause, enroll...) used to read the e-mail of any learner it
changed in the payload (`user { email }`), and their name too when the learner has none (the
name falls back to the e-mail). Now such a caller gets the change applied and the payload with
`email: null` and the name without the fallback; a caller who may read the learner gets both.
"""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission

from enrollments.models import Enrollment
from tests.factories import CourseItemFactory, EnrollmentFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

STUDENT_COURSE_USER = "enrollment { id endedAt user { id name email } }"

EXTEND = f"""
mutation ($userId: String!, $courseId: String!) {{
  extendStudentCourseAccess(userId: $userId, courseId: $courseId, extensionDays: 30) {{
    {STUDENT_COURSE_USER} errors {{ message }}
  }}
}}
"""

EXPIRE = f"""
mutation ($userId: String!, $courseId: String!) {{
  expireStudentCourseAccess(userId: $userId, courseId: $courseId) {{
    {STUDENT_COURSE_USER} errors {{ message }}
  }}
}}
"""

REMOVE = f"""
mutation ($userId: String!, $courseId: String!) {{
  removeStudentFromCourse(userId: $userId, courseId: $courseId) {{
    {STUDENT_COURSE_USER} errors {{ message }}
  }}
}}
"""

ENROLL = f"""
mutation ($userId: String!, $courseId: String!) {{
  enrollStudentToCourse(userId: $userId, courseId: $courseId) {{
    {STUDENT_COURSE_USER} errors {{ message }}
  }}
}}
"""

MEMBERSHIP_USER = "courseMembership { id is_paused user { id name full_name email } }"

PAUSE = f"""
mutation ($id: ID!) {{
  pauseCourseMembership(input: {{id: $id}}) {{ {MEMBERSHIP_USER} messages {{ message }} }}
}}
"""

RESUME = PAUSE.replace("pauseCourseMembership", "resumeCourseMembership")

COMPLETE = f"""
mutation ($item: ID!) {{
  completeCourseItem(input: {{course_item_id: $item}}) {{ {MEMBERSHIP_USER} }}
}}
"""


def holding(*codenames: str):
    staff = StaffFactory()
    staff.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="enrollments", codename__in=codenames)
    )
    return staff


@pytest.fixture
def learner(db):
    return UserFactory(email="private.person@example.com", first_name="Pat", last_name="Doe")


@pytest.fixture
def nameless(db):
    """A placeholder learner (enrolled by e-mail alone): their name is their e-mail."""
    return UserFactory(email="nameless@example.com", first_name="", last_name="")


def membership_of(user, clock, **fields) -> Enrollment:
    return EnrollmentFactory(
        user=user,
        start_at=clock.current - timedelta(days=10),
        ended_at=clock.current + timedelta(days=30),
        **fields,
    )


def student_course_call(document: str, enrollment: Enrollment) -> tuple[str, dict]:
    return document, {"userId": str(enrollment.user_id), "courseId": str(enrollment.course_id)}


#: (mutation, the permission it needs, how to call it on an enrollment, the payload's path to
#: the user).
CASES = {
    "extend": ("extend_access", lambda e: student_course_call(EXTEND, e), "enrollment"),
    "expire": ("expire_access", lambda e: student_course_call(EXPIRE, e), "enrollment"),
    "remove": ("remove_from_course", lambda e: student_course_call(REMOVE, e), "enrollment"),
    "pause": ("pause_enrollment", lambda e: (PAUSE, {"id": str(e.pk)}), "courseMembership"),
}


def payload_user(body: dict, path: str) -> dict:
    assert "errors" not in body, body
    (payload,) = body["data"].values()
    assert not (payload.get("errors") or payload.get("messages")), payload
    return payload[path]["user"]


@pytest.mark.parametrize("mutation", sorted(CASES))
def test_a_caller_without_view_permission_gets_the_payload_without_the_email(
    api, make_key, clock, learner, mutation
):
    permission, call, path = CASES[mutation]
    enrollment = membership_of(learner, clock)
    key = make_key(holding(permission))
    before = Enrollment.objects.values().get(pk=enrollment.pk)

    user = payload_user(api.post(*call(enrollment), key=key), path)

    assert user["id"] == str(learner.pk)
    assert user["email"] is None
    assert user["name"] == "Pat Doe"
    assert "private.person" not in api.last_response.content.decode()
    assert Enrollment.objects.values().get(pk=enrollment.pk) != before  # the change applied


@pytest.mark.parametrize("mutation", sorted(CASES))
def test_a_caller_with_view_permission_gets_the_email(api, make_key, clock, learner, mutation):
    permission, call, path = CASES[mutation]
    enrollment = membership_of(learner, clock)
    key = make_key(holding(permission, "view_enrollment"))

    user = payload_user(api.post(*call(enrollment), key=key), path)

    assert user["email"] == "private.person@example.com"
    assert user["name"] == "Pat Doe"


def test_a_learner_without_a_name_is_not_named_by_their_email_to_such_a_caller(
    api, make_key, clock, nameless
):
    enrollment = membership_of(nameless, clock)

    body = api.post(
        *student_course_call(EXTEND, enrollment), key=make_key(holding("extend_access"))
    )

    assert payload_user(body, "enrollment") == {
        "id": str(nameless.pk),
        "name": "",
        "email": None,
    }
    assert "nameless@" not in api.last_response.content.decode()


def test_pause_and_resume_payloads_hide_name_and_full_name_fallbacks(
    api, make_key, clock, nameless
):
    enrollment = membership_of(nameless, clock)
    key = make_key(holding("pause_enrollment"))

    for document in (PAUSE, RESUME):
        user = payload_user(
            api.post(document, {"id": str(enrollment.pk)}, key=key), "courseMembership"
        )
        assert user == {"id": str(nameless.pk), "name": "", "full_name": "", "email": None}
    assert "nameless@" not in api.last_response.content.decode()


def test_enrolling_by_id_does_not_reveal_the_email(api, make_key, clock, learner):
    course = EnrollmentFactory().course  # a course the learner is not in
    key = make_key(holding("enroll_learners"))

    body = api.post(ENROLL, {"userId": str(learner.pk), "courseId": str(course.pk)}, key=key)

    assert payload_user(body, "enrollment")["email"] is None
    assert Enrollment.objects.filter(user=learner, course=course).exists()


def test_a_caller_changing_their_own_membership_sees_their_own_email(api, make_key, clock):
    """Without view permission the queries show one's own memberships: the payloads too."""
    staff = holding("extend_access")
    staff.first_name, staff.last_name = "", ""
    staff.save()
    enrollment = membership_of(staff, clock)

    user = payload_user(
        api.post(*student_course_call(EXTEND, enrollment), key=make_key(staff)), "enrollment"
    )

    assert user["email"] == staff.email
    assert user["name"] == staff.email


def test_a_learner_completing_an_item_sees_their_own_email(api, make_key, clock, learner):
    enrollment = membership_of(learner, clock)
    item = CourseItemFactory(course=enrollment.course, position=1)

    body = api.post(COMPLETE, {"item": str(item.pk)}, key=make_key(learner))

    assert payload_user(body, "courseMembership")["email"] == "private.person@example.com"


def test_the_queries_keep_the_same_rule(api, make_key, clock, learner):
    """The rule the payloads follow is the queries': another learner's membership is not
    listed without view permission, one's own is, e-mail included."""
    other = membership_of(learner, clock)
    extender = holding("extend_access")
    own = membership_of(extender, clock)
    document = "{ courseMemberships(first: 10) { nodes { id user { email } } } }"

    body = api.post(document, key=make_key(extender))

    nodes = body["data"]["courseMemberships"]["nodes"]
    assert [node["id"] for node in nodes] == [str(own.pk)]
    assert nodes[0]["user"]["email"] == extender.email
    assert str(other.pk) not in str(body)
