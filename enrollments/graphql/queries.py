"""Read operations: `courseMemberships` (a keyset-paged connection) and `courseMembership`.

Both take Healthie's arguments at 2025-01-01 (tests/reference/healthie-2025-01-01.graphql) next
to this API's own: `after` / `before` typed `String` (its clients declare `$after: String`; the
value is still one of our opaque cursors), `client_id` (Healthie's name for the learner, the
same as `user_id`), `fetch_all`, and `courseMembership`'s `course_membership_id`,
`course_item_id` and `user_group_id`.

Both answer within what the caller may read (permissions.visible_enrollments: their own
memberships, and every membership of the courses where they may view enrollments, globally or
through a course role), applied as one condition of the one query that reads the rows: a
membership outside it is absent from the lists, counts and filters, and named by id or by
course and user it answers exactly as one that does not exist (NOT_FOUND, NOT_ENROLLED).
"""

import graphene
from graphql import GraphQLResolveInfo

from enrollments import clock
from enrollments.errors import CourseItemNotFound, MembershipNotFound, NotEnrolled
from enrollments.graphql.errors import bad_input, forbidden
from enrollments.graphql.filters import EnrollmentFilter
from enrollments.graphql.limits import limits
from enrollments.graphql.loading import all_membership_rows, load_memberships
from enrollments.graphql.pagination import KeysetPage, Order
from enrollments.graphql.permissions import (
    request_user,
    viewing_scope,
    visible_enrollments,
    visible_parts,
)
from enrollments.graphql.scalars import ISO8601DateTime
from enrollments.graphql.types import (
    AccessState,
    CourseMembership,
    CourseMembershipOrder,
    CourseMembershipPaginationConnection,
)
from enrollments.models import Enrollment
from enrollments.permissions import VIEW_ENROLLMENT
from enrollments.rules import AccessState as AccessStateValue
from enrollments.selectors.access import not_removed
from lms.identifiers import parse_uuid
from lms.models import CourseItem

#: What `fetch_all: true` reads at most: every matching row up to this many in one answer, and
#: a BAD_USER_INPUT naming the cap when more match (never an unbounded read). Ten pages of the
#: largest page size: a client's "all of one learner's memberships" fits many times over.
FETCH_ALL_MAX = 1000


def _form_errors(filterset: EnrollmentFilter) -> str:
    return "; ".join(
        f"{field}: {' '.join(str(message) for message in messages)}"
        for field, messages in filterset.errors.items()
    )


def _one_of(name: str, value: str | None, other_name: str, other: str | None) -> str | None:
    """`value` or `other` (two names of one argument); both given must agree: as ids when both
    are UUIDs (one spelt in capitals names the same row), else as given."""
    if (
        value is not None
        and other is not None
        and (parse_uuid(value) or value) != (parse_uuid(other) or other)
    ):
        raise bad_input(f"`{name}` and `{other_name}` name the same thing: pass one of them")
    return value if value is not None else other


