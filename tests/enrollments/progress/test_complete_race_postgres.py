"""Completing an item against a concurrent pause (PostgreSQL, threads): the completion decides
from the enrollment locked, so a pause committed while it waited is seen, and a completion
that got the lock first is not undone by the pause after it."""

import threading
import time

import pytest
from django.db import connection, transaction

from enrollments.errors import NoAccess
from enrollments.models import AccessChange, Enrollment, ItemCompletion
from enrollments.operations import Pause, Selection, apply, apply_to_one
from enrollments.operations.audit import Attribution
from enrollments.progress.completing import enrollment_complete_item
from tests.factories import CourseItemFactory, EnrollmentFactory
from tests.markers import requires_postgres
from tests.threads import run_at_once

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]

BY = Attribution(None, AccessChange.Source.ADMIN)


def test_a_pause_committed_while_the_completion_waits_is_seen():
    enrollment = EnrollmentFactory()
    item = CourseItemFactory(course=enrollment.course)
    stale = Enrollment.objects.get(pk=enrollment.pk)  # what the resolver read: not paused
    paused_uncommitted, completing = threading.Event(), threading.Event()
    finished: dict[str, float] = {}

    def pause_and_hold_the_lock():
        try:
            with transaction.atomic():
                apply(Pause(), Selection.named([enrollment.pk]), BY)
                paused_uncommitted.set()
                completing.wait(timeout=10)
                time.sleep(0.3)  # the completion is now waiting on the row lock
                # Taken before the commit releases the lock: after it, the completion may finish
                # before this thread is scheduled again.
                finished["pause"] = time.monotonic()
        finally:
            connection.close()

    def complete():
        paused_uncommitted.wait(timeout=10)
        completing.set()
        try:
            return enrollment_complete_item(enrollment=stale, item=item)
        except NoAccess as error:
            return error
        finally:
            finished["complete"] = time.monotonic()
            connection.close()

    pauser = threading.Thread(target=pause_and_hold_the_lock)
    pauser.start()
    outcome: list = []
    completer = threading.Thread(target=lambda: outcome.append(complete()))
    completer.start()
    pauser.join(timeout=20)
    completer.join(timeout=20)

    assert isinstance(outcome[0], NoAccess)
    assert finished["complete"] > finished["pause"]  # it waited for the pause to commit
    assert not ItemCompletion.objects.exists()


def test_released_together_a_completion_never_follows_a_pause():
    """Many rounds of completion and pause released at once: whichever locks first wins, and
    no completion is ever recorded after the pause that should have stopped it."""
    for _ in range(8):
        enrollment = EnrollmentFactory()
        item = CourseItemFactory(course=enrollment.course)
        stale = Enrollment.objects.get(pk=enrollment.pk)

        def work(i, stale=stale, item=item):
            if i == 0:
                return apply_to_one(Pause(), stale, Attribution(None, "admin"))
            return enrollment_complete_item(enrollment=stale, item=item)

        results = run_at_once(2, work)

        assert not [r for r in results if isinstance(r, Exception) and not isinstance(r, NoAccess)]
        pause = AccessChange.objects.get(enrollment=enrollment, action="pause")
        completion = ItemCompletion.objects.filter(enrollment=enrollment).first()
        if isinstance(results[1], NoAccess):
            assert completion is None
        else:
            assert completion.completed_at <= pause.created_at
