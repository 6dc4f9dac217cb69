"""Door by door, issue 25: a staff member of course A (a course role, no global permission)
sees and changes only course A's enrollments through the API, the admin (changelist, change
page, ticked rows, "Select all", the audit trail) and the commands (`--actor`), and every door
refuses course B's the same way it refuses an enrollment that does not exist; the course's
limits on its staff are refused with the same code at every door."""

import uuid
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse

from apikeys.models import APIKey
from enrollments.models import AccessChange, Enrollment
from lms.models import CourseRole
from tests.admin.helpers import post_action
from tests.commands.conftest import run_command
from tests.doors.doors import (
    FILTER_DOORS,
    FORM_PAGES,
    NAMED_DOORS,
    Doors,
    Request,
    read_messages,
    stored,
)
from tests.factories import (
    CourseFactory,
    CourseRoleFactory,
    EnrollmentFactory,
    OperatorFactory,
)
from tests.graphql.conftest import Api

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)
MEMBERSHIPS = """
query { courseMemberships(first: 50) { total_count edges { node { id } } } }
"""
MEMBERSHIP = "query ($id: ID) { courseMembership(id: $id) { id } }"


@pytest.fixture
def world(clock, client, tmp_path):
    """Courses A and B with one active enrollment each; a staff member of A signed in at
    every door; `doors` drives them."""
    a, b = CourseFactory(slug="course-a"), CourseFactory(slug="course-b")
    start, end = clock.current - 10 * DAY, clock.current + 30 * DAY
    mine = EnrollmentFactory(course=a, start_at=start, ended_at=end)
    theirs = EnrollmentFactory(course=b, start_at=start, ended_at=end)
    staff = CourseRoleFactory(course=a, role=CourseRole.Role.STAFF).user
    key = APIKey.objects.create_key(user=staff, name="scope")[1]
    admin = Client()
    admin.force_login(staff)
    doors = Doors(admin, Api(client), key, tmp_path, actor=staff.email)
    return {"a": a, "b": b, "mine": mine, "theirs": theirs, "staff": staff, "doors": doors}


def untouched(enrollment: Enrollment, before: tuple) -> bool:
    return (
        stored(enrollment) == before
        and not AccessChange.objects.filter(enrollment=enrollment).exists()
    )


def missing_pair(world) -> Enrollment:
    """What "not there" looks like to each door: the learner of course B's enrollment, named
    in course A where they are not enrolled (an unsaved enrollment: nothing stores it)."""
    theirs = world["theirs"]
    return Enrollment(user=theirs.user, course=world["a"], start_at=theirs.start_at)


def assert_answered_as_missing(admin, url_name: str, pk) -> None:
    """The admin page `url_name` of enrollment `pk` answers as it does for an id that does
    not exist: the same redirect and the same message (the id aside)."""
    answers = []
    for shown in (pk, uuid.uuid4()):
        response = admin.get(reverse(url_name, args=[shown]))
        said = [text.replace(str(shown), "ID") for text in read_messages(admin, response)]
        answers.append((response.status_code, getattr(response, "url", None), said))
    assert answers[0] == answers[1]
    assert answers[0][0] == 302 and answers[0][2]


# -- reading -----------------------------------------------------------------------------------


def test_the_api_lists_and_names_only_course_a(world):
    doors = world["doors"]
    body = doors.api.post(MEMBERSHIPS, key=doors.key)
    page = body["data"]["courseMemberships"]
    assert page["total_count"] == 1
    assert [edge["node"]["id"] for edge in page["edges"]] == [str(world["mine"].pk)]
    mine = doors.api.post(MEMBERSHIP, {"id": str(world["mine"].pk)}, key=doors.key)
    assert mine["data"]["courseMembership"]["id"] == str(world["mine"].pk)
    theirs = doors.api.post(MEMBERSHIP, {"id": str(world["theirs"].pk)}, key=doors.key)
    missing = doors.api.post(MEMBERSHIP, {"id": str(uuid.uuid4())}, key=doors.key)
    assert theirs == missing


def test_the_admin_lists_and_opens_only_course_a(world):
    admin = world["doors"].admin
    listed = admin.get(reverse("admin:enrollments_enrollment_changelist"))
    assert listed.status_code == 200
    assert [row.pk for row in listed.context["cl"].result_list] == [world["mine"].pk]
    assert listed.context["cl"].result_count == 1
    searched = admin.get(
        reverse("admin:enrollments_enrollment_changelist"), {"q": world["theirs"].user.email}
    )
    assert searched.context["cl"].result_count == 0
    opened = admin.get(reverse("admin:enrollments_enrollment_change", args=[world["mine"].pk]))
    assert opened.status_code == 200
    assert_answered_as_missing(admin, "admin:enrollments_enrollment_change", world["theirs"].pk)


def test_the_audit_trail_shows_only_course_a(world, clock):
    operator = OperatorFactory()
    for enrollment in (world["mine"], world["theirs"]):
        AccessChange.objects.create(
            enrollment=enrollment,
            actor=operator,
            action=AccessChange.Action.EXTEND,
            source=AccessChange.Source.ADMIN,
            old_ended_at=enrollment.ended_at,
            new_ended_at=enrollment.ended_at + DAY,
            created_at=clock.current,
        )
    page = world["doors"].admin.get(reverse("admin:enrollments_accesschange_changelist"))
    assert page.status_code == 200
    assert [row.enrollment_id for row in page.context["cl"].result_list] == [world["mine"].pk]