class Query(graphene.ObjectType):
    course_memberships = graphene.Field(
        CourseMembershipPaginationConnection,
        name="courseMemberships",
        required=True,
        description=(
            "Fetch paginated course membership collection (keyset cursors). The signed-in "
            "user's own, and everyone's in the courses where they hold the "
            f"{VIEW_ENROLLMENT} permission (every course when held globally, else those of "
            "their course roles)."
        ),
        first=graphene.Int(description="Returns the first _n_ elements from the list."),
        after=graphene.String(
            description="Returns the elements in the list that come after the specified cursor."
        ),
        last=graphene.Int(description="Returns the last _n_ elements from the list."),
        before=graphene.String(
            description="Returns the elements in the list that come before the specified cursor."
        ),
        client_id=graphene.ID(description="Only memberships of this learner (as `user_id`)"),
        fetch_all=graphene.Boolean(
            description=(
                f"Every matching membership in one answer, up to {FETCH_ALL_MAX}; more is an "
                "error naming the limit (narrow the filters, or page with first/after). Not "
                "with first or last."
            )
        ),
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
            "fetch a courseMembership by id (`id` or `course_membership_id`), by `course_id` "
            "and `user_id`, or by `course_item_id` and `user_id` (that user's membership of the "
            f"item's course). Others' memberships need the {VIEW_ENROLLMENT} permission, "
            "globally or through a course role in their course: outside it a membership "
            "answers as one that does not exist (by `user_id` without that permission in any "
            "course: forbidden)."
        ),
        id=graphene.ID(description="id of the membership"),
        course_membership_id=graphene.ID(description="id of the membership (the same as `id`)"),
        course_id=graphene.ID(description="id of the course (with user_id)"),
        course_item_id=graphene.ID(
            description="id of an item of the course (with user_id): the user's membership of it"
        ),
        user_id=graphene.ID(description="id of the user (with course_id or course_item_id)"),
        user_group_id=graphene.ID(
            description="Not supported: this API has no user groups (always an error)"
        ),
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
        client_id: str | None = None,
        fetch_all: bool | None = None,
        **filters,
    ) -> KeysetPage:
        user = request_user(info)
        filters["user_id"] = _one_of("client_id", client_id, "user_id", filters.get("user_id"))
        if fetch_all and (first is not None or last is not None):
            raise bad_input("Pass either `fetch_all` or `first` / `last`, not both")
        # Enum arguments arrive as enum members; the FilterSet validates plain values.
        data = {
            name: getattr(value, "value", value)
            for name, value in filters.items()
            if value is not None
        }
        # Removed learners leave the lists unless asked for (accessState: REMOVED); asked for
        # by id they are still found.
        everyone, keys = all_membership_rows(), Enrollment.objects.all()
        if data.get("access_state") != AccessStateValue.REMOVED.value:
            everyone, keys = not_removed(everyone), not_removed(keys)
        # The filters, then what the user may see of them (KeysetPage applies `visible`).
        filterset = EnrollmentFilter(data=data, queryset=everyone, request=info.context)
        if not filterset.is_valid():
            raise bad_input(f"Invalid filter: {_form_errors(filterset)}")
        visible = visible_parts(user)
        current = limits()
        page = KeysetPage(
            filterset.qs,
            order=Order(getattr(order, "value", order) or Order.CREATED_AT_ASC),
            first=FETCH_ALL_MAX if fetch_all else first,
            after=after,
            last=last,
            before=before,
            max_page_size=FETCH_ALL_MAX if fetch_all else current.max_page_size,
            default_page_size=current.default_page_size,
            visible=visible,
            # The same filters without the annotations, for reading several parts' first ids.
            keys=filterset.filter_queryset(keys) if len(visible) > 1 else None,
            at=clock.request_now(info.context),
        )
        if fetch_all and page.has_next_page:
            raise bad_input(
                f"`fetch_all` returns at most {FETCH_ALL_MAX} memberships and more match: "
                "narrow the filters, or page with `first` and `after`"
            )
        return page

    @staticmethod
    def resolve_course_membership(
        root,
        info: GraphQLResolveInfo,
        id: str | None = None,  # noqa: A002 - the contract's argument name
        course_membership_id: str | None = None,
        course_id: str | None = None,
        course_item_id: str | None = None,
        user_id: str | None = None,
        user_group_id: str | None = None,
    ) -> Enrollment:
        user = request_user(info)
        if user_group_id is not None:
            raise bad_input(
                "`user_group_id` is not supported: this API has no user groups. Ask by `id`, by "
                "`course_id` and `user_id`, or by `course_item_id` and `user_id`"
            )
        membership_id = _one_of("id", id, "course_membership_id", course_membership_id)
        keys = [key is not None for key in (membership_id, course_id, course_item_id)]
        by_id = membership_id is not None
        # Exactly one key; `user_id` with a course or an item, never with a membership id.
        if keys.count(True) != 1 or (user_id is None) != by_id:
            raise bad_input(
                "Pass either `id` (or `course_membership_id`), or `user_id` with one of "
                "`course_id` and `course_item_id`"
            )
        if user_id is not None and parse_uuid(user_id) != user.pk and viewing_scope(user).empty:
            # Asking by someone else's user id without viewing anyone's anywhere: the client
            # knows whose it is, so say no. A course role's holder is answered from their
            # scope below (another course's membership: as one that does not exist).
            raise forbidden()
        if course_item_id is not None:
            course_id = _course_of_item(course_item_id)
        # One read, in what the user may see: others' memberships do not exist for a student,
        # nor other courses' for a course's staff.
        visible = visible_enrollments(user, Enrollment.objects.all())
        if by_id:
            lookup, not_found = {"pk": parse_uuid(membership_id)}, MembershipNotFound
        else:
            lookup = {"user_id": parse_uuid(user_id), "course_id": parse_uuid(course_id)}
            not_found = NotEnrolled
        malformed = None in lookup.values()
        rows = (
            []
            if malformed
            else load_memberships(visible.filter(**lookup), at=clock.request_now(info.context))
        )
        if not rows:
            raise not_found()
        return rows[0]


def _course_of_item(course_item_id: str) -> str:
    """The id of the course the item belongs to. Raises CourseItemNotFound."""
    pk = parse_uuid(course_item_id)
    course_ids = [] if pk is None else CourseItem.objects.filter(pk=pk).values_list("course_id")
    for (course_id,) in course_ids:
        return str(course_id)
    raise CourseItemNotFound()
