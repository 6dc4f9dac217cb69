"""Learner progress: completing course items."""

from django.db import transaction

from enrollments import clock
from enrollments.errors import ItemNotInCourse, NoAccess
from enrollments.models import Enrollment, ItemCompletion
from enrollments.rules import AccessState
from enrollments.selectors import enrollment_access_state
from enrollments.services.progress_counts import count_completion
from lms.models import CourseItem


def enrollment_complete_item(*, enrollment: Enrollment, item: CourseItem) -> ItemCompletion:
    """Marks `item` completed for `enrollment`. Idempotent: completing it again returns the
    first completion unchanged.

    The item must belong to the enrollment's course (ItemNotInCourse) and the enrollment must
    give access now (NoAccess): an expired, paused or not yet started learner makes no progress.
    A new completion adds one to the enrollment's stored `items_completed` (and sets its
    `course_status`) in the same transaction, under the enrollment's row lock.
    """
    if item.course_id != enrollment.course_id:
        raise ItemNotInCourse()
    now = clock.now()
    state = enrollment_access_state(enrollment, at=now)
    if state is not AccessState.ACTIVE:
        raise NoAccess(f"the membership is {state}")
    with transaction.atomic():
        locked = (
            Enrollment.objects.select_for_update().only("items_completed").get(pk=enrollment.pk)
        )
        completion, created = ItemCompletion.objects.get_or_create(
            enrollment=enrollment, item=item, defaults={"completed_at": now}
        )
        if created:
            count_completion(enrollment=enrollment, completed_before=locked.items_completed)
    return completion
