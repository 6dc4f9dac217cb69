"""The user and course lists count only the enrollments the viewer sees.

Each row's "enrollments" number links to the enrollment list, which shows a course staff
member only their courses' rows (scoping.page_scope). The number counted every course: a
staff member of one course holding `lms.view_user` read how many courses a learner takes
elsewhere, and the number disagreed with the list it opened. It is now counted in the same
scope as that list: everything for a global viewer, their courses for course staff, nothing
for a viewer who sees no enrollments.
"""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from tests.admin.conftest import grant, logged_in
from tests.factories import (
    CourseFactory,
    CourseRoleFactory,
    EnrollmentFactory,
    StaffFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

USERS = reverse("admin:lms_user_changelist")
COURSES = reverse("admin:lms_course_changelist")
ENROLLMENTS = reverse("admin:enrollments_enrollment_changelist")


@pytest.fixture
def world(clock):
    """A learner in three courses, a second learner in Chemistry."""
    courses = {title: CourseFactory(title=title) for title in ("Algebra", "Biology", "Chemistry")}
    learner = UserFactory(email="lea@example.com")
    for course in courses.values():
        EnrollmentFactory(
            user=learner,
            course=course,
            start_at=clock.current - timedelta(days=1),
            ended_at=clock.current + timedelta(days=10),
        )
    EnrollmentFactory(user=UserFactory(email="max@example.com"), course=courses["Chemistry"])
    return courses, learner


def lms_viewer(*codenames: str, roles=()):
    staff = StaffFactory()
    staff.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="lms", codename__in=codenames)
    )
    for course in roles:
        CourseRoleFactory(user=staff, course=course, role="staff")
    return staff


def user_count(client, learner) -> int:
    page = client.get(USERS, {"q": learner.email})
    assert page.status_code == 200
    [row] = page.context["cl"].result_list
    return row.enrollment_count


def course_counts(client) -> dict[str, int]:
    page = client.get(COURSES)
    assert page.status_code == 200
    return {course.title: course.enrollment_count for course in page.context["cl"].result_list}


def listed(client, query: str) -> int:
    return client.get(f"{ENROLLMENTS}?{query}&access_state=all").context["cl"].result_count


def test_a_course_staff_members_user_list_counts_their_courses_only(world):
    courses, learner = world
    staff = lms_viewer("view_user", roles=[courses["Algebra"]])
    client = logged_in(staff)
    assert user_count(client, learner) == 1
    assert listed(client, f"user__id__exact={learner.pk}") == 1  # what the number links to


def test_a_course_staff_members_course_list_counts_their_courses_only(world):
    courses, _learner = world
    staff = lms_viewer("view_course", roles=[courses["Algebra"], courses["Chemistry"]])
    client = logged_in(staff)
    assert course_counts(client) == {"Algebra": 1, "Biology": 0, "Chemistry": 2}
    assert listed(client, f"course__id__exact={courses['Biology'].pk}") == 0


def test_a_global_viewer_counts_every_course(world):
    courses, learner = world
    staff = grant(lms_viewer("view_user", "view_course"), "view_enrollment")
    client = logged_in(staff)
    assert user_count(client, learner) == 3
    assert course_counts(client) == {"Algebra": 1, "Biology": 1, "Chemistry": 2}


def test_a_viewer_who_sees_no_enrollments_counts_none(world):
    _courses, learner = world
    client = logged_in(lms_viewer("view_user", "view_course"))
    assert user_count(client, learner) == 0
    assert set(course_counts(client).values()) == {0}
    ordered = client.get(USERS, {"o": "4"})  # by the enrollments column
    assert ordered.status_code == 200
