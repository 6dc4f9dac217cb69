"""Learner progress: completing course items."""

from django.db import transaction

from enrollments import clock
from enrollments.errors import ItemNotInCourse, NoAccess
from enrollments.models import Enrollment, ItemCompletion
from enrollments.rules import AccessState
from enrollments.selectors import enrollment_access_state
from lms.models import CourseItem


def enrollment_complete_item(*, enrollment: Enrollment, item: CourseItem) -> ItemCompletion:
    """Marks `item` completed for `enrollment`. Idempotent: completing it again returns the
    first completion unchanged.

    The item must belong to the enrollment's course (ItemNotInCourse) and the enrollment must
    give access now (NoAccess): an expired, paused or not yet started learner makes no progress.
    """
    if item.course_id != enrollment.course_id:
        raise ItemNotInCourse()
    now = clock.now()
    state = enrollment_access_state(enrollment, at=now)
    if state is not AccessState.ACTIVE:
        raise NoAccess(f"the membership is {state}")
    with transaction.atomic():
        completion, _created = ItemCompletion.objects.get_or_create(
            enrollment=enrollment, item=item, defaults={"completed_at": now}
        )
    return completion
