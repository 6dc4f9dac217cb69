"""Completing an item against the deletion of that item (PostgreSQL, threads): the completion
locks the item before the enrollment, in the deletion's own order (the item's row, then the
course's enrollments for its recount), so neither order deadlocks, and an item deleted while
the completion waited is not found instead of breaking the completion's foreign key."""

import threading
import time

import pytest
from django.db import transaction

from enrollments.errors import CourseItemNotFound
from enrollments.models import Enrollment, ItemCompletion
from enrollments.progress import completing
from enrollments.progress.completing import enrollment_complete_item
from lms.models import CourseItem
from tests.factories import CourseItemFactory, EnrollmentFactory
from tests.markers import requires_postgres
from tests.threads import in_thread

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def learner():
    """An enrollment whose course has two items, and the second (the one deleted)."""
    enrollment = EnrollmentFactory()
    CourseItemFactory(course=enrollment.course, position=1)
    doomed = CourseItemFactory(course=enrollment.course, position=2)
    return Enrollment.objects.get(pk=enrollment.pk), doomed


def test_an_item_deleted_while_the_completion_waits_is_not_found(learner):
    """The deletion holds the item's row and the enrollment's (its recount) when the
    completion, which read the item before, starts: it waits, then finds the item gone."""
    enrollment, doomed = learner
    stale = CourseItem.objects.get(pk=doomed.pk)  # what the resolver read before waiting
    deleted = threading.Event()
    outcome: dict = {}

    def delete_and_hold_the_locks():
        with transaction.atomic():
            doomed.delete()  # its recount locks the course's enrollments
            deleted.set()
            time.sleep(1)  # the completion now waits on the item's row
        return "deleted"

    def complete():
        deleted.wait(timeout=10)
        return enrollment_complete_item(enrollment=enrollment, item=stale)

    threads = [
        in_thread(delete_and_hold_the_locks, outcome, "delete"),
        in_thread(complete, outcome, "complete"),
    ]
    for thread in threads:
        thread.join(timeout=20)

    assert outcome["delete"] == "deleted"
    assert isinstance(outcome["complete"], CourseItemNotFound), outcome
    assert not ItemCompletion.objects.exists()
    stored = Enrollment.objects.get(pk=enrollment.pk)
    assert (stored.items_completed, stored.course_status) == (0, "not_started")


def test_a_deletion_after_the_completion_locked_the_item_does_not_deadlock(learner, monkeypatch):
    """The other order: the completion holds the item and the enrollment when the deletion
    starts. The deletion waits for the completion's commit; locked enrollment first, the
    completion's foreign key waited at its commit for the item's deletion, which waited for
    the enrollment: a deadlock, one of the two aborted. The deletion now waits for the
    completion, then deletes it with the item."""
    enrollment, doomed = learner
    locked, deleting = threading.Event(), threading.Event()
    lock_enrollment = completing.lock_enrollment

    def lock_and_wait(pk):
        row = lock_enrollment(pk)  # the item, then the enrollment, are locked now
        locked.set()
        deleting.wait(timeout=10)
        time.sleep(0.5)  # the deletion now waits on the item's row
        return row

    monkeypatch.setattr(completing, "lock_enrollment", lock_and_wait)
    outcome: dict = {}

    def delete():
        locked.wait(timeout=10)
        deleting.set()
        CourseItem.objects.get(pk=doomed.pk).delete()
        return "deleted"

    def complete():
        return enrollment_complete_item(enrollment=enrollment, item=doomed)

    threads = [in_thread(complete, outcome, "complete"), in_thread(delete, outcome, "delete")]
    for thread in threads:
        thread.join(timeout=20)

    assert isinstance(outcome["complete"], ItemCompletion), outcome
    # The deletion waited for the completion (enrollments.signals locks the item first), then
    # deleted it with the item: no deadlock, no foreign key failing at its commit.
    assert outcome["delete"] == "deleted", outcome
    assert not CourseItem.objects.filter(pk=doomed.pk).exists()
    assert not ItemCompletion.objects.filter(item_id=doomed.pk).exists()
