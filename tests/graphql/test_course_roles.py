"""Course roles through the API (issue 25): a course's staff and managers read and change their
courses' memberships only, by session and by API key alike.

The project's choice (docs/api.md, "Course roles and scope"): a membership outside the caller's
scope answers exactly as one that does not exist (NOT_FOUND, NOT_ENROLLED, BATCH_NOT_FOUND,
"Course not found"), payload errors included, with the same `field`; a caller holding the
permission in no course at all is FORBIDDEN, as before roles existed. Each refusal is compared
with the answer to a target that does not exist, body for body, and nothing is written.
"""

import uuid
from datetime import timedelta

import pytest
from django.test import Client

from enrollments.models import AccessChange, Enrollment
from enrollments.operations import Pause, Selection, apply
from enrollments.operations.audit import Attribution
from lms.models import Course, CourseRole, User
from tests.commands.conftest import snapshot
from tests.factories import CourseFactory, CourseRoleFactory, EnrollmentFactory, UserFactory
from tests.graphql.conftest import Api, error_codes, grant

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)
SYSTEM = Attribution(None, AccessChange.Source.SYSTEM)

LIST = """
query ($course_id: ID, $user_id: ID, $access_state: AccessState, $fetch_all: Boolean,
       $first: Int) {
  courseMemberships(course_id: $course_id, user_id: $user_id, access_state: $access_state,
                    fetch_all: $fetch_all, first: $first) {
    total_count
    nodes { id course_id user { email } }
  }
}
"""

ONE = """
query ($id: ID, $course_id: ID, $user_id: ID) {
  courseMembership(id: $id, course_id: $course_id, user_id: $user_id) {
    id course_id user { email }
  }
}
"""

EXTEND = """
mutation ($userId: String!, $courseId: String!, $extensionDays: Int, $newEndedAt: Int,
          $indefinite: Boolean, $reason: String) {
  extendStudentCourseAccess(userId: $userId, courseId: $courseId, extensionDays: $extensionDays,
                            newEndedAt: $newEndedAt, indefinite: $indefinite, reason: $reason) {
    enrollment { id endedAt user { email } }
    errors { field message code }
  }
}
"""

# The same without `errors`: a business error then arrives top-level.
EXTEND_WITHOUT_ERRORS = EXTEND.replace("    errors { field message code }\n", "")

PAUSE = """
mutation ($id: ID!, $reason: String) {
  pauseCourseMembership(input: {id: $id, reason: $reason}) {
    courseMembership { id is_paused user { email } }
    messages { field message code }
  }
}
"""

RESUME = PAUSE.replace("pauseCourseMembership", "resumeCourseMembership")

EXPIRE = """
mutation ($userId: String!, $courseId: String!, $reason: String) {
  expireStudentCourseAccess(userId: $userId, courseId: $courseId, reason: $reason) {
    enrollment { id endedAt }
    errors { field message code }
  }
}
"""

REMOVE = """
mutation ($userId: String!, $courseId: String!) {
  removeStudentFromCourse(userId: $userId, courseId: $courseId) {
    enrollment { id }
    errors { field message code }
  }
}
"""

ENROLL = """
mutation ($courseId: String!, $userId: String, $email: String, $name: String) {
  enrollStudentToCourse(courseId: $courseId, userId: $userId, email: $email, name: $name) {
    enrollment { id course { id } user { email } }
    errors { field message code }
  }
}
"""

UNDO = """
mutation ($batchId: ID!) {
  undoAccessChangeBatch(batchId: $batchId) {
    batchId undoneCount
    errors { field message code }
  }
}
"""


class Caller:
    """Posts documents as one user, signed in by session or by API key, from a client of its
    own (two callers of one test never share a session)."""

    def __init__(self, user: User, how: str, make_key) -> None:
        self.user = user
        self.api = Api(Client())
        self.key = None
        if how == "session":
            self.api.client.force_login(user)
        else:
            self.key = make_key(user)

    def __call__(self, document: str, variables: dict | None = None) -> dict:
        return self.api.post(document, variables, key=self.key)

    def payload(self, document: str, name: str, variables: dict) -> dict:
        body = self(document, variables)
        assert "errors" not in body, body
        return body["data"][name]


