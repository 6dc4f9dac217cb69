"""Read operations: `courseMemberships` (a keyset-paged connection) and `courseMembership`."""

import graphene
from graphql import GraphQLResolveInfo

from enrollments.errors import MembershipNotFound, NotEnrolled
from enrollments.graphql.errors import bad_input, forbidden
from enrollments.graphql.filters import EnrollmentFilter
from enrollments.graphql.limits import limits
from enrollments.graphql.pagination import KeysetPage, Order
from enrollments.graphql.permissions import can_view_all, request_user, visible_enrollments
from enrollments.graphql.scalars import Cursor, ISO8601DateTime
from enrollments.graphql.types import (
    AccessState,
    CourseMembership,
    CourseMembershipConnection,
    CourseMembershipOrder,
    load_memberships,
)
from enrollments.models import Enrollment
from enrollments.permissions import VIEW_ENROLLMENT
from enrollments.selectors import memberships_with_progress
from lms.identifiers import parse_uuid


def _form_errors(filterset: EnrollmentFilter) -> str:
    return "; ".join(
        f"{field}: {' '.join(str(message) for message in messages)}"
        for field, messages in filterset.errors.items()
    )


class Query(graphene.ObjectType):
    course_memberships = graphene.Field(
        CourseMembershipConnection,
        name="courseMemberships",
        required=True,
        description=(
            "Course memberships, a page at a time (keyset cursors). Everyone's with the "
            f"{VIEW_ENROLLMENT} permission; otherwise the signed-in user's own."
        ),
        first=graphene.Int(description="Page size when paging forward (at most 100)"),
        after=Cursor(description="Return the rows after this cursor"),
        last=graphene.Int(description="Page size when paging backward (at most 100)"),
        before=Cursor(description="Return the rows before this cursor"),
        course_id=graphene.ID(description="Only memberships of this course"),
        user_id=graphene.ID(description="Only memberships of this user"),
        course_status=graphene.String(
            description="Only this course_status: not_started, in_progress or completed"
        ),
        is_paused=graphene.Boolean(description="Only paused (true) or running (false) ones"),
        access_state=AccessState(description="Only memberships in this access state now"),
        ended_before=ISO8601DateTime(
            description="Only memberships whose access ends before this instant (exclusive)"
        ),
        ended_after=ISO8601DateTime(
            description="Only memberships whose access ends at or after this instant"
        ),
        order=CourseMembershipOrder(
            default_value=CourseMembershipOrder.CREATED_AT_ASC.value,
            description="Order of the rows (ties broken by id)",
        ),
    )
    course_membership = graphene.Field(
        CourseMembership,
        name="courseMembership",
        description=(
            "One membership, by its `id` or by `course_id` and `user_id`. Others' memberships "
            f"need the {VIEW_ENROLLMENT} permission."
        ),
        id=graphene.ID(description="id of the membership"),
        course_id=graphene.ID(description="id of the course (with user_id)"),
        user_id=graphene.ID(description="id of the user (with course_id)"),
    )

    @staticmethod
    def resolve_course_memberships(
        root,
        info: GraphQLResolveInfo,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        order: str | None = None,
        **filters,
    ) -> KeysetPage:
        user = request_user(info)
        # Enum arguments arrive as enum members; the FilterSet validates plain values.
        data = {
            name: getattr(value, "value", value)
            for name, value in filters.items()
            if value is not None
        }
        scope = visible_enrollments(user, Enrollment.objects.all())
        filterset = EnrollmentFilter(data=data, queryset=memberships_with_progress(scope))
        if not filterset.is_valid():
            raise bad_input(f"Invalid filter: {_form_errors(filterset)}")
        current = limits()
        return KeysetPage(
            filterset.qs,
            order=Order(getattr(order, "value", order) or Order.CREATED_AT_ASC),
            first=first,
            after=after,
            last=last,
            before=before,
            max_page_size=current.max_page_size,
            default_page_size=current.default_page_size,
        )

    @staticmethod
    def resolve_course_membership(
        root,
        info: GraphQLResolveInfo,
        id: str | None = None,  # noqa: A002 - the contract's argument name
        course_id: str | None = None,
        user_id: str | None = None,
    ) -> Enrollment:
        user = request_user(info)
        by_id = id is not None and course_id is None and user_id is None
        if not by_id and (id is not None or course_id is None or user_id is None):
            raise bad_input("Pass either `id`, or `course_id` and `user_id`")
        if not by_id and parse_uuid(user_id) != user.pk and not can_view_all(user):
            # Asking by someone else's user id: the client knows whose it is, so say no.
            raise forbidden()
        # One read, in what the user may see: others' memberships do not exist for a student.
        scope = visible_enrollments(user, Enrollment.objects.all())
        if by_id:
            lookup, not_found = {"pk": parse_uuid(id)}, MembershipNotFound
        else:
            lookup = {"user_id": parse_uuid(user_id), "course_id": parse_uuid(course_id)}
            not_found = NotEnrolled
        malformed = None in lookup.values()
        rows = [] if malformed else load_memberships(scope.filter(**lookup))
        if not rows:
            raise not_found()
        return rows[0]
