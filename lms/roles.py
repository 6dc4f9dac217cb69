"""Granting, changing and revoking course roles (lms.CourseRole), with their record.

The one place that writes roles: the admin's inlines (lms/admin.py, `save_roles`) and
`manage.py course_roles` both call `grant_role` and `revoke_role`, which change the role and
write one lms.CourseRoleChange (who, where, old and new role, by whom, through which door) in
the same transaction, so a role never changes without its record, nor the record without the
change. A grant of the role already held changes nothing and records nothing.

Who may call them is the door's check (MANAGE_COURSE_ROLES: the admin's inline permissions,
the command's `--actor`); these functions take the actor as given.
"""

from django.db import IntegrityError, transaction

from enrollments import clock
from lms.models import Course, CourseRole, CourseRoleChange, User

Source = CourseRoleChange.Source
Action = CourseRoleChange.Action


class RoleNotHeld(Exception):
    """A revoke of a role the user does not hold in the course (or not the role asked for).
    `held`: the role they do hold there, or None."""

    def __init__(self, held: str | None) -> None:
        super().__init__(held)
        self.held = held


def grant_role(
    user: User, course: Course, role: str, *, actor: User | None, source: str
) -> CourseRoleChange | None:
    """Gives `user` the `role` in `course`, or changes the role they hold there to it; records
    `actor` as `granted_by`, now as `granted_at`, and the change. Returns the record (action
    grant or change), or None when they held that role already (nothing written)."""
    with transaction.atomic():
        held = _locked(user, course)
        now = clock.now()
        if held is None:
            try:
                with transaction.atomic():
                    CourseRole.objects.create(
                        user=user, course=course, role=role, granted_by=actor, granted_at=now
                    )
            except IntegrityError:  # granted meanwhile by someone else: change that one
                held = _locked(user, course)
                if held is None:
                    raise
            else:
                return _record(user, course, Action.GRANT, "", role, actor, source, now)
        if held.role == role:
            return None
        was = held.role
        held.role, held.granted_by, held.granted_at = role, actor, now
        held.save(update_fields=["role", "granted_by", "granted_at"])
        return _record(user, course, Action.CHANGE, was, role, actor, source, now)


def revoke_role(
    user: User, course: Course, *, actor: User | None, source: str, only: str | None = None
) -> CourseRoleChange:
    """Takes `user`'s role in `course` away (deletes the CourseRole) and records it. `only`:
    revoke only if that is the role held. Raises RoleNotHeld (nothing written) otherwise."""
    with transaction.atomic():
        held = _locked(user, course)
        if held is None or (only is not None and held.role != only):
            raise RoleNotHeld(held.role if held is not None else None)
        held.delete()
        return _record(user, course, Action.REVOKE, held.role, "", actor, source, clock.now())


def _locked(user: User, course: Course) -> CourseRole | None:
    return CourseRole.objects.select_for_update().filter(user=user, course=course).first()


def _record(
    user: User,
    course: Course,
    action: str,
    old_role: str,
    new_role: str,
    actor: User | None,
    source: str,
    when,
) -> CourseRoleChange:
    return CourseRoleChange.objects.create(
        user=user,
        course=course,
        action=action,
        old_role=old_role,
        new_role=new_role,
        actor=actor,
        source=source,
        created_at=when,
    )