@pytest.fixture(params=["session", "key"])
def as_user(request, make_key):
    """`as_user(user)`: a Caller for `user`, once by session and once by API key."""
    return lambda user: Caller(user, request.param, make_key)


@pytest.fixture
def world(clock):
    """Courses A and B, two learners in A and one in B, all ending in 30 days; a staff member
    of A (who is also a learner of course C) and a manager of A, by course roles alone."""
    a, b, c = CourseFactory(slug="a"), CourseFactory(slug="b"), CourseFactory(slug="c")
    start, end = clock.current - 10 * DAY, clock.current + 30 * DAY
    staff = CourseRoleFactory(course=a, role=CourseRole.Role.STAFF).user
    manager = CourseRoleFactory(course=a, role=CourseRole.Role.MANAGER).user

    def enroll(course, user=None):
        return EnrollmentFactory(
            course=course, user=user or UserFactory(), start_at=start, ended_at=end
        )

    return {
        "a": a,
        "b": b,
        "a1": enroll(a),
        "a2": enroll(a),
        "b1": enroll(b),
        "own": enroll(c, staff),
        "staff": staff,
        "manager": manager,
        "nobody": UserFactory(),  # enrolled nowhere: the target that does not exist
    }


def ids(rows) -> set[str]:
    return {str(row.pk) for row in rows}


def pair(row: Enrollment) -> dict:
    return {"userId": str(row.user_id), "courseId": str(row.course_id)}


def missing_pair(world, course: Course) -> dict:
    return {"userId": str(world["nobody"].pk), "courseId": str(course.pk)}


def set_limits(course: Course, **limits) -> None:
    Course.objects.filter(pk=course.pk).update(**limits)


# --- reads ---------------------------------------------------------------------------------------


class TestReads:
    def test_the_list_holds_the_courses_memberships_and_ones_own(self, world, as_user):
        data = as_user(world["staff"]).payload(LIST, "courseMemberships", {})
        assert {node["id"] for node in data["nodes"]} == ids(
            [world["a1"], world["a2"], world["own"]]
        )
        assert data["total_count"] == 3
        # Their course's learners are readable, e-mail included.
        emails = {node["user"]["email"] for node in data["nodes"]}
        assert world["a1"].user.email in emails

    @pytest.mark.parametrize(
        "variables, expected",
        [
            ({"course_id": "a"}, ["a1", "a2"]),
            ({"course_id": "b"}, []),
            ({"user_id": "b1"}, []),
            ({"user_id": "a1"}, ["a1"]),
            ({"access_state": "ACTIVE"}, ["a1", "a2", "own"]),
            ({"fetch_all": True}, ["a1", "a2", "own"]),
        ],
    )
    def test_filters_and_counts_stay_within_the_scope(self, world, as_user, variables, expected):
        resolved = {}
        for name, value in variables.items():
            if name == "course_id":
                value = str(world[value].pk)
            elif name == "user_id":
                value = str(world[value].user_id)
            resolved[name] = value
        data = as_user(world["staff"]).payload(LIST, "courseMemberships", resolved)
        assert {node["id"] for node in data["nodes"]} == ids(world[name] for name in expected)
        assert data["total_count"] == len(expected)

    def test_one_membership_of_the_course_by_id_and_by_course_and_user(self, world, as_user):
        call = as_user(world["staff"])
        a1 = world["a1"]
        by_id = call.payload(ONE, "courseMembership", {"id": str(a1.pk)})
        by_pair = call.payload(
            ONE, "courseMembership", {"course_id": str(a1.course_id), "user_id": str(a1.user_id)}
        )
        assert (
            by_id
            == by_pair
            == {
                "id": str(a1.pk),
                "course_id": str(a1.course_id),
                "user": {"email": a1.user.email},
            }
        )

    def test_another_courses_membership_by_id_answers_as_a_missing_one(self, world, as_user):
        call = as_user(world["staff"])
        outside = call(ONE, {"id": str(world["b1"].pk)})
        missing = call(ONE, {"id": str(uuid.uuid4())})
        assert outside == missing
        assert error_codes(outside) == ["NOT_FOUND"]
        assert outside["data"] == {"courseMembership": None}

    def test_another_courses_membership_by_course_and_user_answers_as_a_missing_one(
        self, world, as_user
    ):
        call = as_user(world["staff"])
        b1 = world["b1"]
        outside = call(ONE, {"course_id": str(b1.course_id), "user_id": str(b1.user_id)})
        missing = call(ONE, {"course_id": str(b1.course_id), "user_id": str(world["nobody"].pk)})
        assert outside == missing
        assert error_codes(outside) == ["NOT_ENROLLED"]  # not FORBIDDEN: they may ask by user

    def test_a_user_with_no_role_and_no_permission_sees_their_own_only(self, world, as_user):
        learner = world["a1"].user
        call = as_user(learner)
        data = call.payload(LIST, "courseMemberships", {})
        assert {node["id"] for node in data["nodes"]} == ids([world["a1"]])
        b1 = world["b1"]
        by_user = call(ONE, {"course_id": str(b1.course_id), "user_id": str(b1.user_id)})
        assert error_codes(by_user) == ["FORBIDDEN"]  # as before roles existed

    def test_a_global_viewer_still_sees_every_course(self, world, as_user):
        viewer = UserFactory()
        grant(viewer, "view")
        data = as_user(viewer).payload(LIST, "courseMemberships", {})
        assert data["total_count"] == 4


