"""The API's object types.

Naming (one rule, applied everywhere): the schema is built with `auto_camelcase=False`, so every
GraphQL name is spelled in the code exactly as the contract spells it, never derived. The
contract has two styles and each part keeps its own:

- `CourseMembership` and its neighbours (000_*: `course_status`, `is_paused`, ...) are
  snake_case, and so are the query arguments and inputs that go with them (`course_id`,
  `page_info`, `total_count`, `course_item_id`);
- the `extendStudentCourseAccess` mutation (003_*) is camelCase (`userId`, `newEndedAt`,
  `completionRate`, `endedAt` as Unix seconds), as are the root fields (`courseMemberships`,
  `pauseCourseMembership`) and payload fields (`courseMembership`). Python attributes stay
  snake_case and carry the camelCase spelling in `name=`.

The nested types (`Course`, `CourseItem`, `User`) carry every field of Healthie's types of the
same names (tests/reference/healthie-2025-01-01.graphql) that has a meaning here, with the
reference's name, type and description; docs/api.md lists the ones left out and why. Our own
older fields (`title`, `kind`, `slug`, ...) stay beside them.

"Enrollment" is the one name of the concept in the code; `CourseMembership` and
`StudentCourseShip` are the contract's names for two views of an Enrollment. Both resolve from an
enrollment loaded through `loading.load_memberships` (progress annotations, course and user
joined, next items attached), so no field runs a query of its own but the courses' items,
read for every course of the page in one query, once per request (`loading.course_items`).
What they read are the loading's plain rows (`LoadedMembership`, `LoadedCourse`, `LoadedUser`,
`LoadedItem`: the selected columns as attributes), not model instances, which cost a
`Model.__init__` each.
"""

from collections.abc import Sequence
from datetime import datetime

import graphene
from graphene.types.resolver import attr_resolver

from enrollments.graphql.loading import (
    LoadedCourse,
    LoadedItem,
    LoadedMembership,
    LoadedUser,
    course_items,
)
from enrollments.graphql.pagination import KeysetPage, Order, encode_cursor
from enrollments.graphql.resolving import root_only
from enrollments.graphql.scalars import Cursor, ISO8601DateTime
from enrollments.rules import AccessState as AccessStateValue
from enrollments.selectors.access import enrollment_access_state, enrollment_has_access
from enrollments.selectors.memberships import completion_rate, membership_updated_at


def learner_email(user: LoadedUser) -> str | None:
    """The learner's e-mail, None when withheld from this caller (load_membership)."""
    return None if getattr(user, "contact_withheld", False) else user.email


def learner_name(user: LoadedUser) -> str:
    """The display name (the full name, else the e-mail); when the e-mail is withheld, the full
    name alone (empty when none was given)."""
    return user.full_name if getattr(user, "contact_withheld", False) else user.name


def unix_seconds(value: datetime | None) -> int | None:
    return None if value is None else int(value.timestamp())


class AccessState(graphene.Enum):
    """Where a membership stands now. Removed wins over everything, paused over the time
    window."""

    ACTIVE = AccessStateValue.ACTIVE.value
    EXPIRED = AccessStateValue.EXPIRED.value
    NOT_STARTED = AccessStateValue.NOT_STARTED.value
    PAUSED = AccessStateValue.PAUSED.value
    REMOVED = AccessStateValue.REMOVED.value


class CourseMembershipOrder(graphene.Enum):
    """Orders of `courseMemberships`; ties are broken by id, so every order is total."""

    CREATED_AT_ASC = Order.CREATED_AT_ASC.value
    CREATED_AT_DESC = Order.CREATED_AT_DESC.value


class ReadByAttribute:
    """Meta options of the types whose values are always objects (model instances, the
    loading's LoadedItem), never dicts: their fields without a resolver read an attribute
    (graphene's attr_resolver), without graphene's default check for a dict first, on most
    of the some 3,500 fields of a page of 100."""

    default_resolver = attr_resolver


def _neighbour(info, item: LoadedItem, step: int) -> LoadedItem | None:
    items = course_items(info, item.course)
    index = next((n for n, other in enumerate(items) if other.pk == item.pk), None)
    if index is None or not 0 <= index + step < len(items):
        return None
    return items[index + step]


