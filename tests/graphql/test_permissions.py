"""Who may do what: every operation for anonymous, student, staff without the permission, staff
with it, and a revoked key (of a user who holds every permission)."""

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.utils import timezone

from apikeys.models import APIKey
from enrollments.models import AccessChange, Enrollment, ItemCompletion
from tests.factories import CourseItemFactory, EnrollmentFactory, StaffFactory
from tests.graphql.conftest import PERMS, error_codes, grant

pytestmark = pytest.mark.django_db


@dataclass
class World:
    enrollment: Enrollment  # the student's
    other: Enrollment  # someone else's
    paused: Enrollment  # the student's, paused
    item_id: str


@pytest.fixture
def world(clock, student) -> World:
    now = clock.current
    window = {"start_at": now - timedelta(days=1), "ended_at": now + timedelta(days=30)}
    enrollment = EnrollmentFactory(user=student, **window)
    paused = EnrollmentFactory(user=student, is_paused=True, paused_at=now, **window)
    other = EnrollmentFactory(**window)
    item = CourseItemFactory(course=enrollment.course)
    return World(enrollment, other, paused, str(item.pk))


OPERATIONS = {
    "courseMemberships": (
        "view",
        lambda w: "{ courseMemberships(first: 10) { nodes { id } } }",
    ),
    "courseMembership": (
        "view",
        lambda w: f'{{ courseMembership(id: "{w.other.pk}") {{ id }} }}',
    ),
    "extendStudentCourseAccess": (
        "extend",
        lambda w: (
            f'mutation {{ extendStudentCourseAccess(userId: "{w.other.user_id}", '
            f'courseId: "{w.other.course_id}", extensionDays: 1) {{ enrollment {{ id }} }} }}'
        ),
    ),
    "pauseCourseMembership": (
        "pause",
        lambda w: (
            f'mutation {{ pauseCourseMembership(input: {{id: "{w.other.pk}"}}) '
            "{ courseMembership { id } } }"
        ),
    ),
    "resumeCourseMembership": (
        "pause",
        lambda w: (
            f'mutation {{ resumeCourseMembership(input: {{id: "{w.paused.pk}"}}) '
            "{ courseMembership { id } } }"
        ),
    ),
    "completeCourseItem": (
        None,
        lambda w: (
            f'mutation {{ completeCourseItem(input: {{course_item_id: "{w.item_id}"}}) '
            "{ courseMembership { id } } }"
        ),
    ),
}

# What each actor gets: "ok", or the error code.
EXPECTED = {
    "courseMemberships": {
        "anonymous": "UNAUTHENTICATED",
        "student": "ok",  # their own two (checked below)
        "staff without permission": "ok",  # their own: none
        "staff with permission": "ok",  # everyone's
        "revoked key": "UNAUTHENTICATED",
    },
    "courseMembership": {
        "anonymous": "UNAUTHENTICATED",
        "student": "NOT_FOUND",  # someone else's
        "staff without permission": "NOT_FOUND",
        "staff with permission": "ok",
        "revoked key": "UNAUTHENTICATED",
    },
    "extendStudentCourseAccess": {
        "anonymous": "UNAUTHENTICATED",
        "student": "FORBIDDEN",
        "staff without permission": "FORBIDDEN",
        "staff with permission": "ok",
        "revoked key": "UNAUTHENTICATED",
    },
    "pauseCourseMembership": {
        "anonymous": "UNAUTHENTICATED",
        "student": "FORBIDDEN",
        "staff without permission": "FORBIDDEN",
        "staff with permission": "ok",
        "revoked key": "UNAUTHENTICATED",
    },
    "resumeCourseMembership": {
        "anonymous": "UNAUTHENTICATED",
        "student": "FORBIDDEN",  # even on their own membership
        "staff without permission": "FORBIDDEN",
        "staff with permission": "ok",
        "revoked key": "UNAUTHENTICATED",
    },
    "completeCourseItem": {
        "anonymous": "UNAUTHENTICATED",
        "student": "ok",  # their own enrollment
        "staff without permission": "NOT_ENROLLED",  # only ever one's own enrollment
        "staff with permission": "NOT_ENROLLED",
        "revoked key": "UNAUTHENTICATED",
    },
}

ACTORS = [
    "anonymous",
    "student",
    "staff without permission",
    "staff with permission",
    "revoked key",
]


def _key_for(actor: str, needed: str | None, student, make_key) -> str | None:
    if actor == "anonymous":
        return None
    if actor == "student":
        return make_key(student)
    staff = StaffFactory()
    if actor == "staff without permission":
        grant(staff, *(perm for perm in PERMS if perm != needed))
        return make_key(staff)
    if actor == "revoked key":
        grant(staff, *PERMS)
    else:
        grant(staff, needed or "view")
    raw_key = make_key(staff)
    if actor == "revoked key":
        APIKey.objects.get(user=staff).revoke()
    return raw_key


def _state() -> tuple:
    return (
        sorted(Enrollment.objects.values_list("pk", "ended_at", "is_paused")),
        AccessChange.objects.count(),
        ItemCompletion.objects.count(),
    )


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("operation", list(OPERATIONS))
def test_permission_matrix(api, make_key, student, world, operation, actor):
    needed, document = OPERATIONS[operation]
    key = _key_for(actor, needed, student, make_key)
    before = _state()

    body = api.post(document(world), key=key)

    expected = EXPECTED[operation][actor]
    if expected == "ok":
        assert "errors" not in body, body
        assert body["data"][operation] is not None
    else:
        assert error_codes(body) == [expected]
        assert _state() == before  # an error changes nothing
        if actor == "revoked key":
            assert api.last_response.status_code == 401
            assert api.last_response["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize(
    ("actor", "expected"),
    [
        ("student", {"enrollment", "paused"}),
        ("staff without permission", set()),
        ("staff with permission", {"enrollment", "paused", "other"}),
    ],
)
def test_who_sees_which_memberships(api, make_key, student, world, actor, expected):
    key = _key_for(actor, "view", student, make_key)
    body = api.post(OPERATIONS["courseMemberships"][1](world), key=key)
    seen = {node["id"] for node in body["data"]["courseMemberships"]["nodes"]}
    assert seen == {str(getattr(world, name).pk) for name in expected}


def test_an_expired_key_and_an_inactive_users_key_are_refused(api, make_key, viewer):
    expired = make_key(viewer, expires_at=timezone.now() + timedelta(days=1))
    APIKey.objects.filter(user=viewer).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert error_codes(api.post("{ __typename }", key=expired)) == ["UNAUTHENTICATED"]
    active = make_key(viewer)
    assert "errors" not in api.post("{ __typename }", key=active)
    viewer.is_active = False
    viewer.save()
    assert error_codes(api.post("{ __typename }", key=active)) == ["UNAUTHENTICATED"]


@pytest.mark.parametrize(
    "header", ["Bearer", "Bearer ", "Bearer nodot", "Bearer abcdefgh.wrong", "bearer x.y"]
)
def test_malformed_or_wrong_bearer_keys_are_unauthenticated(api, viewer, header):
    body = api.post("{ __typename }", HTTP_AUTHORIZATION=header)
    assert error_codes(body) == ["UNAUTHENTICATED"]
    assert api.last_response.status_code == 401