# --- staff of course A: extend, pause and resume there, nowhere else ---------------------------


class TestStaff:
    def test_extends_in_their_course(self, world, as_user, clock):
        a1 = world["a1"]
        call = as_user(world["staff"])
        data = call.payload(EXTEND, "extendStudentCourseAccess", {**pair(a1), "extensionDays": 7})
        assert data["errors"] == []
        a1.refresh_from_db()
        assert a1.ended_at == clock.current + 37 * DAY
        assert data["enrollment"]["user"]["email"] == a1.user.email  # they may read them
        change = AccessChange.objects.get(enrollment=a1)
        assert (change.actor_id, change.source) == (world["staff"].pk, AccessChange.Source.GRAPHQL)

    def test_extending_in_another_course_answers_as_a_missing_enrollment(self, world, as_user):
        call = as_user(world["staff"])
        before = snapshot()
        outside = call(EXTEND, {**pair(world["b1"]), "extensionDays": 7})
        missing = call(EXTEND, {**missing_pair(world, world["b"]), "extensionDays": 7})
        assert outside == missing
        errors = outside["data"]["extendStudentCourseAccess"]["errors"]
        assert [(e["code"], e["field"]) for e in errors] == [("NOT_ENROLLED", None)]
        assert snapshot() == before

    def test_one_who_also_views_everything_still_extends_only_in_their_course(self, world, as_user):
        staff = world["staff"]
        grant(staff, "view")
        call = as_user(User.objects.get(pk=staff.pk))
        assert call.payload(LIST, "courseMemberships", {})["total_count"] == 4
        before = snapshot()
        body = call(EXTEND, {**pair(world["b1"]), "extensionDays": 7})
        assert body["data"]["extendStudentCourseAccess"]["errors"][0]["code"] == "NOT_ENROLLED"
        assert snapshot() == before

    def test_pauses_and_resumes_in_their_course(self, world, as_user):
        a1 = world["a1"]
        call = as_user(world["staff"])
        paused = call.payload(PAUSE, "pauseCourseMembership", {"id": str(a1.pk)})
        assert paused["messages"] == []
        assert paused["courseMembership"]["is_paused"] is True
        assert paused["courseMembership"]["user"]["email"] == a1.user.email
        resumed = call.payload(RESUME, "resumeCourseMembership", {"id": str(a1.pk)})
        assert resumed["messages"] == []
        assert resumed["courseMembership"]["is_paused"] is False

    @pytest.mark.parametrize("document", [PAUSE, RESUME], ids=["pause", "resume"])
    def test_pausing_or_resuming_in_another_course_answers_as_a_missing_one(
        self, world, as_user, document
    ):
        b1 = world["b1"]
        if document is RESUME:
            apply(Pause(), Selection.named([b1.pk]), SYSTEM)
        call = as_user(world["staff"])
        before = snapshot()
        outside = call(document, {"id": str(b1.pk)})
        missing = call(document, {"id": str(uuid.uuid4())})
        assert outside == missing
        (name,) = outside["data"]
        errors = outside["data"][name]["messages"]
        assert [(e["code"], e["field"]) for e in errors] == [("NOT_FOUND", "id")]
        assert snapshot() == before

    @pytest.mark.parametrize(
        "document", [EXPIRE, REMOVE, ENROLL, UNDO], ids=["expire", "remove", "enroll", "undo"]
    )
    def test_what_staff_may_not_do_is_forbidden_as_for_one_without_permission(
        self, world, as_user, document
    ):
        a1 = world["a1"]
        variables = {
            EXPIRE: pair(a1),
            REMOVE: pair(a1),
            ENROLL: {"courseId": str(a1.course_id), "userId": str(world["nobody"].pk)},
            UNDO: {"batchId": str(uuid.uuid4())},
        }[document]
        before = snapshot()
        staff_body = as_user(world["staff"])(document, variables)
        plain_body = as_user(UserFactory())(document, variables)
        assert staff_body == plain_body
        assert error_codes(staff_body) == ["FORBIDDEN"]
        assert snapshot() == before


