"""Completing a course item: the one write of learner progress outside the operation core (it
changes no access, so it is no access operation), under the enrollment's row lock.

SELECT ... FOR UPDATE before the access state is read, so a pause committed meanwhile is seen,
not raced; SQLite has no row locks, and there the IMMEDIATE transaction mode set in settings
serialises writers. The operation core locks its selections itself, in primary-key order
(enrollments.operations.core).
"""

from django.db import transaction

from enrollments import clock
from enrollments.errors import ItemNotInCourse, MembershipNotFound, NoAccess
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

    The item must belong to the enrollment's course (ItemNotInCourse) and the enrollment must
    give access now (NoAccess): an expired, paused or not yet started learner makes no progress.
    The row is locked before its access is checked. A new completion adds one to the
    enrollment's stored `items_completed` (and sets its `course_status`) in the same
    transaction, under that lock, with its event (`course_membership.updated`, action
    progress).
    """
    if item.course_id != enrollment.course_id:
        raise ItemNotInCourse()
    with transaction.atomic():
        # Decide from the row as it is now, locked: a pause committed meanwhile is seen, and
        # one that comes after waits for this completion.
        locked = lock_enrollment(enrollment.pk)
        now = clock.now()
        state = enrollment_access_state(locked, at=now)
        if state is not AccessState.ACTIVE:
            raise NoAccess(f"the membership is {state}")
        completion, created = ItemCompletion.objects.get_or_create(
            enrollment=enrollment, item=item, defaults={"completed_at": now}
        )
        if created:
            status_before = locked.course_status
            count_completion(enrollment=enrollment, completed_before=locked.items_completed)
            changed = ["completion_rate", "next_incomplete_item", "next_next_incomplete_item"]
            if enrollment.course_status != status_before:
                changed.insert(0, "course_status")
            events.record(
                enrollment_id=enrollment.pk,
                event_type=events.EventType.UPDATED,
                action=PROGRESS,
                changed_fields=changed,
                now=now,
            )
    return completion


def lock_enrollment(pk: object) -> Enrollment:
    """The enrollment, re-read under a row lock, with its course."""
    try:
        return (
            Enrollment.objects.select_for_update(of=("self",)).select_related("course").get(pk=pk)
        )
    except Enrollment.DoesNotExist:
        raise MembershipNotFound() from None
