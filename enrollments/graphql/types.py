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
Enrollment loaded through `load_memberships` (progress annotations, course and user joined,
next items attached), so no field runs a query of its own.
"""

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import graphene
from django.db.models import QuerySet
from graphene.types.field import source_resolver

from enrollments.graphql.pagination import KeysetPage, Order, encode_cursor
from enrollments.graphql.permissions import may_read_learner
from enrollments.graphql.resolving import root_only
from enrollments.graphql.scalars import Cursor, ISO8601DateTime
from enrollments.models import Enrollment
from enrollments.rules import AccessState as AccessStateValue
from enrollments.selectors.access import enrollment_access_state, enrollment_has_access
from enrollments.selectors.memberships import (
    attach_next_items,
    completion_rate,
    memberships_with_progress,
)
from lms.models import Course as CourseModel
from lms.models import CourseItem as CourseItemModel
from lms.models import User as UserModel


def membership_rows(queryset: QuerySet[Enrollment]) -> QuerySet[Enrollment]:
    """`queryset` as the types read it, in one query: progress, the next items folded in as
    JSON, course and user joined, and only the columns the types expose (a page used to load
    password hashes and course descriptions it never showed)."""
    columns = exposed_columns()
    return (
        memberships_with_progress(queryset, next_item_fields=columns.item)
        .select_related("course", "user")
        .only(*columns.membership)
    )


def all_membership_rows() -> QuerySet[Enrollment]:
    """Every enrollment as membership_rows reads it, to be filtered further: the annotated
    queryset is built once per process and cloned per request (building its progress
    subqueries was about 5% of a page of 100; filtering after them is the same query, as
    they are correlated subqueries, not aggregates)."""
    return _all_membership_rows().all()


@functools.cache
def _all_membership_rows() -> QuerySet[Enrollment]:
    return membership_rows(Enrollment.objects.all())


def load_memberships(queryset: QuerySet[Enrollment]) -> list[Enrollment]:
    """The enrollments of `queryset` with everything the types read, in one query."""
    rows = list(membership_rows(queryset))
    attach_next_items(rows)
    return rows


def load_membership(pk: object, *, viewer: UserModel) -> Enrollment:
    """One enrollment, loaded as `load_memberships` does (after a service changed it), for a
    mutation's payload to `viewer`.

    A mutation's permission lets its caller change a learner they may not read (an
    extend-only key): the payload then withholds the learner's e-mail, by the rule the queries
    apply (may_read_learner), which would not list that membership to them at all."""
    enrollment = load_memberships(Enrollment.objects.filter(pk=pk))[0]
    if not may_read_learner(viewer, enrollment.user_id):
        enrollment.user.contact_withheld = True
    return enrollment


def learner_email(user: UserModel) -> str | None:
    """The learner's e-mail, None when withheld from this caller (load_membership)."""
    return None if getattr(user, "contact_withheld", False) else user.email


def learner_name(user: UserModel) -> str:
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


def course_items(info, course: CourseModel) -> list[CourseItemModel]:
    """The items of `course` in position order, each with `course` set: read once per course
    and request, however many memberships, items or `next_item` links of the answer ask for
    them (a page of 100 memberships of 3 courses reads 3 item lists)."""
    memo = getattr(info.context, "_course_items", None)
    if memo is None:
        memo = {}
        if info.context is not None:
            info.context._course_items = memo
    if course.pk not in memo:
        items = list(CourseItemModel.objects.filter(course_id=course.pk).order_by("position"))
        for item in items:
            item.course = course
        memo[course.pk] = items
    return memo[course.pk]


def _neighbour(info, item: CourseItemModel, step: int) -> CourseItemModel | None:
    items = course_items(info, item.course)
    index = next((n for n, other in enumerate(items) if other.pk == item.pk), None)
    if index is None or not 0 <= index + step < len(items):
        return None
    return items[index + step]


class Course(graphene.ObjectType):
    """A Course"""

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
    def resolve_course_items(root: CourseModel, info, include_emails: bool = True):
        return course_items(info, root)


class User(graphene.ObjectType):
    """An user entry, returns basic user information"""

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
    def resolve_email(root: UserModel, info) -> str | None:
        return learner_email(root)

    @staticmethod
    @root_only
    def resolve_full_name(root: UserModel, info) -> str:
        return learner_name(root)

    @staticmethod
    @root_only
    def resolve_name(root: UserModel, info) -> str:
        return learner_name(root)


class CourseItem(graphene.ObjectType):
    """A Course Item"""

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
    def resolve_course_name(root: CourseItemModel, info) -> str:
        return root.course.title

    @staticmethod
    def resolve_next_item(root: CourseItemModel, info) -> CourseItemModel | None:
        return _neighbour(info, root, +1)

    @staticmethod
    def resolve_prev_item(root: CourseItemModel, info) -> CourseItemModel | None:
        return _neighbour(info, root, -1)


