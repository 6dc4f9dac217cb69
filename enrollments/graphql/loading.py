"""How the API's types get their rows: the membership queryset they read (progress, next items,
course and user joined, only the columns the types expose), its per-process cache, the loads of
a page or of a mutation's one membership, and a course's items read once per request; the rows
as plain objects (LoadedMembership, LoadedCourse, LoadedUser, LoadedItem) read with
values_list, not model instances.

Kept apart from the types (types.py) so the types say what the contract shows and this says
what it costs; `exposed_columns` reads the types to know which columns to fetch.
"""

import functools
from dataclasses import dataclass
from datetime import datetime

import graphene
from django.db.models import QuerySet
from graphene.types.field import source_resolver

from enrollments import clock
from enrollments.graphql.permissions import may_read_learner
from enrollments.models import Enrollment
from enrollments.selectors.memberships import item_columns_from_data, memberships_with_progress
from lms.batching import chunked
from lms.models import Course as CourseModel
from lms.models import CourseItem as CourseItemModel
from lms.models import User as UserModel


def membership_rows(queryset: QuerySet[Enrollment]) -> QuerySet[Enrollment]:
    """`queryset` as the types read it: progress, and the next items folded in as JSON.
    read_memberships then selects only the columns the types expose (row_shape), course and
    user joined (a page used to load password hashes and course descriptions it never
    showed)."""
    return memberships_with_progress(queryset, next_item_fields=exposed_columns().item)


def all_membership_rows() -> QuerySet[Enrollment]:
    """Every enrollment as membership_rows reads it, to be filtered further: the annotated
    queryset is built once per process and cloned per request (building its progress
    subqueries was about 5% of a page of 100; filtering after them is the same query, as
    they are correlated subqueries, not aggregates)."""
    return _all_membership_rows().all()


@functools.cache
def _all_membership_rows() -> QuerySet[Enrollment]:
    return membership_rows(Enrollment.objects.all())


def load_memberships(
    queryset: QuerySet[Enrollment], *, at: datetime | None = None
) -> list["LoadedMembership"]:
    """The enrollments of `queryset` with everything the types read, in one query; `at`: the
    instant their access is read at (read_memberships)."""
    rows = read_memberships(membership_rows(queryset), at=at)
    attach_items(rows)
    return rows


class LoadedRow:
    """A row as the API's types read it: its columns as attributes (those exposed_columns
    lists, so every column a field or resolver reads), and `pk`.

    Not model instances: building one runs `Model.__init__` (about 10 microseconds), and a
    joined course or user one more each, with Django's related descriptors to set: most of a
    page's row loading once the rows are fetched. Nothing but the types reads these rows
    (never saved, compared with instances or queried with); a resolver reading a column the
    query did not select fails loudly (AttributeError) instead of loading it one query per
    row as a deferred field would."""

    def __init__(self, columns) -> None:
        self.__dict__.update(columns)

    @property
    def pk(self):
        return self.id


class LoadedCourse(LoadedRow):
    """A membership's course (`Course` and `AdminCourse` read it), and `page`: the courses of
    every row loaded with it, by id (attach_items), whose items course_items reads together."""

    page: dict


class LoadedUser(LoadedRow):
    """A membership's learner (`User` and `AdminUser` read it), with the model's own display
    rules (the same property objects, reading the same columns)."""

    full_name = UserModel.full_name
    name = UserModel.name


class LoadedMembership(LoadedRow):
    """An enrollment with its progress annotations, course, user and next items
    (`CourseMembership` and `StudentCourseShip` read it), and `access_at`: the instant its
    access_state and has_access are read at (read_memberships)."""


class LoadedItem(LoadedRow):
    """A course item as the `CourseItem` type reads it: a membership's next (or next-next)
    item from the JSON its query selected, or one of a course's items (course_items), and
    `course`, the membership's own (the same course, already loaded). A CourseItem instance
    also cost Django's related descriptor to set its course (with a router check for an
    instance loaded without a database): 200 of them a page."""

    def __init__(self, names: list[str], values: list, course: LoadedCourse) -> None:
        super().__init__(zip(names, values, strict=True))
        self.course = course