class Course(graphene.ObjectType):
    """A Course"""

    class Meta(ReadByAttribute):
        pass

    # Healthie's Course fields that have a meaning here (the reference's descriptions).
    course_items = graphene.List(
        graphene.NonNull(lambda: CourseItem),
        required=True,
        description="The items of a course",
        include_emails=graphene.Boolean(
            default_value=True,
            description="Accepted for compatibility; no item is an e-mail here, so it changes "
            "nothing",
        ),
    )
    created_at = ISO8601DateTime(required=True, description="date course was created")
    description = graphene.String(description="Description of course")
    id = graphene.ID(required=True, description="The unique identifier of the course")
    name = graphene.String(source="title", description="Name of course")
    updated_at = ISO8601DateTime(description="date course was updated")

    # This API's own.
    slug = graphene.String(required=True, description="URL-friendly unique name of the course")
    title = graphene.String(required=True, description="Title of the course")
    access_days = graphene.Int(
        description="Days of access new enrollments get; null means indefinite access"
    )
    pause_freezes_access = graphene.Boolean(
        required=True,
        description="Whether time spent paused is added back to the end of access on resume",
    )

    @staticmethod
    def resolve_course_items(root: LoadedCourse, info, include_emails: bool = True):
        return course_items(info, root)


class User(graphene.ObjectType):
    """An user entry, returns basic user information"""

    class Meta(ReadByAttribute):
        pass

    # Null in a mutation's payload to a caller who may not read this learner (load_membership);
    # the reference's type is nullable too.
    email = graphene.String(description="The email of this user")
    first_name = graphene.String(description="The first (preferred) name of this user")
    # The same display name as `name` (and AdminUser.name): the reference describes both as the
    # full name; someone who gave no name is shown by e-mail address (when it is not withheld).
    full_name = graphene.String(description="The full name of the user")
    id = graphene.ID(required=True, description="The unique identifier of the user")
    last_name = graphene.String(description="The last name of this user")
    name = graphene.String(required=True, description="The full name of the user")

    @staticmethod
    @root_only
    def resolve_email(root: LoadedUser, info) -> str | None:
        return learner_email(root)

    @staticmethod
    @root_only
    def resolve_full_name(root: LoadedUser, info) -> str:
        return learner_name(root)

    @staticmethod
    @root_only
    def resolve_name(root: LoadedUser, info) -> str:
        return learner_name(root)


class CourseItem(graphene.ObjectType):
    """A Course Item"""

    class Meta(ReadByAttribute):
        pass

    # Healthie's CourseItem fields that have a meaning here (the reference's descriptions).
    course = graphene.Field(Course, description="The associated course")
    course_id = graphene.ID(required=True, description="id of course associated with item")
    course_name = graphene.String(description="name of course that item belongs to")
    created_at = ISO8601DateTime(required=True, description="when item was created")
    description = graphene.String(description="description of item")
    id = graphene.ID(required=True, description="The unique identifier of the item")
    item_type = graphene.String(source="kind", description="type of course item")
    name = graphene.String(source="title", description="name of item")
    next_item = graphene.Field(lambda: CourseItem, description="The next item in the course")
    position = graphene.Int(
        required=True,
        description=(
            "The position of the course item type when shown in a list of other modules on "
            "the same day"
        ),
    )
    prev_item = graphene.Field(lambda: CourseItem, description="The previous item in the course")
    updated_at = ISO8601DateTime(required=True, description="when item was updated")

    # This API's own.
    title = graphene.String(required=True, description="Title of the item")
    kind = graphene.String(
        required=True, description="Kind of item: lesson, quiz, assignment or video"
    )

    @staticmethod
    def resolve_course_name(root: LoadedItem, info) -> str:
        return root.course.title

    @staticmethod
    def resolve_next_item(root: LoadedItem, info) -> LoadedItem | None:
        return _neighbour(info, root, +1)

    @staticmethod
    def resolve_prev_item(root: LoadedItem, info) -> LoadedItem | None:
        return _neighbour(info, root, -1)