class CourseMembership(graphene.ObjectType):
    """Relationship between a user and a course"""

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
    def resolve_cursor(root: Enrollment, info) -> str:
        return encode_cursor(root)

    @staticmethod
    @root_only
    def resolve_next_incomplete_item(root: Enrollment, info):
        return _with_course(root.next_item, root)

    @staticmethod
    @root_only
    def resolve_next_next_incomplete_item(root: Enrollment, info):
        return _with_course(root.next_next_item, root)

    @staticmethod
    @root_only
    def resolve_access_state(root: Enrollment, info) -> str:
        return enrollment_access_state(root).value

    @staticmethod
    @root_only
    def resolve_has_access(root: Enrollment, info) -> bool:
        return enrollment_has_access(root)

    @staticmethod
    @root_only
    def resolve_completion_rate(root: Enrollment, info) -> float:
        return completion_rate(root)


def _with_course(item: CourseItemModel | None, enrollment: Enrollment):
    """The item with its course set from the membership's (the same course, already loaded),
    so `course`, `course_name` and the item links read no course row of their own."""
    if item is not None:
        item.course = enrollment.course
    return item


class CourseMembershipEdge(graphene.ObjectType):
    """A membership and its cursor."""

    cursor = Cursor(required=True, description="Pagination cursor (the node's own cursor)")
    node = graphene.Field(CourseMembership, required=True)

    @staticmethod
    @root_only
    def resolve_cursor(root: Enrollment, info) -> str:
        return encode_cursor(root)

    @staticmethod
    @root_only
    def resolve_node(root: Enrollment, info) -> Enrollment:
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
    def resolve_edges(root: KeysetPage, info) -> Sequence[Enrollment]:
        return root.rows

    @staticmethod
    @root_only
    def resolve_nodes(root: KeysetPage, info) -> Sequence[Enrollment]:
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
    def resolve_name(root: UserModel, info) -> str:
        return learner_name(root)

    @staticmethod
    @root_only
    def resolve_email(root: UserModel, info) -> str | None:
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
    def resolve_id(root: Enrollment, info) -> str:
        return str(root.pk)

    @staticmethod
    def resolve_completion_rate(root: Enrollment, info) -> float:
        return completion_rate(root)

    @staticmethod
    def resolve_updated_at(root: Enrollment, info) -> int | None:
        return unix_seconds(root.updated_at)

    @staticmethod
    def resolve_created_at(root: Enrollment, info) -> int | None:
        return unix_seconds(root.created_at)

    @staticmethod
    def resolve_ended_at(root: Enrollment, info) -> int | None:
        return unix_seconds(root.ended_at)


@dataclass(frozen=True, slots=True)
class Columns:
    """What membership_rows fetches: Enrollment columns with `course__` and `user__` ones, and
    the CourseItem fields of the next items."""

    membership: tuple[str, ...]
    item: tuple[str, ...]


#: Columns resolvers read that no field of the same name exposes: the access state's window and
#: pause, the completion rate's count, the cursor's created_at.
_RESOLVER_COLUMNS = (
    "start_at",
    "ended_at",
    "is_paused",
    "removed_at",
    "items_completed",
    "created_at",
    "id",
)


def _model_fields(model, *types: type[graphene.ObjectType]) -> list[str]:
    """The fields of `types` that are concrete columns of `model` (by name or attname, or the
    column a `source=` names), in the order the types declare them; fields computed by
    resolvers are left out."""
    names = {f.name for f in model._meta.concrete_fields} | {
        f.attname for f in model._meta.concrete_fields
    }
    wanted = (
        candidate
        for t in types
        for name, field in t._meta.fields.items()
        for candidate in (name, _source_of(field))
    )
    return list(dict.fromkeys(name for name in wanted if name in names))


def _source_of(field: object) -> str | None:
    """The attribute a `graphene.Field(source=...)` reads, None for any other field."""
    resolver = getattr(field, "resolver", None)
    if isinstance(resolver, functools.partial) and resolver.func is source_resolver:
        return resolver.args[0]
    return None


@functools.cache
def exposed_columns() -> Columns:
    """Derived from the types, so a field added to a type is fetched without another edit."""
    from lms.models import Course as CourseModel
    from lms.models import CourseItem as CourseItemModel

    enrollment = _model_fields(Enrollment, CourseMembership, StudentCourseShip)
    course = _model_fields(CourseModel, Course, AdminCourse)
    user = _model_fields(UserModel, User, AdminUser)
    return Columns(
        membership=tuple(
            dict.fromkeys(
                [*enrollment, *_RESOLVER_COLUMNS, "course", "user"]
                + [f"course__{name}" for name in course]
                + [f"user__{name}" for name in user]
            )
        ),
        item=tuple(_model_fields(CourseItemModel, CourseItem)),
    )
