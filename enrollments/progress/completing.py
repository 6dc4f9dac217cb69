"""Completing a course item: the one write of learner progress outside the operation core (it
changes no access, so it is no access operation), under the enrollment's row lock.

SELECT ... FOR UPDATE before the access state is read, so a pause committed meanwhile is seen,
not raced; SQLite has no row locks, and there the IMMEDIATE transaction mode set in settings
serialises writers. The operation core locks its selections itself, in primary-key order
(enrollments.operations.core).

The item is locked before the enrollment (FOR KEY SHARE: what the completion's foreign key
takes anyway; other learners' completions of it do not wait for each other), so an item deleted
while the completion waited is seen gone, not inserted against. That order is a deletion's
own: deleting an item deletes its row, then recounts its course's enrollments under their row
locks (enrollments.signals). Locked after the enrollment, the item would wait for a deletion
that waits for the enrollment: a deadlock.
"""

from django.db import connections, router, transaction

from enrollments import clock
from enrollments.errors import CourseItemNotFound, ItemNotInCourse, MembershipNotFound, NoAccess
from enrollments.events import records as events
from enrollments.models import Enrollment, ItemCompletion
from enrollments.progress.counts import count_completion
from enrollments.rules import AccessState
from enrollments.selectors.access import enrollment_access_state
from lms.models import CourseItem

#: The event action of a completed item (events.records).
PROGRESS = "progress"


def enrollment_complete_item(*, enrollment: Enrollment, item: CourseItem) -> ItemCompletion:
    """Marks `item` completed for `enrollment`. Idempotent: completing it again returns the
    first completion unchanged.

    The item must belong to the enrollment's course (ItemNotInCourse) and still exist
    (CourseItemNotFound: deleted since the caller read it), and the enrollment must give access
    now (NoAccess): an expired, paused or not yet started learner makes no progress. The item
    and then the enrollment are locked before either is checked. A new completion adds one to the
    enrollment's stored `items_completed` (and sets its `course_status`) in the same
    transaction, under that lock, with its event (`course_membership.updated`, action
    progress).
    """
    if item.course_id != enrollment.course_id:
        raise ItemNotInCourse()
    with transaction.atomic():
        # Decide from the rows as they are now, locked: a deletion or a pause committed
        # meanwhile is seen, and one that comes after waits for this completion.
        lock_item(item)
        locked = lock_enrollment(enrollment.pk)
        now = clock.now()
        state = enrollment_access_state(locked, at=now)
        if state is not AccessState.ACTIVE:
            raise NoAccess(f"the membership is {state}")
        # The first three incomplete items before this completion: the next two after it
        # follow without another query (the item is one of them or comes later).
        upcoming = incomplete_item_ids(enrollment, first=3)
        completion, created = ItemCompletion.objects.get_or_create(
            enrollment=enrollment, item=item, defaults={"completed_at": now}
        )
        if created:
            status_before = locked.course_status
            count_completion(
                enrollment=enrollment, completed_before=locked.items_completed, now=now
            )
            changed = ["completion_rate"]
            if enrollment.course_status != status_before:
                changed.insert(0, "course_status")
            changed += _next_items_changed(upcoming, item.pk)
            events.record(
                enrollment_id=enrollment.pk,
                event_type=events.EventType.UPDATED,
                action=PROGRESS,
                changed_fields=changed,
                now=now,
            )
    return completion


def incomplete_item_ids(enrollment: Enrollment, *, first: int) -> list:
    """The ids of the enrollment's first `first` incomplete items by position (the order of
    selectors.memberships' next items)."""
    return list(
        CourseItem.objects.filter(course_id=enrollment.course_id)
        .exclude(pk__in=ItemCompletion.objects.filter(enrollment=enrollment).values("item_id"))
        .order_by("position")
        .values_list("pk", flat=True)[:first]
    )


def _next_items_changed(upcoming: list, completed: object) -> list[str]:
    """The API's next-item fields that completing `completed` changes, from the first three
    incomplete items before it (`upcoming`): only those among the first two move."""
    before = upcoming[:2] + [None] * (2 - len(upcoming[:2]))
    after = [pk for pk in upcoming if pk != completed][:2]
    after += [None] * (2 - len(after))
    names = ("next_incomplete_item", "next_next_incomplete_item")
    return [name for name, was, now in zip(names, before, after, strict=True) if was != now]


def lock_item(item: CourseItem) -> None:
    """Locks `item` FOR KEY SHARE, still in its course: a deletion in flight is waited for, and
    one that comes after waits for this transaction. Raises CourseItemNotFound when it is gone
    (deleted since the caller read it: its completion's insert would break the foreign key).
    SQLite has no row locks: there it is read (its IMMEDIATE transactions serialise writers)."""
    connection = connections[router.db_for_write(CourseItem)]
    rows = CourseItem.objects.using(connection.alias).filter(pk=item.pk, course_id=item.course_id)
    rows = rows.values_list("pk")
    if connection.vendor != "postgresql":
        found = rows.exists()
    else:
        # Django's select_for_update has no FOR KEY SHARE; FOR UPDATE would make every
        # learner's completion of one item wait for the others'.
        sql, params = rows.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(f"{sql} FOR KEY SHARE", params)
            found = cursor.fetchone() is not None
    if not found:
        raise CourseItemNotFound()


def lock_enrollment(pk: object) -> Enrollment:
    """The enrollment, re-read under a row lock, with its course."""
    try:
        return (
            Enrollment.objects.select_for_update(of=("self",)).select_related("course").get(pk=pk)
        )
    except Enrollment.DoesNotExist:
        raise MembershipNotFound() from None
