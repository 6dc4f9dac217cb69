"""How the API's types get their rows: the membership queryset they read (progress, next items,
course and user joined, only the columns the types expose), its per-process cache, the loads of
a page or of a mutation's one membership, and a course's items read once per request.

Kept apart from the types (types.py) so the types say what the contract shows and this says
what it costs; `exposed_columns` reads the types to know which columns to fetch.
"""

import functools
from dataclasses import dataclass

import graphene
from django.db.models import QuerySet
from graphene.types.field import source_resolver

from enrollments.graphql.permissions import may_read_learner
from enrollments.models import Enrollment
from enrollments.selectors.memberships import item_columns_from_data, memberships_with_progress
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
    attach_items(rows)
    return rows


class LoadedItem:
    """A membership's next (or next-next) item as the `CourseItem` type reads it: the columns
    membership_rows selected as JSON (exposed_columns().item, so every column a field of the
    type reads), `pk`, and `course`, the membership's own (the same course, already loaded).

    Not a CourseItem instance: building one runs `Model.__init__`, and setting its `course`
    Django's related descriptor (with a router check for an instance loaded without a
    database): about 40% of a page's row loading with the fast paths off, for 200 items a
    page. Nothing but the types reads it (never saved, compared or queried with), and the
    type reads the same attributes from it as from the CourseItem instances `course_items`
    answers (prev_item / next_item): tests/graphql pin the answers."""

    def __init__(self, names: list[str], values: list, course: CourseModel) -> None:
        self.__dict__.update(zip(names, values, strict=True))
        self.course = course

    @property
    def pk(self):
        return self.id


def attach_items(rows: list[Enrollment]) -> None:
    """Sets `next_item` / `next_next_item` on rows of membership_rows: LoadedItem objects from
    the JSON the query selected (no query), or None."""
    for row in rows:
        row.next_item = _loaded_item(row.next_item_data, row)
        row.next_next_item = _loaded_item(row.next_next_item_data, row)


def _loaded_item(data: dict | None, row: Enrollment) -> LoadedItem | None:
    return None if data is None else LoadedItem(*item_columns_from_data(data), row.course)


def load_membership(pk: object, *, viewer: UserModel) -> Enrollment:
    """One enrollment, loaded as `load_memberships` does (after the core changed it), for a
    mutation's payload to `viewer`.

    A mutation's permission lets its caller change a learner they may not read (an
    extend-only key): the payload then withholds the learner's e-mail, by the rule the queries
    apply (may_read_learner), which would not list that membership to them at all."""
    enrollment = load_memberships(Enrollment.objects.filter(pk=pk))[0]
    if not may_read_learner(viewer, enrollment.user_id):
        enrollment.user.contact_withheld = True
    return enrollment


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
