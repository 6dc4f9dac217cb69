"""Learner progress: completing course items."""

from django.db import transaction

from enrollments import clock
from enrollments.errors import ItemNotInCourse, NoAccess
from enrollments.models import Enrollment, ItemCompletion
from enrollments.rules import AccessState
from enrollments.selectors.access import enrollment_access_state
from enrollments.services.locking import lock_enrollment
from enrollments.services.progress_counts import count_completion
from lms.models import CourseItem


def enrollment_complete_item(*, enrollment: Enrollment, item: CourseItem) -> ItemCompletion:
    """Marks `item` completed for `enrollment`. Idempotent: completing it again returns the
    first completion unchanged.

    The item must belong to the enrollment's course (ItemNotInCourse) and the enrollment must
    give access now (NoAccess): an expired, paused or not yet started learner makes no progress.
    The row is locked before its access is checked. A new completion adds one to the
    enrollment's stored `items_completed` (and sets its `course_status`) in the same
    transaction, under that lock.
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
            count_completion(enrollment=enrollment, completed_before=locked.items_completed)
    return completion