# --- manager of course A: every lifecycle operation there, nowhere else ------------------------


class TestManager:
    def test_ends_access_in_their_course_and_not_in_another(self, world, as_user, clock):
        call = as_user(world["manager"])
        done = call.payload(EXPIRE, "expireStudentCourseAccess", pair(world["a1"]))
        assert done["errors"] == []
        world["a1"].refresh_from_db()
        assert world["a1"].ended_at == clock.current
        before = snapshot()
        outside = call(EXPIRE, pair(world["b1"]))
        missing = call(EXPIRE, missing_pair(world, world["b"]))
        assert outside == missing
        errors = outside["data"]["expireStudentCourseAccess"]["errors"]
        assert [(e["code"], e["field"]) for e in errors] == [("NOT_ENROLLED", "userId")]
        assert snapshot() == before

    def test_removes_in_their_course_and_not_in_another(self, world, as_user):
        call = as_user(world["manager"])
        done = call.payload(REMOVE, "removeStudentFromCourse", pair(world["a1"]))
        assert done["errors"] == []
        world["a1"].refresh_from_db()
        assert world["a1"].removed_at is not None
        before = snapshot()
        outside = call(REMOVE, pair(world["b1"]))
        missing = call(REMOVE, missing_pair(world, world["b"]))
        assert outside == missing
        assert outside["data"]["removeStudentFromCourse"]["errors"][0]["code"] == "NOT_ENROLLED"
        assert snapshot() == before

    def test_enrolls_in_their_course(self, world, as_user):
        learner = world["nobody"]
        call = as_user(world["manager"])
        done = call.payload(
            ENROLL,
            "enrollStudentToCourse",
            {"courseId": str(world["a"].pk), "userId": str(learner.pk)},
        )
        assert done["errors"] == []
        assert done["enrollment"]["user"]["email"] == learner.email
        assert Enrollment.objects.filter(user=learner, course=world["a"]).exists()

    @pytest.mark.parametrize("by", ["user id", "new e-mail"])
    def test_enrolling_in_another_course_answers_as_an_unknown_course(self, world, as_user, by):
        call = as_user(world["manager"])
        target = (
            {"userId": str(world["nobody"].pk)}
            if by == "user id"
            else {"email": "new-learner@example.com", "name": "New Learner"}
        )
        before, users = snapshot(), User.objects.count()
        outside = call(ENROLL, {"courseId": str(world["b"].pk), **target})
        unknown = call(ENROLL, {"courseId": str(uuid.uuid4()), **target})
        assert outside == unknown
        errors = outside["data"]["enrollStudentToCourse"]["errors"]
        assert [(e["code"], e["field"], e["message"]) for e in errors] == [
            ("NOT_FOUND", "courseId", "Course not found")
        ]
        assert snapshot() == before
        assert User.objects.count() == users  # no learner created either

    def test_undoes_a_batch_of_their_course_only(self, world, as_user):
        a1, b1 = world["a1"], world["b1"]
        in_a = apply(Pause(), Selection.named([a1.pk]), SYSTEM).batch_id
        in_b = apply(Pause(), Selection.named([b1.pk]), SYSTEM).batch_id
        both = apply(Pause(), Selection.named([world["a2"].pk, world["own"].pk]), SYSTEM).batch_id
        call = as_user(world["manager"])
        before = snapshot()
        missing = call(UNDO, {"batchId": str(uuid.uuid4())})
        for batch in (in_b, both):  # another course's, or one reaching outside theirs
            assert call(UNDO, {"batchId": str(batch)}) == missing
        errors = missing["data"]["undoAccessChangeBatch"]["errors"]
        assert [(e["code"], e["field"]) for e in errors] == [("BATCH_NOT_FOUND", "batchId")]
        assert snapshot() == before
        done = call.payload(UNDO, "undoAccessChangeBatch", {"batchId": str(in_a)})
        assert (done["errors"], done["undoneCount"]) == ([], 1)
        a1.refresh_from_db()
        assert a1.is_paused is False

    def test_is_not_limited_by_the_courses_staff_limits(self, world, as_user, clock):
        set_limits(world["a"], staff_max_extension_days=30, staff_reason_required=True)
        call = as_user(world["manager"])
        done = call.payload(
            EXTEND, "extendStudentCourseAccess", {**pair(world["a1"]), "extensionDays": 100}
        )
        assert done["errors"] == []
        world["a1"].refresh_from_db()
        assert world["a1"].ended_at == clock.current + 130 * DAY


