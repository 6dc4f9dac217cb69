"""Selectors: every function that reads enrollment state for an adapter.

The membership queryset carries its progress as SQL annotations, so a page of memberships costs
the same few queries whatever its size (no query per row).
"""

from collections.abc import Sequence
from datetime import datetime

from django.db.models import (
    Case,
    CharField,
    Count,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from enrollments import clock, progress
from enrollments.errors import CourseItemNotFound, MembershipNotFound, NotEnrolled
from enrollments.models import Enrollment, ItemCompletion
from enrollments.progress import CourseStatus
from enrollments.rules import AccessState, access_state
from lms.identifiers import parse_uuid
from lms.models import CourseItem


def enrollment_get_for_student(*, user_id: object, course_id: object) -> Enrollment:
    """The enrollment of that user in that course. Unknown or malformed ids: NotEnrolled."""
    user_uuid, course_uuid = parse_uuid(user_id), parse_uuid(course_id)
    if user_uuid is None or course_uuid is None:
        raise NotEnrolled("malformed user or course id")
    try:
        return Enrollment.objects.select_related("course", "user").get(
            user_id=user_uuid, course_id=course_uuid
        )
    except Enrollment.DoesNotExist:
        raise NotEnrolled() from None


def enrollment_get(*, enrollment_id: object) -> Enrollment:
    """The enrollment with that id. Unknown or malformed id: MembershipNotFound."""
    pk = parse_uuid(enrollment_id)
    if pk is None:
        raise MembershipNotFound("malformed id")
    try:
        return Enrollment.objects.select_related("course", "user").get(pk=pk)
    except Enrollment.DoesNotExist:
        raise MembershipNotFound() from None


def enrollment_access_state(enrollment: Enrollment, *, at: datetime | None = None) -> AccessState:
    return access_state(
        start_at=enrollment.start_at,
        ended_at=enrollment.ended_at,
        is_paused=enrollment.is_paused,
        at=at or clock.now(),
        removed_at=enrollment.removed_at,
    )


def enrollment_has_access(enrollment: Enrollment, *, at: datetime | None = None) -> bool:
    """Whether the enrollment gives access at `at` (default now): started, not ended, not
    paused."""
    return enrollment_access_state(enrollment, at=at) is AccessState.ACTIVE


def access_state_q(state: AccessState | str, *, at: datetime | None = None) -> Q:
    """A filter matching the enrollments in `state` at `at`: the SQL twin of rules.access_state,
    for querysets (GraphQL filters, admin filters, commands)."""
    at = at or clock.now()
    state = AccessState(state)
    if state is AccessState.REMOVED:
        return Q(removed_at__isnull=False)
    running = Q(is_paused=False, removed_at__isnull=True)
    if state is AccessState.PAUSED:
        return Q(is_paused=True, removed_at__isnull=True)
    if state is AccessState.NOT_STARTED:
        return running & Q(start_at__gt=at)
    if state is AccessState.EXPIRED:
        return running & Q(start_at__lte=at, ended_at__lte=at)
    return running & Q(start_at__lte=at) & (Q(ended_at__isnull=True) | Q(ended_at__gt=at))


def _count_of(queryset: QuerySet, group_field: str) -> Subquery:
    return Subquery(
        queryset.order_by().values(group_field).annotate(n=Count("*")).values("n")[:1],
        output_field=IntegerField(),
    )


def not_removed(queryset: QuerySet[Enrollment]) -> QuerySet[Enrollment]:
    """The enrollments of `queryset` without the removal mark: what the default lists show
    (the API's membership lists, the admin changelist, reports and reminders)."""
    return queryset.filter(removed_at__isnull=True)


def memberships_with_progress(queryset: QuerySet[Enrollment] | None = None) -> QuerySet[Enrollment]:
    """Enrollments annotated with their progress, computed in SQL:

    `items_total`, `items_completed`, `next_item_id` and `next_next_item_id` (the first two
    incomplete items by position); `course_status` (not_started | in_progress | completed) can
    be filtered and ordered on, and is read as `enrollment.course_status`.
    """
    if queryset is None:
        queryset = Enrollment.objects.all()
    course_items = CourseItem.objects.filter(course_id=OuterRef("course_id"))
    incomplete_items = (
        CourseItem.objects.filter(course_id=OuterRef("course_id"))
        .exclude(
            pk__in=ItemCompletion.objects.filter(enrollment_id=OuterRef(OuterRef("pk"))).values(
                "item_id"
            )
        )
        .order_by("position")
        .values("pk")
    )
    return queryset.annotate(
        items_total=Coalesce(_count_of(course_items, "course_id"), 0),
        items_completed=Coalesce(
            _count_of(ItemCompletion.objects.filter(enrollment_id=OuterRef("pk")), "enrollment_id"),
            0,
        ),
        next_item_id=Subquery(incomplete_items[:1]),
        next_next_item_id=Subquery(incomplete_items[1:2]),
    ).alias(course_status=course_status_expression())


def course_status_expression() -> Case:
    """progress.course_status in SQL, over the counts of memberships_with_progress.

    Used as an alias (filter and order by it), never selected: reading the status per row is
    done in Python from the selected counts (Enrollment.course_status), which keeps the CASE
    from running the count subqueries a second and third time for every row of a page.
    """
    return Case(
        When(items_completed=0, then=Value(CourseStatus.NOT_STARTED)),
        When(items_completed__gte=F("items_total"), then=Value(CourseStatus.COMPLETED)),
        default=Value(CourseStatus.IN_PROGRESS),
        output_field=CharField(),
    )


def completion_rate(enrollment: Enrollment) -> float:
    """Completed items over the course's items, 0.0-1.0 (0.0 for a course without items).
    Needs an enrollment from memberships_with_progress."""
    return progress.completion_rate(
        completed=enrollment.items_completed, total=enrollment.items_total
    )


def attach_next_items(enrollments: Sequence[Enrollment]) -> None:
    """Loads the next and next-but-one incomplete items of a page of enrollments (from
    memberships_with_progress) in one query, as `next_item` / `next_next_item`."""
    ids = {e.next_item_id for e in enrollments} | {e.next_next_item_id for e in enrollments}
    ids.discard(None)
    # order_by(): the default ordering would join the course table for nothing.
    items = CourseItem.objects.order_by().in_bulk(ids) if ids else {}
    for enrollment in enrollments:
        enrollment.next_item = items.get(enrollment.next_item_id)
        enrollment.next_next_item = items.get(enrollment.next_next_item_id)


def course_item_get(*, course_item_id: object) -> CourseItem:
    """The course item with that id. Unknown or malformed id: CourseItemNotFound."""
    pk = parse_uuid(course_item_id)
    if pk is None:
        raise CourseItemNotFound("malformed id")
    try:
        return CourseItem.objects.get(pk=pk)
    except CourseItem.DoesNotExist:
        raise CourseItemNotFound() from None
