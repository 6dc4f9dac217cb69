"""The learner page (issue 26 item 5, enrollments/admin/learner.py): a user's admin page lists
the learner's enrollments with the enrollment list's state, progress and status, the end in the
staff member's zone (named), links to each enrollment's page and history, and the lifecycle
actions offered by the enrollment page's own rule (offered.py); scoped to the staff member's
courses; a fixed number of statements whatever the number of enrollments."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.admin.conftest import logged_in
from tests.factories import (
    CourseFactory,
    CourseItemFactory,
    CourseRoleFactory,
    EnrollmentFactory,
    ItemCompletionFactory,
    StaffFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def staff_holding(*names: str, **fields):
    """A staff member holding the permissions named "app_label.codename"."""
    user = StaffFactory(**fields)
    for name in names:
        app_label, codename = name.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return user


def page_of(client, learner):
    response = client.get(reverse("admin:lms_user_change", args=[learner.pk]))
    assert response.status_code == 200
    return response


def offered(response) -> dict[str, list[str]]:
    """{course title: [the CSS class of each action offered]} of the learner page."""
    return {
        row.course_title: [action.css for action in row.actions]
        for row in response.context["learner_enrollments"]
    }


@pytest.fixture
def learner(clock):
    return UserFactory(email="lena@example.com")


def test_lists_state_progress_end_in_the_staff_zone_and_links(clock, learner):
    staff = staff_holding(
        "lms.view_user",
        "enrollments.view_enrollment",
        "enrollments.view_accesschange",
        time_zone="Europe/Berlin",
    )
    python = CourseFactory(title="Python Basics")
    first, _second = CourseItemFactory(course=python), CourseItemFactory(course=python)
    active = EnrollmentFactory(
        user=learner,
        course=python,
        start_at=clock.current - timedelta(days=3),
        ended_at=clock.current + timedelta(days=30, hours=13),  # 2026-01-31 13:00 UTC
    )
    ItemCompletionFactory(enrollment=active, item=first)
    removed = EnrollmentFactory(
        user=learner,
        course=CourseFactory(title="SQL for Everyone"),
        start_at=clock.current - timedelta(days=3),
        ended_at=None,
        removed_at=clock.current - timedelta(days=1),
    )
    EnrollmentFactory(course=python)  # another learner's: not on this page

    response = page_of(logged_in(staff), learner)

    rows = response.context["learner_enrollments"]
    assert [row.enrollment.pk for row in rows] == [active.pk, removed.pk]  # by course title
    text = response.content.decode()
    assert "Enrollments of this learner" in text
    assert "Dates in your time zone, Europe/Berlin" in text
    assert "End (Europe/Berlin)" in text
    python_row, sql_row = rows
    assert "Active" in python_row.state and "Removed from course" in sql_row.state
    assert "50% (1/2)" in python_row.progress and "In progress" in python_row.course_status
    assert "Not started" in sql_row.course_status
    assert "2026-01-31" in python_row.end and "14:00</span>" not in python_row.end
    assert "14:00 CET" in python_row.end  # 13:00 UTC in Berlin, the zone's abbreviation
    assert "Indefinite" in sql_row.end
    assert python_row.page_url == reverse("admin:enrollments_enrollment_change", args=[active.pk])
    assert python_row.history_url in text and python_row.page_url in text
    # The history link is the enrollment's History: the whole trail of that enrollment.
    history = logged_in(staff).get(python_row.history_url)
    assert history.status_code == 302
    assert history.url.endswith(f"?enrollment__id__exact={active.pk}")
    # The list link includes the removed enrollment the list's default leaves out.
    listed = logged_in(staff).get(response.context["learner_list_url"])
    assert {row.pk for row in listed.context["cl"].result_list} == {active.pk, removed.pk}
    # A viewer without any action permission is offered none.
    assert offered(response) == {"Python Basics": [], "SQL for Everyone": []}


def test_actions_offered_are_the_enrollment_pages_and_none_the_core_would_refuse(clock, learner):
    staff = staff_holding(
        "lms.view_user",
        "enrollments.view_enrollment",
        "enrollments.extend_access",
        "enrollments.pause_enrollment",
    )
    running = EnrollmentFactory(user=learner, course=CourseFactory(title="A running"))
    paused = EnrollmentFactory(
        user=learner,
        course=CourseFactory(title="B paused"),
        is_paused=True,
        paused_at=clock.current - timedelta(days=1),
    )
    removed = EnrollmentFactory(
        user=learner, course=CourseFactory(title="C removed"), removed_at=clock.current
    )
    client = logged_in(staff)

    # Extend and Pause/Resume held; End and Remove not: never offered. A paused enrollment
    # offers Resume (the core skips pausing it), a running one Pause; a removed one nothing
    # but Restore, and Restore needs the permission to enroll.
    assert offered(page_of(client, learner)) == {
        "A running": ["extend-access-link", "pause-link"],
        "B paused": ["extend-access-link", "resume-link"],
        "C removed": [],
    }
    staff.user_permissions.add(
        *Permission.objects.filter(
            codename__in=["expire_access", "remove_from_course", "enroll_learners"]
        )
    )
    staff = type(staff).objects.get(pk=staff.pk)  # Django keeps a user's permissions cached
    client = logged_in(staff)
    response = page_of(client, learner)
    assert offered(response) == {
        "A running": ["extend-access-link", "expire-access-link", "pause-link", "remove-link"],
        "B paused": ["extend-access-link", "expire-access-link", "resume-link", "remove-link"],
        "C removed": ["restore-link"],
    }
    # Each is the enrollment page's own button (one rule), linking to its preview page.
    for enrollment in (running, paused, removed):
        own = client.get(reverse("admin:enrollments_enrollment_change", args=[enrollment.pk]))
        (row,) = [r for r in response.context["learner_enrollments"] if r.enrollment == enrollment]
        assert [a.url for a in own.context["lifecycle_actions"]] == [a.url for a in row.actions]
        for action in row.actions:
            assert f'href="{action.url}" class="{action.css}"' in response.content.decode()
    restore = client.get(response.context["learner_enrollments"][2].actions[0].url)
    assert restore.status_code == 200 and "Restore to the course" in restore.content.decode()


def test_an_action_not_offered_is_refused_by_its_page(clock, learner):
    """What the page leaves out is what its own page refuses: a crafted URL gets 403."""
    staff = staff_holding(
        "lms.view_user", "enrollments.view_enrollment", "enrollments.extend_access"
    )
    enrollment = EnrollmentFactory(user=learner, course=CourseFactory(title="A running"))
    client = logged_in(staff)
    assert offered(page_of(client, learner)) == {"A running": ["extend-access-link"]}
    for page in ("expire_access", "pause", "remove"):
        url = reverse(f"admin:enrollments_enrollment_{page}_one", args=[enrollment.pk])
        assert client.get(url).status_code == 403, page
    extend = reverse("admin:enrollments_enrollment_extend_access_one", args=[enrollment.pk])
    assert client.get(extend).status_code == 200


def test_a_course_staff_member_sees_only_their_courses(clock, learner):
    mine = CourseFactory(title="Mine")
    other = CourseFactory(title="Other")
    staff = staff_holding("lms.view_user")
    CourseRoleFactory(user=staff, course=mine)  # staff: view, extend, pause there
    EnrollmentFactory(user=learner, course=mine)
    EnrollmentFactory(user=learner, course=other)

    response = page_of(logged_in(staff), learner)

    assert offered(response) == {"Mine": ["extend-access-link", "pause-link"]}
    assert "Other" not in response.content.decode().split("Enrollments of this learner")[1]


def test_a_course_staff_member_without_the_learner_in_their_courses_sees_none(clock, learner):
    staff = staff_holding("lms.view_user")
    CourseRoleFactory(user=staff, course=CourseFactory(title="Mine"))
    EnrollmentFactory(user=learner, course=CourseFactory(title="Other"))

    response = page_of(logged_in(staff), learner)

    assert response.context["learner_enrollments"] == []
    assert "No enrollments in your courses." in response.content.decode()


def test_no_section_for_staff_who_see_no_enrollments(clock, learner):
    EnrollmentFactory(user=learner)
    response = page_of(logged_in(staff_holding("lms.view_user")), learner)
    assert response.context["learner_enrollments"] is None
    assert "Enrollments of this learner" not in response.content.decode()


def test_the_add_page_has_no_section(clock):
    staff = staff_holding("lms.add_user", "lms.change_user", "enrollments.view_enrollment")
    response = logged_in(staff).get(reverse("admin:lms_user_add"))
    assert response.status_code == 200
    assert "Enrollments of this learner" not in response.content.decode()


def statements(user, learner) -> list[str]:
    client = logged_in(user)
    with CaptureQueriesContext(connection) as queries:
        page_of(client, learner)
    return [query["sql"] for query in queries.captured_queries]


@pytest.mark.parametrize("scoped", [False, True], ids=["global staff", "course staff"])
def test_statements_do_not_grow_with_the_enrollments(clock, scoped):
    if scoped:
        staff = staff_holding("lms.view_user")
    else:
        staff = staff_holding(
            "lms.view_user", "enrollments.view_enrollment", "enrollments.extend_access"
        )
    few, many = UserFactory(), UserFactory()
    for learner, count in ((few, 1), (many, 6)):
        for n in range(count):
            course = CourseFactory()
            CourseItemFactory(course=course)
            CourseRoleFactory(user=staff, course=course, role="manager" if n % 2 else "staff")
            EnrollmentFactory(
                user=learner,
                course=course,
                is_paused=bool(n % 3 == 1),
                paused_at=clock.current if n % 3 == 1 else None,
                removed_at=clock.current if n % 3 == 2 else None,
            )
    statements(staff, few)  # warms the process's caches (content types)
    assert len(statements(staff, few)) == len(statements(staff, many))
    sql = statements(staff, many)
    # The learner's enrollments with their progress: one statement.
    assert sum(query.startswith('SELECT "enrollments_enrollment"."id"') for query in sql) == 1
