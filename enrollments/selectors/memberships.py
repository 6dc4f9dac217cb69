"""The membership queryset: enrollments with their progress (stored counts, the course's item
count, the next two items) and the check of stored progress against the completions.

The membership queryset carries its progress as stored columns and SQL annotations, so a page of
memberships costs the same few queries whatever its size (no query per row).
"""

import functools
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from django.db.models import (
    Case,
    CharField,
    Count,
    DateTimeField,
    Expression,
    F,
    IntegerField,
    JSONField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    UUIDField,
    Value,
    When,
)
from django.db.models.functions import Coalesce, JSONObject
from django.db.models.lookups import Exact, GreaterThanOrEqual

from enrollments import progress
from enrollments.models import Enrollment, ItemCompletion
from enrollments.progress import CourseStatus
from lms.models import CourseItem


def membership_updated_at(membership) -> datetime:
    """ "date membership was updated" (both APIs' `updated_at`): the later of its access's last
    change (`updated_at`, which a run bound to its preview compares) and its progress's
    (`progress_updated_at`: an item completed, the course's items changed)."""
    progressed = membership.progress_updated_at
    return membership.updated_at if progressed is None else max(membership.updated_at, progressed)


def _count_of(queryset: QuerySet, group_field: str) -> Subquery:
    return Subquery(
        queryset.order_by().values(group_field).annotate(n=Count("*")).values("n")[:1],
        output_field=IntegerField(),
    )


def items_total_expression() -> Coalesce:
    """The number of items of the enrollment's course, as a correlated subquery."""
    return Coalesce(
        _count_of(CourseItem.objects.filter(course_id=OuterRef("course_id")), "course_id"), 0
    )


def completions_count_expression() -> Coalesce:
    """The number of item completions of the enrollment, counted (not the stored count)."""
    completions = ItemCompletion.objects.filter(enrollment_id=OuterRef("pk"))
    return Coalesce(_count_of(completions, "enrollment_id"), 0)


def course_status_expression(completed: Expression, total: Expression) -> Case:
    """progress.course_status in SQL, over two count expressions: what the recount stores in
    `Enrollment.course_status` (a test keeps the two in step)."""
    return Case(
        When(Exact(completed, 0), then=Value(CourseStatus.NOT_STARTED)),
        When(GreaterThanOrEqual(completed, total), then=Value(CourseStatus.COMPLETED)),
        default=Value(CourseStatus.IN_PROGRESS),
        output_field=CharField(),
    )


def memberships_with_progress(
    queryset: QuerySet[Enrollment] | None = None, *, next_item_fields: Sequence[str] = ()
) -> QuerySet[Enrollment]:
    """Enrollments with what their progress needs beyond the stored `items_completed` and
    `course_status` (both columns, so filtering and counting by status use an index):
    `items_total`, and the first two incomplete items by position.

    Without `next_item_fields` the items come as `next_item_id` and `next_next_item_id`
    (attach_next_items then loads them, one more query). With them, as `next_item_data` and
    `next_next_item_data`: JSON objects of those CourseItem fields, selected in the same query,
    which attach_next_items turns into items without a query.
    """
    if queryset is None:
        queryset = Enrollment.objects.all()
    incomplete_items = (
        CourseItem.objects.filter(course_id=OuterRef("course_id"))
        .exclude(
            pk__in=ItemCompletion.objects.filter(enrollment_id=OuterRef(OuterRef("pk"))).values(
                "item_id"
            )
        )
        .order_by("position")
    )
    if next_item_fields:
        data = incomplete_items.values(data=JSONObject(**{name: name for name in next_item_fields}))
        next_items = {
            "next_item_data": Subquery(data[:1], output_field=JSONField()),
            "next_next_item_data": Subquery(data[1:2], output_field=JSONField()),
        }
    else:
        ids = incomplete_items.values("pk")
        next_items = {
            "next_item_id": Subquery(ids[:1]),
            "next_next_item_id": Subquery(ids[1:2]),
        }
    return queryset.annotate(items_total=items_total_expression(), **next_items)


