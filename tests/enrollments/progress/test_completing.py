"""enrollment_complete_item."""

from datetime import timedelta

import pytest

from enrollments.errors import ItemNotInCourse, NoAccess
from enrollments.models import ItemCompletion
from enrollments.operations import Pause, apply_to_one
from enrollments.operations.audit import Attribution
from enrollments.progress.completing import enrollment_complete_item
from tests.factories import CourseItemFactory, EnrollmentFactory

pytestmark = pytest.mark.django_db


def test_completing_is_idempotent(enrollment, clock):
    item = CourseItemFactory(course=enrollment.course)
    first = enrollment_complete_item(enrollment=enrollment, item=item)
    clock.advance(hours=1)
    again = enrollment_complete_item(enrollment=enrollment, item=item)
    assert first.pk == again.pk and again.completed_at == first.completed_at
    assert ItemCompletion.objects.count() == 1


def test_item_of_another_course(enrollment):
    with pytest.raises(ItemNotInCourse):
        enrollment_complete_item(enrollment=enrollment, item=CourseItemFactory())
    assert not ItemCompletion.objects.exists()


@pytest.mark.parametrize("state", ["expired", "not_started", "paused"])
def test_no_progress_without_access(clock, state):
    enrollment = EnrollmentFactory(
        start_at=clock.current + timedelta(days=1) if state == "not_started" else clock.current,
        ended_at=clock.current if state == "expired" else clock.current + timedelta(days=9),
    )
    if state == "paused":
        enrollment = apply_to_one(Pause(), enrollment, Attribution(None, "system"))
    with pytest.raises(NoAccess):
        enrollment_complete_item(
            enrollment=enrollment, item=CourseItemFactory(course=enrollment.course)
        )
    assert not ItemCompletion.objects.exists()
