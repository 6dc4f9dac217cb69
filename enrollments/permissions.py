"""Every permission of the enrollments app, named once.

The operations name the permission they need (`Operation.permission`); the GraphQL resolvers,
the admin's `has_*_permission` methods and actions, the commands' `--actor` check and the
schema's descriptions all read it from here, so "who may do what" is written in one place.
The model's `Meta.permissions` is built from `CUSTOM` too.
"""

from dataclasses import dataclass
from typing import Protocol


class _HasPerm(Protocol):
    def has_perm(self, perm: str, obj=None) -> bool: ...


@dataclass(frozen=True, slots=True)
class Permission:
    """A Django permission: `codename` (what admin actions list), `label` (what the
    permission admin shows) and `name`, the `app_label.codename` that `has_perm` takes."""

    codename: str
    label: str
    app_label: str = "enrollments"

    @property
    def name(self) -> str:
        return f"{self.app_label}.{self.codename}"

    def __str__(self) -> str:
        return self.name

    def held_by(self, user: _HasPerm) -> bool:
        return user.has_perm(self.name)


EXTEND_ACCESS = Permission("extend_access", "Can extend access to a course")
PAUSE_ENROLLMENT = Permission("pause_enrollment", "Can pause and resume enrollments")
REMOVE_FROM_COURSE = Permission("remove_from_course", "Can remove learners from courses")
ENROLL_LEARNERS = Permission("enroll_learners", "Can enroll learners in courses")
EXPIRE_ACCESS = Permission("expire_access", "Can end access or set an earlier end")
UNDO_BATCH = Permission("undo_batch", "Can undo a batch of access changes")
#: Webhook endpoints (enrollments/events/endpoints.py): create, change, delete, rotate their
#: secrets, read their delivery log, send a test event, resend and replay deliveries.
MANAGE_WEBHOOKS = Permission("manage_webhooks", "Can manage webhook endpoints and deliveries")
#: Course roles (lms.CourseRole): who may grant and revoke them, in the admin and by
#: `manage.py course_roles`.
MANAGE_COURSE_ROLES = Permission(
    "manage_course_roles", "Can grant and revoke course roles", app_label="lms"
)
#: The learner's data (enrollments/privacy.py): `export_learner` and `erase_learner`.
EXPORT_LEARNER_DATA = Permission(
    "export_learner_data", "Can export everything held about a learner", app_label="lms"
)
ERASE_LEARNER = Permission("erase_learner", "Can erase (pseudonymise) a learner", app_label="lms")
#: Django's own model permissions that the doors ask for.
VIEW_ENROLLMENT = Permission("view_enrollment", "Can view enrollment")
CHANGE_ENROLLMENT = Permission("change_enrollment", "Can change enrollment")
VIEW_ACCESS_CHANGE = Permission("view_accesschange", "Can view access change")
#: The expiry reminders (sent, pending, failed), read-only under "Expiry reminders"
#: (enrollments/admin/reminders.py): Django's own view permission of the model. Whoever sees an
#: enrollment (VIEW_ENROLLMENT or CHANGE_ENROLLMENT, globally or by course role) sees its
#: reminders too; this one shows them to staff who may not see enrollments.
VIEW_EXPIRY_REMINDER = Permission("view_expiryreminder", "Can view expiry reminder")

#: The permissions the app adds to Django's (Enrollment.Meta.permissions).
CUSTOM: tuple[Permission, ...] = (
    EXTEND_ACCESS,
    PAUSE_ENROLLMENT,
    REMOVE_FROM_COURSE,
    ENROLL_LEARNERS,
    EXPIRE_ACCESS,
    UNDO_BATCH,
    MANAGE_WEBHOOKS,
)


#: What each course role (lms.CourseRole.Role) may do in its course, and only there. A global
#: permission (Django's, above) means "in every course"; a role grants the same permission
#: within one course (enrollments/operations/scope.py reads this). Staff act within the
#: course's limits (operations/limits.py); managers are not limited.
STAFF_PERMISSIONS: tuple[Permission, ...] = (
    VIEW_ENROLLMENT,
    VIEW_ACCESS_CHANGE,
    EXTEND_ACCESS,
    PAUSE_ENROLLMENT,
)
ROLE_PERMISSIONS: dict[str, tuple[Permission, ...]] = {
    "staff": STAFF_PERMISSIONS,
    "manager": (
        *STAFF_PERMISSIONS,
        CHANGE_ENROLLMENT,
        ENROLL_LEARNERS,
        EXPIRE_ACCESS,
        REMOVE_FROM_COURSE,
        UNDO_BATCH,
    ),
}
#: The role whose holders act within the course's limits.
LIMITED_ROLE = "staff"
