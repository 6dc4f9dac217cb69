"""Learners completing items at once: the stored count loses none (PostgreSQL, threads)."""

import pytest

from enrollments.models import Enrollment, ItemCompletion
from enrollments.progress.completing import enrollment_complete_item
from tests.factories import CourseItemFactory, EnrollmentFactory
from tests.markers import requires_postgres
from tests.threads import run_at_once

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]


def test_concurrent_completions_of_one_enrollment_are_all_counted():
    enrollment = EnrollmentFactory()
    items = CourseItemFactory.create_batch(8, course=enrollment.course)

    # Twelve threads, eight items: four of them completed twice at the same moment.
    results = run_at_once(
        12,
        lambda i: enrollment_complete_item(
            enrollment=Enrollment.objects.get(pk=enrollment.pk), item=items[i % 8]
        ),
    )

    assert not [r for r in results if isinstance(r, Exception)]
    stored = Enrollment.objects.get(pk=enrollment.pk)
    assert ItemCompletion.objects.filter(enrollment=enrollment).count() == 8
    assert (stored.items_completed, stored.course_status) == (8, "completed")
