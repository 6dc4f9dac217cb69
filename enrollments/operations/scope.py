"""Whose selection it is: the courses an actor may act in with one permission (issue 25).

A global permission (Django's `has_perm`) reaches every course. Otherwise a user reaches the
courses where their course role (lms.CourseRole) grants the permission
(permissions.ROLE_PERMISSIONS), and acts there within the course's limits when that role is
staff (operations/limits.py). A `Scope` is one indexed condition on `course_id`, never a
per-row check: the core applies it where it reads and locks a selection (core._read_rows), so
every door sees and changes the same rows, and a bulk selection never touches a row outside
it whatever its filter says.

A named enrollment outside the scope is answered as not found (MembershipNotFound,
NOT_FOUND), the way Open edX answers 404 rather than reveal another course's learners: a
caller cannot tell "not yours" from "not there". A caller holding the permission in no course
at all is refused before that (FORBIDDEN), as before roles existed.

The roles are read once per user object (a request, a command) and kept on it; an API key's
user gets them with its cached permission set (apikeys/permission_cache.py), so a scoped page
costs no statement more than a global one.
"""

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.db.models import Q

from enrollments.permissions import LIMITED_ROLE, ROLE_PERMISSIONS, Permission

#: The user object's attribute holding {course_id: role} once read (roles_of).
ROLES_ATTRIBUTE = "course_roles_held"
#: The user object's attribute holding {permission name: Scope} once computed (scope_of).
SCOPES_ATTRIBUTE = "course_scopes_held"
#: A one-item list an API key's cache entry shares with every user object it loads
#: (apikeys/permission_cache.py): roles_of fills it once per cache period.
ROLES_SLOT = "course_roles_slot"


@dataclass(frozen=True, slots=True)
class Scope:
    """The courses a selection may reach: every course (`courses` None), or those listed.
    `limited`: the courses among them where the actor acts within the course's staff limits."""

    courses: frozenset[uuid.UUID] | None = None
    limited: frozenset[uuid.UUID] = frozenset()

    @property
    def everywhere(self) -> bool:
        return self.courses is None

    @property
    def empty(self) -> bool:
        """Reaches no course: the door refuses with FORBIDDEN."""
        return self.courses is not None and not self.courses

    def covers(self, course_id: object) -> bool:
        return self.courses is None or course_id in self.courses

    def condition(self, field: str = "course_id") -> Q:
        """The scope as one condition on a course id column (`field`, e.g.
        `enrollment__course_id` for audit rows)."""
        if self.courses is None:
            return Q()
        return Q(**{f"{field}__in": sorted(self.courses, key=str)})

    def within(self, other: "Scope") -> "Scope":
        """Both scopes at once (a door's selection, re-checked by the core for its actor)."""
        if other.courses is None:
            courses = self.courses
        elif self.courses is None:
            courses = other.courses
        else:
            courses = self.courses & other.courses
        return Scope(courses, self.limited | other.limited)


#: Every course, no limit: operators' commands without `--actor`, the system's sweeps, and
#: anyone holding the global permission.
EVERYWHERE = Scope()


def roles_of(user) -> Mapping[uuid.UUID, str]:
    """{course id: role} for `user`, read once per user object (one query) and kept on it."""
    held = getattr(user, ROLES_ATTRIBUTE, None)
    if held is not None:
        return held
    slot = getattr(user, ROLES_SLOT, None)
    held = slot[0] if slot is not None else None
    if held is None:
        held = read_roles(user.pk)
        if slot is not None:
            slot[0] = held
    setattr(user, ROLES_ATTRIBUTE, held)
    return held


def remember_roles(user, roles: Mapping[uuid.UUID, str]) -> None:
    """Gives `user` the roles a caller read with something else in one query (the admin's
    list reads them with its course filter's titles), so roles_of reads nothing."""
    if getattr(user, ROLES_ATTRIBUTE, None) is None:
        setattr(user, ROLES_ATTRIBUTE, dict(roles))


def roles_known(user) -> bool:
    """Whether `user`'s roles were read already (by roles_of or remember_roles)."""
    return getattr(user, ROLES_ATTRIBUTE, None) is not None


def read_roles(user_id: object) -> dict[uuid.UUID, str]:
    from lms.models import CourseRole  # lms.models imports the core's model mixins

    return dict(CourseRole.objects.filter(user_id=user_id).values_list("course_id", "role"))


def scope_of(user, permission: Permission) -> Scope:
    """Where `user` may act with `permission`: everywhere for a global holder (and for no
    user: the system, an operator's command), else the courses their roles grant it in."""
    if user is None:
        return EVERYWHERE
    # Kept on the user object per permission, as Django keeps its permissions there: a page
    # asks once per row whether its reader may see the learner's e-mail.
    known = getattr(user, SCOPES_ATTRIBUTE, None)
    if known is None:
        known = {}
        setattr(user, SCOPES_ATTRIBUTE, known)
    scope = known.get(permission.name)
    if scope is None:
        scope = known[permission.name] = _scope_of(user, permission)
    return scope


def actor_now(user):
    """`user` read again from the database: what a long piece of work (a run's chunk, a
    command's batch) acts as, as each request reads its user. The user object keeps its roles
    and scopes (above) and Django keeps its permissions on it once read, so without this a role
    revoked, a permission withdrawn or an account deactivated while a run went on would not
    stop its later chunks. None (the system, an operator) stays None; a user deleted meanwhile
    becomes an inactive stand-in that may act nowhere (never the system's EVERYWHERE)."""
    if user is None:
        return None
    from django.contrib.auth import get_user_model

    model = get_user_model()
    return model.objects.filter(pk=user.pk).first() or model(pk=user.pk, is_active=False)


def _scope_of(user, permission: Permission) -> Scope:
    if not user.is_active:
        return Scope(frozenset())
    if permission.held_by(user):
        return EVERYWHERE
    roles = roles_of(user)
    courses = frozenset(c for c, role in roles.items() if permission in ROLE_PERMISSIONS[role])
    limited = frozenset(c for c in courses if roles[c] == LIMITED_ROLE)
    return Scope(courses, limited)


def actor_scope(user, permission: Permission) -> Scope:
    """The core's own check (core._apply_locked, runs.start): where `user` may act with
    `permission`, whatever scope a door passed. The doors refuse a user who may act nowhere
    first (FORBIDDEN); should one not, the core reads no row for them."""
    return scope_of(user, permission)


def scope_of_any(user, permissions: Iterable[Permission]) -> Scope:
    """Where `user` may act with at least one of `permissions` (a page that shows rows to
    anyone who may view or change them)."""
    courses: set[uuid.UUID] = set()
    limited: set[uuid.UUID] = set()
    for permission in permissions:
        scope = scope_of(user, permission)
        if scope.everywhere:
            return EVERYWHERE
        courses |= scope.courses or set()
        limited |= scope.limited
    return Scope(frozenset(courses), frozenset(limited))


def may_act_somewhere(user, permission: Permission) -> bool:
    """Whether `user` holds `permission` globally or in at least one course (a door's
    FORBIDDEN check)."""
    return not scope_of(user, permission).empty