# --- the course's limits on its staff ------------------------------------------------------------


class TestLimits:
    def test_an_extension_within_the_limit_is_made(self, world, as_user, clock):
        set_limits(world["a"], staff_max_extension_days=30)
        call = as_user(world["staff"])
        done = call.payload(
            EXTEND, "extendStudentCourseAccess", {**pair(world["a1"]), "extensionDays": 30}
        )
        assert done["errors"] == []
        world["a1"].refresh_from_db()
        assert world["a1"].ended_at == clock.current + 60 * DAY

    @pytest.mark.parametrize(
        "arguments, field",
        [
            ({"extensionDays": 31}, "extensionDays"),
            ({"newEndedAt": "61 days"}, "newEndedAt"),
            ({"newEndedAt": "61 days", "extensionDays": 5}, "newEndedAt"),
            ({"indefinite": True}, "indefinite"),
            ({"indefinite": True, "extensionDays": 5}, "indefinite"),
            ({"indefinite": False, "extensionDays": 31}, "extensionDays"),
        ],
    )
    def test_an_extension_over_the_limit_is_refused_naming_the_argument_in_effect(
        self, world, as_user, clock, arguments, field
    ):
        set_limits(world["a"], staff_max_extension_days=30)
        if arguments.get("newEndedAt") == "61 days":
            arguments = {**arguments, "newEndedAt": int((clock.current + 61 * DAY).timestamp())}
        call = as_user(world["staff"])
        before = snapshot()
        body = call(EXTEND, {**pair(world["a1"]), **arguments})
        assert body["data"]["extendStudentCourseAccess"] == {
            "enrollment": None,
            "errors": [
                {
                    "field": field,
                    "code": "EXTENSION_OVER_COURSE_LIMIT",
                    "message": "This change adds more days of access than the course allows "
                    "its staff",
                }
            ],
        }
        assert snapshot() == before

    def test_over_the_limit_without_the_errors_field_is_top_level(self, world, as_user):
        set_limits(world["a"], staff_max_extension_days=30)
        before = snapshot()
        body = as_user(world["staff"])(
            EXTEND_WITHOUT_ERRORS, {**pair(world["a1"]), "extensionDays": 31}
        )
        assert error_codes(body) == ["EXTENSION_OVER_COURSE_LIMIT"]
        assert body["data"] == {"extendStudentCourseAccess": None}
        assert snapshot() == before

    @pytest.mark.parametrize("reason", [None, "", "   "], ids=["absent", "empty", "blank"])
    def test_a_missing_reason_is_refused_naming_reason(self, world, as_user, reason):
        set_limits(world["a"], staff_reason_required=True)
        a1 = world["a1"]
        call = as_user(world["staff"])
        before = snapshot()
        extended = call(EXTEND, {**pair(a1), "extensionDays": 3, "reason": reason})
        paused = call(PAUSE, {"id": str(a1.pk), "reason": reason})
        expected = [
            {
                "field": "reason",
                "code": "REASON_REQUIRED",
                "message": "This course requires a reason for every access change by its staff",
            }
        ]
        assert extended["data"]["extendStudentCourseAccess"] == {
            "enrollment": None,
            "errors": expected,
        }
        assert paused["data"]["pauseCourseMembership"] == {
            "courseMembership": None,
            "messages": expected,
        }
        assert snapshot() == before

    def test_with_a_reason_the_change_is_made_and_the_reason_kept(self, world, as_user):
        set_limits(world["a"], staff_reason_required=True)
        a1 = world["a1"]
        call = as_user(world["staff"])
        done = call.payload(
            PAUSE, "pauseCourseMembership", {"id": str(a1.pk), "reason": "learner is ill"}
        )
        assert done["messages"] == []
        assert AccessChange.objects.get(enrollment=a1).reason == "learner is ill"

    def test_another_courses_limits_do_not_apply(self, world, as_user, clock):
        # Course B requires a reason and caps extensions; course A does not.
        set_limits(world["b"], staff_max_extension_days=1, staff_reason_required=True)
        done = as_user(world["staff"]).payload(
            EXTEND, "extendStudentCourseAccess", {**pair(world["a1"]), "extensionDays": 60}
        )
        assert done["errors"] == []