@dataclass(frozen=True, slots=True)
class RowShape:
    """The columns read_memberships selects (`names`), and which of them go to the
    membership, its course and its user (in that order)."""

    membership: tuple[str, ...]
    course: tuple[str, ...]
    user: tuple[str, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return (
            *self.membership,
            *(f"course__{name}" for name in self.course),
            *(f"user__{name}" for name in self.user),
        )


#: The progress annotations of memberships_with_progress (with next_item_fields).
_ANNOTATIONS = ("items_total", "next_item_data", "next_next_item_data")


@functools.cache
def row_shape() -> RowShape:
    """From exposed_columns: the membership's columns by attname (`course_id`, not the
    `course` only() names), then the annotations, the course's and the user's columns."""
    columns = exposed_columns()
    own = [name for name in columns.membership if "__" not in name]
    membership = _attnames(Enrollment, own)
    return RowShape(
        membership=(*membership, *_ANNOTATIONS),
        course=_attnames(CourseModel, _related(columns.membership, "course")),
        user=_attnames(UserModel, _related(columns.membership, "user")),
    )


def _related(names: tuple[str, ...], relation: str) -> list[str]:
    prefix = f"{relation}__"
    return [name.removeprefix(prefix) for name in names if name.startswith(prefix)]


def _attnames(model, names: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """The concrete columns of `model` named in `names` (by name or attname), by attname, in
    model order."""
    wanted = set(names)
    return tuple(
        field.attname
        for field in model._meta.concrete_fields
        if field.name in wanted or field.attname in wanted
    )


def read_memberships(
    queryset: QuerySet[Enrollment], *, at: datetime | None = None
) -> list[LoadedMembership]:
    """The rows of `queryset` (from membership_rows, filtered, ordered, sliced) as the types
    read them, in one query: plain values (values_list), with Django's column converters.
    Their next items come from attach_items. `at`: the instant their access is read at, the
    request's (clock.request_now: one for every field of an answer); now when not given."""
    access_at = clock.now() if at is None else at
    shape = row_shape()
    own = len(shape.membership)
    course_end = own + len(shape.course)
    rows = []
    for values in queryset.values_list(*shape.names):
        row = LoadedMembership(zip(shape.membership, values[:own], strict=True))
        row.course = LoadedCourse(zip(shape.course, values[own:course_end], strict=True))
        row.user = LoadedUser(zip(shape.user, values[course_end:], strict=True))
        row.access_at = access_at
        rows.append(row)
    return rows


def attach_items(rows: list[LoadedMembership]) -> None:
    """Sets `next_item` / `next_next_item` on rows of membership_rows: LoadedItem objects from
    the JSON the query selected (no query), or None. And sets each row's course's `page`, the
    courses of all of `rows`: the first course whose items are asked for reads every one's
    (course_items), so a page of 100 memberships of 100 courses is not 100 queries."""
    page = {row.course.pk: row.course for row in rows}
    for row in rows:
        row.course.page = page
        row.next_item = _loaded_item(row.next_item_data, row)
        row.next_next_item = _loaded_item(row.next_next_item_data, row)


def _loaded_item(data: dict | None, row: LoadedMembership) -> LoadedItem | None:
    return None if data is None else LoadedItem(*item_columns_from_data(data), row.course)


def load_membership(pk: object, *, viewer: UserModel) -> LoadedMembership:
    """One enrollment, loaded as `load_memberships` does (after the core changed it), for a
    mutation's payload to `viewer`.

    A mutation's permission lets its caller change a learner they may not read (an
    extend-only key, or a course role that may extend but not view): the payload then
    withholds the learner's e-mail, by the rule the queries apply (may_read_learner: their
    own, or a course where the viewer may view enrollments), which would not list that
    membership to them at all."""
    enrollment = load_memberships(Enrollment.objects.filter(pk=pk))[0]
    if not may_read_learner(viewer, enrollment.user_id, enrollment.course_id):
        enrollment.user.contact_withheld = True
    return enrollment


def course_items(info, course: LoadedCourse) -> list[LoadedItem]:
    """The items of `course` in position order, each with `course` set (`course` itself, or
    another of its page with the same id: the same columns): read once per course and
    request, however many memberships, items or `next_item` links of the answer ask for them,
    and together with the items of every course of the rows loaded with it (its `page`:
    attach_items): a page of 100 memberships, of 3 courses or of 100, reads them in one
    query, when the first of them is asked for."""
    memo = getattr(info.context, "_course_items", None)
    if memo is None:
        memo = {}
        if info.context is not None:
            info.context._course_items = memo
    if course.pk not in memo:
        courses = {pk: other for pk, other in getattr(course, "page", {}).items() if pk not in memo}
        courses[course.pk] = course
        memo.update(_read_items(courses))
    return memo[course.pk]


def _read_items(courses: dict[object, LoadedCourse]) -> dict[object, list[LoadedItem]]:
    """The items of `courses` (by id) in position order, by course id, each with its course:
    one query per chunk of lms.batching's size, more courses than a page can hold."""
    names = _attnames(CourseItemModel, exposed_columns().item)
    read: dict[object, list[LoadedItem]] = {pk: [] for pk in courses}
    for chunk in chunked(courses):
        rows = (
            CourseItemModel.objects.filter(course_id__in=chunk)
            .order_by("course_id", "position")
            .values_list("course_id", *names)
        )
        for course_id, *values in rows:
            read[course_id].append(LoadedItem(names, values, courses[course_id]))
    return read


@dataclass(frozen=True, slots=True)
class Columns:
    """What membership_rows fetches: Enrollment columns with `course__` and `user__` ones, and
    the CourseItem fields of the next items."""

    membership: tuple[str, ...]
    item: tuple[str, ...]


#: Columns resolvers read that no field of the same name exposes: the access state's window and
#: pause, the completion rate's count, the cursor's created_at.
_RESOLVER_COLUMNS = (
    "progress_updated_at",
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
    from enrollments.graphql.types import (
        AdminCourse,
        AdminUser,
        Course,
        CourseItem,
        CourseMembership,
        StudentCourseShip,
        User,
    )

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
