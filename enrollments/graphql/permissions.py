"""Who may do what through the API: the same permissions the admin and commands use, named once
in enrollments.permissions (each mutation asks the permission its operation names), held
globally (Django's permissions: every course) or through a course role (lms.CourseRole: in
that course only; enrollments/operations/scope.py).

- anonymous: nothing (UNAUTHENTICATED);
- any signed-in user (session or API key): their own memberships, completing their own items;
- VIEW_ENROLLMENT: everyone's memberships in the courses where it is held (all of them when
  global), as one condition on the query (`visible_enrollments`), never a check per row;
- each mutation: its operation's `permission`, held globally or in at least one course
  (`require_scope`, else FORBIDDEN, as before roles existed); the mutation then acts only
  within that scope, and a target outside it answers exactly as a target that does not exist
  (NOT_FOUND, NOT_ENROLLED, BATCH_NOT_FOUND: the project's choice, docs/api.md "Course roles
  and scope"). Its schema description names the permission; the README's permission table
  lists them all.
"""

import functools
import operator

from django.db.models import Q, QuerySet
from graphql import GraphQLResolveInfo

from enrollments.graphql.errors import forbidden, unauthenticated
from enrollments.models import Enrollment
from enrollments.operations.scope import Scope, scope_of
from enrollments.permissions import VIEW_ENROLLMENT, Permission
from lms.models import User


def request_user(info: GraphQLResolveInfo) -> User:
    """The signed-in user (by session or API key). Raises UNAUTHENTICATED."""
    user = getattr(info.context, "user", None)
    if user is None or not user.is_authenticated or not user.is_active:
        raise unauthenticated()
    return user


def require_perm(info: GraphQLResolveInfo, permission: Permission) -> User:
    """The signed-in user if they hold `permission` globally (no course role grants it: the
    webhooks'). Raises UNAUTHENTICATED or FORBIDDEN."""
    user = request_user(info)
    if not permission.held_by(user):
        raise forbidden()
    return user


def require_scope(info: GraphQLResolveInfo, permission: Permission) -> tuple[User, Scope]:
    """The signed-in user and the courses where they hold `permission` (every course when
    they hold it globally). Raises UNAUTHENTICATED, or FORBIDDEN when they hold it nowhere:
    a course role is enough to be let in, and the scope keeps the mutation to its courses."""
    user = request_user(info)
    scope = scope_of(user, permission)
    if scope.empty:
        raise forbidden()
    return user, scope


def viewing_scope(user: User) -> Scope:
    """The courses whose memberships `user` may read, whoever's they are (VIEW_ENROLLMENT,
    globally or through course roles; empty for a learner). Cheap to ask again: the roles are
    read once per user object (an API key's with its cached permissions)."""
    return scope_of(user, VIEW_ENROLLMENT)


def may_read_learner(user: User, learner_id: object, course_id: object) -> bool:
    """Whether `user` may read learner `learner_id`'s membership of course `course_id` (and
    so the learner's e-mail): their own always, anyone's in the courses of their viewing
    scope. The queries apply the same rule as a filter (visible_enrollments), the mutations'
    payloads to the learner they show (loading.load_membership)."""
    return learner_id == user.pk or viewing_scope(user).covers(course_id)


def visible_parts(user: User) -> tuple[Q, ...]:
    """What `user` may read (may_read_learner) as conditions on enrollments, each served by an
    index of its own: none (everything) with the global `view_enrollment`; else their own
    memberships (`user_id`), and the courses where a role lets them view enrollments
    (`course_id IN (...)`, when there are any). A page reads each part's first rows and
    merges them (pagination.KeysetPage), as a planner cannot walk one index in order for
    their OR."""
    scope = viewing_scope(user)
    if scope.everywhere:
        return ()
    own = Q(user_id=user.pk)
    return (own,) if scope.empty else (scope.condition(), own)


def visible_enrollments(user: User, queryset: QuerySet[Enrollment]) -> QuerySet[Enrollment]:
    """The part of `queryset` that `user` may read (visible_parts): all of it with the global
    `view_enrollment`; their own memberships, and those of the courses where a role lets them
    view enrollments, otherwise. One condition of the query, never a check per row."""
    parts = visible_parts(user)
    if not parts:
        return queryset
    return queryset.filter(functools.reduce(operator.or_, parts))