# --- no role, no permission ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "document",
    [EXTEND, PAUSE, RESUME, EXPIRE, REMOVE, ENROLL, UNDO],
    ids=["extend", "pause", "resume", "expire", "remove", "enroll", "undo"],
)
def test_no_role_and_no_permission_is_still_forbidden(world, as_user, document):
    a1 = world["a1"]
    variables = {
        EXTEND: {**pair(a1), "extensionDays": 3},
        PAUSE: {"id": str(a1.pk)},
        RESUME: {"id": str(a1.pk)},
        EXPIRE: pair(a1),
        REMOVE: pair(a1),
        ENROLL: {"courseId": str(a1.course_id), "userId": str(world["nobody"].pk)},
        UNDO: {"batchId": str(uuid.uuid4())},
    }[document]
    before = snapshot()
    body = as_user(UserFactory())(document, variables)
    assert error_codes(body) == ["FORBIDDEN"]
    assert snapshot() == before


PAGE = """
query ($first: Int, $after: String, $last: Int, $before: String,
       $order: CourseMembershipOrder) {
  courseMemberships(first: $first, after: $after, last: $last, before: $before, order: $order) {
    page_info { has_next_page has_previous_page start_cursor end_cursor }
    nodes { id }
  }
}
"""


@pytest.mark.parametrize("order", ["CREATED_AT_ASC", "CREATED_AT_DESC"])
@pytest.mark.parametrize("direction", ["forward", "backward"])
def test_paging_walks_the_courses_and_ones_own_memberships_in_order(
    world, as_user, clock, order, direction
):
    """Own memberships outside the course interleave with the course's in the walk's order (on
    PostgreSQL the page merges each part's first rows: pagination.KeysetPage)."""
    staff, a = world["staff"], world["a"]
    for _ in range(5):  # more rows of both parts, created at interleaving instants
        clock.advance(hours=1)
        EnrollmentFactory(course=a, created_at=clock.current)
        clock.advance(hours=1)
        EnrollmentFactory(user=staff, course=CourseFactory(), created_at=clock.current)
    visible = Enrollment.objects.filter(course=a) | Enrollment.objects.filter(user=staff)
    expected = [str(pk) for pk in visible.order_by("created_at", "id").values_list("pk", flat=True)]
    if order == "CREATED_AT_DESC":
        expected.reverse()
    call = as_user(staff)
    seen, cursor = [], None
    while True:
        if direction == "forward":
            variables = {"first": 2, "after": cursor, "order": order}
        else:
            variables = {"last": 2, "before": cursor, "order": order}
        data = call.payload(PAGE, "courseMemberships", variables)
        ids = [node["id"] for node in data["nodes"]]
        seen = seen + ids if direction == "forward" else ids + seen
        info = data["page_info"]
        if direction == "forward" and not info["has_next_page"]:
            break
        if direction == "backward" and not info["has_previous_page"]:
            break
        cursor = info["end_cursor"] if direction == "forward" else info["start_cursor"]
    assert seen == expected
    assert len(expected) == 2 + 1 + 10  # a1, a2, the own one in C, and the ten made here