class CourseMembership(graphene.ObjectType):
    """Relationship between a user and a course"""

    class Meta(ReadByAttribute):
        pass

    # The contract's fields (000_*), verbatim and in its order.
    course = graphene.Field(Course, description="the course associated with this membership")
    course_id = graphene.ID(description="id of course related to this membership")
    course_status = graphene.String(
        required=True, description="status of related course completion"
    )
    created_at = ISO8601DateTime(required=True, description="date membership was created")
    cursor = Cursor(required=True, description="Pagination cursor")
    id = graphene.ID(required=True, description="The unique identifier of the membership")
    is_paused = graphene.Boolean(
        required=True, description="Whether the membership is currently paused"
    )
    next_incomplete_item = graphene.Field(CourseItem, description="The next incomplete item")
    next_next_incomplete_item = graphene.Field(
        CourseItem, description="The incomplete item after the next incomplete item"
    )
    paused_at = ISO8601DateTime(
        description="Timestamp the membership was paused; null when not paused"
    )
    start_at = ISO8601DateTime(description="start of course")
    total_paused_duration = graphene.Int(
        required=True,
        description="Cumulative paused duration in seconds across all pause/resume cycles",
    )
    updated_at = ISO8601DateTime(required=True, description="date membership was updated")
    user = graphene.Field(User, description="the user associated with this membership")
    user_id = graphene.ID(description="id of user related to this membership")

    # Additions (not in the contract).
    ended_at = ISO8601DateTime(description="End of access (exclusive); null means indefinite")
    access_state = graphene.Field(
        AccessState, required=True, description="Where the membership stands now"
    )
    has_access = graphene.Boolean(
        required=True, description="Whether the membership gives access now"
    )
    completion_rate = graphene.Float(
        required=True, description="Completed items over the course's items, from 0 to 1"
    )

    @staticmethod
    @root_only
    def resolve_cursor(root: LoadedMembership, info) -> str:
        return encode_cursor(root)

    @staticmethod
    @root_only
    def resolve_next_incomplete_item(root: LoadedMembership, info) -> LoadedItem | None:
        return root.next_item

    @staticmethod
    @root_only
    def resolve_next_next_incomplete_item(root: LoadedMembership, info) -> LoadedItem | None:
        return root.next_next_item

    @staticmethod
    @root_only
    def resolve_updated_at(root: LoadedMembership, info) -> datetime:
        return membership_updated_at(root)

    @staticmethod
    @root_only
    def resolve_access_state(root: LoadedMembership, info) -> str:
        return enrollment_access_state(root, at=root.access_at).value

    @staticmethod
    @root_only
    def resolve_has_access(root: LoadedMembership, info) -> bool:
        return enrollment_has_access(root, at=root.access_at)

    @staticmethod
    @root_only
    def resolve_completion_rate(root: LoadedMembership, info) -> float:
        return completion_rate(root)


class CourseMembershipEdge(graphene.ObjectType):
    """A membership and its cursor."""

    cursor = Cursor(required=True, description="Pagination cursor (the node's own cursor)")
    node = graphene.Field(CourseMembership, required=True)

    @staticmethod
    @root_only
    def resolve_cursor(root: LoadedMembership, info) -> str:
        return encode_cursor(root)

    @staticmethod
    @root_only
    def resolve_node(root: LoadedMembership, info) -> LoadedMembership:
        return root


class PageInfo(graphene.ObjectType):
    """Where a page stands in the whole list."""

    has_next_page = graphene.Boolean(
        required=True, description="Whether rows follow this page (in the walk's order)"
    )
    has_previous_page = graphene.Boolean(
        required=True, description="Whether rows precede this page (in the walk's order)"
    )
    start_cursor = Cursor(description="Cursor of the page's first row; null on an empty page")
    end_cursor = Cursor(description="Cursor of the page's last row; null on an empty page")

    @staticmethod
    @root_only
    def resolve_has_next_page(root: KeysetPage, info) -> bool:
        return root.has_next_page

    @staticmethod
    @root_only
    def resolve_has_previous_page(root: KeysetPage, info) -> bool:
        return root.has_previous_page

    @staticmethod
    @root_only
    def resolve_start_cursor(root: KeysetPage, info) -> str | None:
        return encode_cursor(root.rows[0]) if root.rows else None

    @staticmethod
    @root_only
    def resolve_end_cursor(root: KeysetPage, info) -> str | None:
        return encode_cursor(root.rows[-1]) if root.rows else None