# -- changing: named -----------------------------------------------------------------------------


@pytest.mark.parametrize("door", NAMED_DOORS)
@pytest.mark.parametrize("operation", ["extend", "pause"])
def test_a_named_enrollment_of_course_b_is_refused_as_a_missing_one(world, door, operation):
    doors = world["doors"]
    request = Request(operation, days=5) if operation == "extend" else Request(operation)
    theirs = world["theirs"]
    before = stored(theirs)
    if door == "admin_change_page":
        # The page of an enrollment outside the scope: the answer a missing one gets.
        page = "extend_access" if operation == "extend" else "pause"
        url = f"admin:enrollments_enrollment_{page}_one"
        assert_answered_as_missing(doors.admin, url, theirs.pk)
    elif operation == "pause" and door == "api_call":
        # Pause names the membership by id: an unknown id is the missing one.
        got = getattr(doors, door)(theirs, request)
        absent = Enrollment(pk=uuid.uuid4(), user=theirs.user, course=world["a"])
        assert got == getattr(doors, door)(absent, request)
    else:
        got = getattr(doors, door)(theirs, request)
        assert got == getattr(doors, door)(missing_pair(world), request)
        assert got != "done"
    assert untouched(theirs, before)
    # ... while the same request on course A's enrollment is made.
    if door != "admin_change_page":
        assert getattr(doors, door)(world["mine"], request) == "done"


# -- changing: by filter -------------------------------------------------------------------------


@pytest.mark.parametrize("door", FILTER_DOORS)
def test_a_filter_of_course_b_changes_nothing(world, door):
    doors = world["doors"]
    before = stored(world["theirs"])
    if door == "command_course":
        result = run_command(
            "extend_access", "--course", "course-b", "--days", "5", "--actor", doors.actor
        )
        assert result.status == 0
        assert "No enrollments match the selection: nothing to do." in result.stdout
    else:
        page = post_action(
            doors.admin,
            "extend_access",
            [world["theirs"].pk],
            select_across=door == "admin_select_all",
            query=f"course__id__exact={world['b'].pk}",
        )
        # The form opens; its preview, then Confirm, select no row (a broken scope would show
        # B's row as changed, and Confirm would extend it).
        url = reverse(FORM_PAGES["extend"][0])
        outcome = doors._preview_then_confirm(page, url, Request("extend", days=5))
        assert outcome == "unchanged"
    assert untouched(world["theirs"], before)


def test_select_all_and_all_change_only_course_a(world):
    doors = world["doors"]
    theirs_before = stored(world["theirs"])
    # "Select all" over the whole list, extend by 5 days, through the admin.
    assert doors.admin_select_all(world["mine"], Request("extend", days=5)) == "done"
    # --all through the command.
    result = run_command("extend_access", "--all", "--days", "5", "--actor", doors.actor)
    assert result.status == 0 and "Changed 1," in result.stdout, result.stdout
    assert untouched(world["theirs"], theirs_before)
    assert AccessChange.objects.filter(enrollment=world["mine"]).count() == 2


def test_what_staff_may_not_do_is_forbidden_at_every_door(world):
    """Ending access is a manager's: a staff member holds it in no course, so every door
    refuses it as it refuses anyone without the permission, and writes nothing."""
    doors = world["doors"]
    before = stored(world["mine"])
    request = Request("expire")
    assert doors.api_call(world["mine"], request) == "FORBIDDEN"
    page = doors.admin.get(
        reverse("admin:enrollments_enrollment_expire_access_one", args=[world["mine"].pk])
    )
    assert page.status_code in (302, 403)
    result = run_command(
        "expire_access",
        "--user",
        world["mine"].user.email,
        "--course",
        "course-a",
        "--actor",
        doors.actor,
    )
    assert result.status == 2 and "lacks the permission" in result.error
    assert untouched(world["mine"], before)


# -- the course's limits on its staff ------------------------------------------------------------

ALL_DOORS = NAMED_DOORS + FILTER_DOORS


@pytest.mark.parametrize("door", ALL_DOORS)
def test_an_extension_over_the_limit_is_refused_at_every_door(world, door):
    world["a"].staff_max_extension_days = 14
    world["a"].save()
    before = stored(world["mine"])
    got = getattr(world["doors"], door)(world["mine"], Request("extend", days=15))
    assert got == "EXTENSION_OVER_COURSE_LIMIT"
    assert untouched(world["mine"], before)
    assert getattr(world["doors"], door)(world["mine"], Request("extend", days=14)) == "done"


@pytest.mark.parametrize("door", ALL_DOORS)
def test_a_change_without_a_reason_is_refused_at_every_door(world, door):
    world["a"].staff_reason_required = True
    world["a"].save()
    before = stored(world["mine"])
    for request in (Request("extend", days=3), Request("pause")):
        assert getattr(world["doors"], door)(world["mine"], request) == "REASON_REQUIRED"
    assert untouched(world["mine"], before)