def enrollments_with_stale_progress(queryset: QuerySet[Enrollment]) -> QuerySet[Enrollment]:
    """The enrollments of `queryset` whose stored `items_completed` or `course_status` differs
    from what their completions and their course's items say now; each row carries the counted
    values as `counted_completed` and `counted_status`."""
    counted = completions_count_expression()
    return (
        queryset.alias(counted_total=items_total_expression())
        .annotate(counted_completed=counted)
        .annotate(
            counted_status=course_status_expression(F("counted_completed"), F("counted_total"))
        )
        .filter(~Q(items_completed=F("counted_completed")) | ~Q(course_status=F("counted_status")))
    )


def completion_rate(enrollment: Enrollment) -> float:
    """Completed items over the course's items, 0.0-1.0 (0.0 for a course without items).
    Needs an enrollment from memberships_with_progress."""
    return progress.completion_rate(
        completed=enrollment.items_completed, total=enrollment.items_total
    )


def item_columns_from_data(data: dict) -> tuple[list[str], list]:
    """The CourseItem columns (attnames, in model order) of a JSON object
    memberships_with_progress selected, and their values converted from JSON."""
    names, converters = _item_converters(tuple(data))
    return names, [convert(data[name]) for name, convert in zip(names, converters, strict=True)]


def _item_from_data(data: dict | None) -> CourseItem | None:
    """A CourseItem from the JSON object memberships_with_progress selected (the fields it did
    not select are deferred, as with only())."""
    if data is None:
        return None
    return CourseItem.from_db(None, *item_columns_from_data(data))


@functools.cache
def _item_converters(keys: tuple[str, ...]) -> tuple[list[str], tuple[Callable, ...]]:
    """The CourseItem columns among `keys`, in model order, and a converter from JSON for
    each: chosen once per set of keys (a page turns about 200 objects into items). Datetimes
    and UUIDs take the C parsers (`datetime.fromisoformat`, `uuid.UUID`) rather than the
    fields' to_python, which tries several formats per value."""
    fields = [field for field in CourseItem._meta.concrete_fields if field.attname in keys]
    return [field.attname for field in fields], tuple(_json_converter(f) for f in fields)


def _json_converter(field) -> Callable:
    if isinstance(field, DateTimeField):
        return _datetime_from_json
    if isinstance(field.target_field if field.is_relation else field, UUIDField):
        return _uuid_from_json
    return field.to_python


def _datetime_from_json(value: str | None) -> datetime | None:
    """PostgreSQL's JSON gives a datetime with its offset; SQLite's as naive UTC text."""
    if value is None:
        return None
    parsed = datetime.fromisoformat(value)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


def _uuid_from_json(value: str | None) -> uuid.UUID | None:
    return None if value is None else uuid.UUID(value)


def attach_next_items(enrollments: Sequence[Enrollment]) -> None:
    """Sets `next_item` / `next_next_item` on a page of enrollments from
    memberships_with_progress: from the JSON it selected (no query), or by their ids (one
    query)."""
    if enrollments and hasattr(enrollments[0], "next_item_data"):
        for enrollment in enrollments:
            enrollment.next_item = _item_from_data(enrollment.next_item_data)
            enrollment.next_next_item = _item_from_data(enrollment.next_next_item_data)
        return
    ids = {e.next_item_id for e in enrollments} | {e.next_next_item_id for e in enrollments}
    ids.discard(None)
    # order_by(): the default ordering would join the course table for nothing.
    items = CourseItem.objects.order_by().in_bulk(ids) if ids else {}
    for enrollment in enrollments:
        enrollment.next_item = items.get(enrollment.next_item_id)
        enrollment.next_next_item = items.get(enrollment.next_next_item_id)