class CourseMembershipPaginationConnection(graphene.ObjectType):
    """The connection type for CourseMembership."""

    edges = graphene.List(graphene.NonNull(CourseMembershipEdge), required=True)
    nodes = graphene.List(graphene.NonNull(CourseMembership), required=True)
    page_info = graphene.Field(PageInfo, required=True)
    total_count = graphene.Int(
        required=True, description="Rows matching the filters (counted only when asked for)"
    )

    @staticmethod
    @root_only
    def resolve_edges(root: KeysetPage, info) -> Sequence[LoadedMembership]:
        return root.rows

    @staticmethod
    @root_only
    def resolve_nodes(root: KeysetPage, info) -> Sequence[LoadedMembership]:
        return root.rows

    @staticmethod
    @root_only
    def resolve_page_info(root: KeysetPage, info) -> KeysetPage:
        return root

    @staticmethod
    def resolve_total_count(root: KeysetPage, info) -> int:
        return root.total_count


# The contract's mutation side (003_*): camelCase, Unix seconds.


class AdminCourse(graphene.ObjectType):
    """The course of an enrollment, as the extendStudentCourseAccess payload shows it."""

    id = graphene.String(required=True, description="id of the course")
    slug = graphene.String(required=True, description="slug of the course")
    name = graphene.String(source="title", required=True, description="name of the course")
    title = graphene.String(required=True, description="title of the course (the same as name)")

    @staticmethod
    def resolve_id(root, info) -> str:
        return str(root.pk)


class AdminUser(graphene.ObjectType):
    """The user of an enrollment, as the extendStudentCourseAccess payload shows it."""

    id = graphene.String(required=True, description="id of the user")
    name = graphene.String(
        required=True,
        description=(
            "name of the user (their e-mail address when they have none and the e-mail is "
            "shown; empty otherwise)"
        ),
    )
    email = graphene.String(
        description=(
            "e-mail address of the user; null when the caller may not read this learner (no "
            "view permission, and not their own enrollment)"
        )
    )

    @staticmethod
    def resolve_id(root, info) -> str:
        return str(root.pk)

    @staticmethod
    @root_only
    def resolve_name(root: LoadedUser, info) -> str:
        return learner_name(root)

    @staticmethod
    @root_only
    def resolve_email(root: LoadedUser, info) -> str | None:
        return learner_email(root)


class StudentCourseShip(graphene.ObjectType):
    """An enrollment, as the extendStudentCourseAccess mutation returns it"""

    id = graphene.String(required=True, description="id of the enrollment")
    completion_rate = graphene.Float(
        name="completionRate",
        description="the completion rate of the enrolled course which student achieved",
    )
    course = graphene.Field(
        AdminCourse, required=True, description="information of the enrolled course"
    )
    user = graphene.Field(
        AdminUser, required=True, description="user information of the enrolled course"
    )
    updated_at = graphene.Int(
        name="updatedAt", required=True, description="last updated date of the enrollment"
    )
    created_at = graphene.Int(
        name="createdAt", required=True, description="created date of the enrollment"
    )
    ended_at = graphene.Int(
        name="endedAt",
        description=(
            "expiration date for the enrollment (Unix Timestamp). "
            "Null if indefinite access is granted"
        ),
    )

    @staticmethod
    def resolve_id(root: LoadedMembership, info) -> str:
        return str(root.pk)

    @staticmethod
    def resolve_completion_rate(root: LoadedMembership, info) -> float:
        return completion_rate(root)

    @staticmethod
    def resolve_updated_at(root: LoadedMembership, info) -> int | None:
        return unix_seconds(membership_updated_at(root))

    @staticmethod
    def resolve_created_at(root: LoadedMembership, info) -> int | None:
        return unix_seconds(root.created_at)

    @staticmethod
    def resolve_ended_at(root: LoadedMembership, info) -> int | None:
        return unix_seconds(root.ended_at)
