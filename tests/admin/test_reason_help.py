"""The reason field's help on the preview/confirm pages: "Optional" as a rule, "Required" where
a course of the page's rows requires a reason of the staff member (Course.staff_reason_required,
binding a course's staff only: operations/limits.py). It used to say "Optional, at most 1,000
characters..." right under a preview whose every row was skipped with "This course requires a
reason for every access change by its staff"."""

import pytest

from enrollments.models import Enrollment
from lms.models import CourseRole
from tests.admin.conftest import grant, logged_in
from tests.admin.helpers import post_action
from tests.factories import CourseFactory, CourseRoleFactory, EnrollmentFactory, StaffFactory

pytestmark = pytest.mark.django_db

ENROLLMENTS = "/admin/enrollments/enrollment/"
REQUIRED = "This course requires a reason for every access change by its staff"


def reason_help(page) -> str:
    assert page.status_code == 200
    return str(page.context["form"]["reason"].help_text)


@pytest.fixture
def strict_course():
    return CourseFactory(title="Python Basics", staff_reason_required=True)


def course_staff(course, role=CourseRole.Role.STAFF):
    member = StaffFactory()
    CourseRoleFactory(user=member, course=course, role=role)
    return logged_in(member)


@pytest.mark.parametrize("route", ["pause", "resume", "extend-access"])
def test_a_courses_staff_are_told_the_reason_is_required(strict_course, route):
    """The reviewer's case (the demo's instructor@ on Python Basics): Pause previews every row
    skipped for want of a reason, and the help under the reason says it is required; the same
    on the other pages of that enrollment."""
    bob: Enrollment = EnrollmentFactory(user__email="bob@example.com", course=strict_course)
    page = course_staff(strict_course).get(f"{ENROLLMENTS}{bob.pk}/{route}/")
    help_text = reason_help(page)
    assert help_text.startswith("Required"), help_text
    assert "Optional" not in help_text
    assert help_text in page.content.decode()  # rendered, tied to the field
    if route == "pause":
        assert REQUIRED in page.content.decode()


@pytest.mark.parametrize(
    "route,fields",
    [
        ("pause", {"_preview": "1"}),
        ("extend-access", {"mode": "days", "days": "45", "time_zone": "UTC", "_preview": "1"}),
        (
            "extend-access",
            {"mode": "days", "days": "5", "time_zone": "UTC", "reason": "exam", "_preview": "1"},
        ),
    ],
)
def test_the_preview_says_required_too_reason_typed_or_not(strict_course, route, fields):
    """A bound form (the preview: Django builds its bound fields when it cleans it) says so
    too, whether the reason was typed or not."""
    bob = EnrollmentFactory(user__email="bob@example.com", course=strict_course)
    page = course_staff(strict_course).post(f"{ENROLLMENTS}{bob.pk}/{route}/", fields)
    help_text = reason_help(page)
    assert help_text.startswith("Required"), help_text
    assert help_text in page.content.decode()


def test_a_selection_from_the_list_including_such_a_course_says_required(strict_course):
    """An instructor of two courses ticks rows of both: one of them requires a reason."""
    lenient = CourseFactory(title="SQL for Everyone")
    member = StaffFactory()
    CourseRoleFactory(user=member, course=strict_course)
    CourseRoleFactory(user=member, course=lenient)
    client = logged_in(member)
    ticked = [
        EnrollmentFactory(course=strict_course).pk,
        EnrollmentFactory(course=lenient).pk,
    ]
    page = post_action(client, "pause_enrollments", ticked)
    assert reason_help(page).startswith("Required")

    only_lenient = post_action(client, "pause_enrollments", ticked[1:])
    assert reason_help(only_lenient).startswith("Optional")


@pytest.mark.parametrize(
    "who",
    ["staff of a course without the requirement", "manager of the course", "global staff"],
)
def test_the_reason_stays_optional_where_nothing_requires_it(strict_course, who):
    """The course's managers and global staff are not limited; another course's staff are
    limited by a course that does not require a reason."""
    if who == "staff of a course without the requirement":
        course = CourseFactory(title="SQL for Everyone")
        client = course_staff(course)
    elif who == "manager of the course":
        course = strict_course
        client = course_staff(course, CourseRole.Role.MANAGER)
    else:
        course = strict_course
        client = logged_in(grant(StaffFactory(), "view_enrollment", "pause_enrollment"))
    enrollment = EnrollmentFactory(course=course)
    page = client.get(f"{ENROLLMENTS}{enrollment.pk}/pause/")
    assert reason_help(page).startswith("Optional, at most 1,000 characters")
    assert REQUIRED not in page.content.decode()
