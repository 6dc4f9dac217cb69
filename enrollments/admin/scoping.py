"""Whose rows an admin page shows and changes (issue 25): the staff member's scope, read
through the core's `operations.scope`, never decided here.

- What a page *shows* (the enrollment list, its filters, search, counts, "Select all", an
  enrollment's page, the jobs) is `page_scope`: the courses where the user may view or change
  enrollments (`scope_of_any(user, [VIEW_ENROLLMENT, CHANGE_ENROLLMENT])`), everywhere for a
  holder of Django's global permission. The audit trail shows `trail_scope` (VIEW_ACCESS_CHANGE).
- What a page *changes* is the operation's scope (`scope_of(user, op.permission)`), given to
  the core with the selection (confirming.py); the core narrows it again to its actor.
- A page, an action or a button is offered when the user holds its permission globally or
  through a role in at least one course (`may`); an enrollment outside the scope is answered
  as a missing one ("not found"), the project's rule at every door.

A course staff member's list costs the statements a global staff member's does: their roles
and the titles of their courses (the list's course filter) are read in one query
(`prime_roles`), before the core would read the roles alone.
"""

import uuid

from django.db.models import OuterRef, Subquery

from enrollments.operations.scope import (
    Scope,
    may_act_somewhere,
    remember_roles,
    roles_known,
    scope_of,
    scope_of_any,
)
from enrollments.permissions import (
    CHANGE_ENROLLMENT,
    VIEW_ACCESS_CHANGE,
    VIEW_ENROLLMENT,
    Permission,
)

#: The permissions that show enrollments on a page (view or change: nothing is edited there).
PAGE_PERMISSIONS = (VIEW_ENROLLMENT, CHANGE_ENROLLMENT)
#: The user object's attribute holding [(course id, course title)] of their roles, title order.
COURSES_ATTRIBUTE = "course_roles_courses"
#: ... and every course's, for a global viewer (prime_roles).
EVERY_COURSE_ATTRIBUTE = "course_roles_every_course"


def page_scope(user) -> Scope:
    """The courses whose enrollments `user` sees in the admin."""
    return scope_of_any(user, PAGE_PERMISSIONS)


def trail_scope(user) -> Scope:
    """The courses whose audit rows `user` sees under "Access changes"."""
    return scope_of(user, VIEW_ACCESS_CHANGE)


def may(user, permission: Permission) -> bool:
    """Whether `user` holds `permission` globally or in at least one course: what offers an
    action, a button or a page (the rows it reaches are the core's to narrow)."""
    return may_act_somewhere(user, permission)


def may_see_enrollments(user) -> bool:
    return not page_scope(user).empty


def holds_globally(user, *permissions: Permission) -> bool:
    return any(permission.held_by(user) for permission in permissions)


def prime_roles(user, *, courses: bool = False, asked: tuple[Permission, ...] = ()) -> None:
    """Reads the user's course roles before anything asks for their scope, in one query
    that also reads what the page lists of courses, so a course staff member's page costs the
    statements a global staff member's does; the core's `roles_of` then finds them read.

    - A user without the global permissions to see enrollments: their roles with their
      courses' titles (the course filter lists those, without a query of its own).
    - A global viewer who lacks one of the permissions the page `asked` (its actions and
      buttons: held in some course?) and whose page lists every course (`courses`): every
      course with the user's role in it, one query instead of the filter's and the roles'.
    - Anyone else reads nothing here."""
    if not user.is_active or getattr(user, COURSES_ATTRIBUTE, None) is not None:
        return
    if not holds_globally(user, *PAGE_PERMISSIONS):
        _read_courses(user)
    elif (
        courses
        and not roles_known(user)
        and not all(permission.held_by(user) for permission in asked)
    ):
        _read_every_course(user)


def courses_of_roles(user) -> list[tuple[uuid.UUID, str]]:
    """(course id, title) of every course `user` holds a role in, by title (read once)."""
    courses = getattr(user, COURSES_ATTRIBUTE, None)
    return courses if courses is not None else _read_courses(user)


def every_course(user) -> list[tuple[uuid.UUID, str]] | None:
    """Every course (id, title) by title when prime_roles read them for a global viewer;
    None otherwise (the filter reads them itself)."""
    return getattr(user, EVERY_COURSE_ATTRIBUTE, None)


def _read_courses(user) -> list[tuple[uuid.UUID, str]]:
    from lms.models import CourseRole  # lms.models imports the core's model mixins

    rows = list(
        CourseRole.objects.filter(user_id=user.pk)
        .order_by("course__title", "course_id")
        .values_list("course_id", "role", "course__title")
    )
    remember_roles(user, {course: role for course, role, _title in rows})
    courses = [(course, title) for course, _role, title in rows]
    setattr(user, COURSES_ATTRIBUTE, courses)
    return courses


def _read_every_course(user) -> None:
    from lms.models import Course, CourseRole

    role = CourseRole.objects.filter(user_id=user.pk, course_id=OuterRef("pk")).values("role")
    rows = list(
        Course.objects.annotate(held_role=Subquery(role[:1])).values_list(
            "pk", "title", "held_role"
        )
    )
    remember_roles(user, {pk: held for pk, _title, held in rows if held is not None})
    setattr(user, EVERY_COURSE_ATTRIBUTE, [(pk, title) for pk, title, _held in rows])
