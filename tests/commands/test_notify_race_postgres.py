"""An extension that holds the enrollment's row lock while a sweep reaches that learner
(PostgreSQL, threads): the sweep does not wait for it (SKIP LOCKED). It leaves that learner for
the next sweep ("being changed") and claims nothing for it, so no reminder is claimed with the
end date the extension is replacing; the next sweep claims the new end when it is within the
window, and nothing when it is not.

The order is observed, not timed: the extension holds its lock until the sweep has finished,
and notes "extension commits" only then, so a sweep that waited for the lock could never
finish first.
"""

import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection, transaction

from enrollments.models import Enrollment, ExpiryReminder
from enrollments.operations import Extend, apply_to_one
from enrollments.operations.audit import Attribution
from enrollments.reminders import Sweep, sweep
from tests.factories import CourseFactory, EnrollmentFactory, UserFactory
from tests.jobs.worker import run_jobs
from tests.markers import requires_postgres

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]

SWEEP_FINISHED = "sweep finished"
EXTENSION_COMMITS = "extension commits"


def sweep_while_an_extension_holds_the_lock(enrollment: Enrollment, days: int):
    """Extends `enrollment` by `days` in a transaction that holds the row lock while a sweep
    (window: 7 days) runs; returns the sweep and what the two threads noted, in order."""
    extended_uncommitted, swept = threading.Event(), threading.Event()
    events: list[str] = []
    sweeps: list[Sweep] = []

    def extend_and_hold_the_lock():
        try:
            with transaction.atomic():
                apply_to_one(Extend(days=days), enrollment, Attribution(None, "command"))
                extended_uncommitted.set()
                swept.wait(timeout=20)
                events.append(EXTENSION_COMMITS)
        finally:
            connection.close()

    def remind():
        extended_uncommitted.wait(timeout=10)
        try:
            sweeps.append(sweep(within=timedelta(days=7)))
        finally:
            events.append(SWEEP_FINISHED)
            swept.set()
            connection.close()

    threads = [threading.Thread(target=extend_and_hold_the_lock), threading.Thread(target=remind)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)
    return sweeps[0], events


def learner(clock) -> Enrollment:
    return EnrollmentFactory(
        user=UserFactory(email="soon@example.com"),
        course=CourseFactory(title="Python Basics"),
        start_at=clock.current - timedelta(days=10),
        ended_at=clock.current + timedelta(days=2),
    )


def test_a_sweep_leaves_a_learner_being_extended_within_the_window_to_the_next_sweep(clock):
    enrollment = learner(clock)

    result, events = sweep_while_an_extension_holds_the_lock(enrollment, days=3)

    assert events == [SWEEP_FINISHED, EXTENSION_COMMITS]  # the sweep did not wait
    assert [e.pk for e in result.busy] == [enrollment.pk]
    assert (result.queued, result.already_claimed) == ([], [])
    assert not ExpiryReminder.objects.exists()  # nothing claimed with the old end

    again = sweep(within=timedelta(days=7))
    run_jobs()

    new_end = clock.current + timedelta(days=5)
    assert [r.ended_at for r in again.queued] == [new_end]
    assert [m.subject for m in mail.outbox] == ["Your access to Python Basics ends on 2026-01-06"]
    assert list(ExpiryReminder.objects.values_list("ended_at", "state")) == [(new_end, "sent")]


def test_a_sweep_leaves_a_learner_being_extended_beyond_the_window_and_nothing_is_sent(clock):
    enrollment = learner(clock)

    result, events = sweep_while_an_extension_holds_the_lock(enrollment, days=30)

    assert events == [SWEEP_FINISHED, EXTENSION_COMMITS]
    assert [e.pk for e in result.busy] == [enrollment.pk]
    assert sweep(within=timedelta(days=7)).queued == []
    assert mail.outbox == []
    assert not ExpiryReminder.objects.exists()
