"""Who may do what through the API: the same Django permissions the admin and commands use.

- anonymous: nothing (UNAUTHENTICATED);
- any signed-in user (session or API key): their own memberships, completing their own items;
- `enrollments.view_enrollment`: everyone's memberships;
- `enrollments.extend_access`: extendStudentCourseAccess;
- `enrollments.pause_enrollment`: pauseCourseMembership / resumeCourseMembership.
"""

from django.db.models import QuerySet
from graphql import GraphQLResolveInfo

from enrollments.graphql.errors import forbidden, unauthenticated
from enrollments.models import Enrollment
from lms.models import User

VIEW_ALL = "enrollments.view_enrollment"
EXTEND = "enrollments.extend_access"
PAUSE = "enrollments.pause_enrollment"


def request_user(info: GraphQLResolveInfo) -> User:
    """The signed-in user (by session or API key). Raises UNAUTHENTICATED."""
    user = getattr(info.context, "user", None)
    if user is None or not user.is_authenticated or not user.is_active:
        raise unauthenticated()
    return user


def require_perm(info: GraphQLResolveInfo, perm: str) -> User:
    """The signed-in user if they hold `perm`. Raises UNAUTHENTICATED or FORBIDDEN."""
    user = request_user(info)
    if not user.has_perm(perm):
        raise forbidden()
    return user


def can_view_all(user: User) -> bool:
    return user.has_perm(VIEW_ALL)


def visible_enrollments(user: User, queryset: QuerySet[Enrollment]) -> QuerySet[Enrollment]:
    """The part of `queryset` that `user` may read: all of it with `view_enrollment`, their own
    memberships otherwise."""
    if can_view_all(user):
        return queryset
    return queryset.filter(user_id=user.pk)
