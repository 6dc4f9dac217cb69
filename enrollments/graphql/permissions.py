"""Who may do what through the API: the same permissions the admin and commands use, named once
in enrollments.permissions (each mutation asks the permission its operation names).

- anonymous: nothing (UNAUTHENTICATED);
- any signed-in user (session or API key): their own memberships, completing their own items;
- VIEW_ENROLLMENT: everyone's memberships;
- each mutation: its operation's `permission` (`require_perm(info, Extend.permission)`), which
  its schema description names too; the README's permission table lists them all.
"""

from django.db.models import QuerySet
from graphql import GraphQLResolveInfo

from enrollments.graphql.errors import forbidden, unauthenticated
from enrollments.models import Enrollment
from enrollments.permissions import VIEW_ENROLLMENT, Permission
from lms.models import User


def request_user(info: GraphQLResolveInfo) -> User:
    """The signed-in user (by session or API key). Raises UNAUTHENTICATED."""
    user = getattr(info.context, "user", None)
    if user is None or not user.is_authenticated or not user.is_active:
        raise unauthenticated()
    return user


def require_perm(info: GraphQLResolveInfo, permission: Permission) -> User:
    """The signed-in user if they hold `permission`. Raises UNAUTHENTICATED or FORBIDDEN."""
    user = request_user(info)
    if not permission.held_by(user):
        raise forbidden()
    return user


def can_view_all(user: User) -> bool:
    return VIEW_ENROLLMENT.held_by(user)


def may_read_learner(user: User, learner_id: object) -> bool:
    """Whether `user` may read what is learner `learner_id`'s (their memberships, their e-mail):
    everyone's with `view_enrollment`, their own otherwise. The queries apply it as a filter
    (visible_enrollments), the mutations' payloads to the learner they show (types.py)."""
    return can_view_all(user) or learner_id == user.pk


def visible_enrollments(user: User, queryset: QuerySet[Enrollment]) -> QuerySet[Enrollment]:
    """The part of `queryset` that `user` may read (may_read_learner): all of it with
    `view_enrollment`, their own memberships otherwise."""
    if can_view_all(user):
        return queryset
    return queryset.filter(user_id=user.pk)
