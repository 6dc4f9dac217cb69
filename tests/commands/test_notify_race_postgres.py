"""An extension that holds the enrollment's row lock while a reminder run reaches that learner
(PostgreSQL, threads): the reminder waits for the extension's commit, then mails the new end
date, or sends nothing when the new end is beyond the window; never the old date.

The order is observed, not timed: the extension commits only once PostgreSQL shows the run
blocked on its lock (pg_blocking_pids), and notes "extension commits" just before its commit. A
run that is blocked on that lock cannot finish before the commit, so when the run notes "run
finished" it comes after, on every machine. (The test used to take the extension's timestamp
after the commit, racing the run it had just released: it failed now and then under load.)
"""

import threading
import time
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection, transaction

from enrollments import reminders as reminders_module
from enrollments.models import Enrollment, ExpiryReminder
from enrollments.operations import Extend, apply_to_one
from enrollments.operations.audit import Attribution
from enrollments.reminders import ReminderRun, expiry_reminders_send
from tests.factories import CourseFactory, EnrollmentFactory, UserFactory
from tests.markers import requires_postgres

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]


#: What the two threads note, in the order they note it.
RUN_BLOCKED = "run blocked on the extension's lock"
EXTENSION_COMMITS = "extension commits"
RUN_FINISHED = "run finished"


def wait_until_another_session_waits_for_our_lock(timeout: float = 10) -> bool:
    """Polls PostgreSQL's lock table (live, not a per-transaction snapshot) until a session is
    blocked by this one; False if none is within `timeout`."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT EXISTS (SELECT 1 FROM pg_locks"
                " WHERE NOT granted AND pg_backend_pid() = ANY(pg_blocking_pids(pid)))"
            )
            if cursor.fetchone()[0]:
                return True
            time.sleep(0.01)
    return False


def extend_while_the_run_reaches_it(
    monkeypatch, enrollment: Enrollment, days: int
) -> tuple[ReminderRun, list[str], list]:
    """Extends `enrollment` by `days` in a transaction that holds the row lock while a reminder
    run (window: 7 days) starts and blocks on that lock; returns the run, what the two threads
    noted in order, and the end dates the run had read when it reached the learner."""
    extended_uncommitted, reminding = threading.Event(), threading.Event()
    events: list[str] = []  # list.append is atomic: one order both threads agree on
    read_ends: list = []
    real_send = reminders_module.expiry_reminder_send

    def send(*, enrollment: Enrollment, **kwargs):
        read_ends.append(enrollment.ended_at)  # the run's read, before the locked re-read
        return real_send(enrollment=enrollment, **kwargs)

    monkeypatch.setattr("enrollments.reminders.expiry_reminder_send", send)

    def extend_and_hold_the_lock():
        try:
            with transaction.atomic():
                apply_to_one(Extend(days=days), enrollment, Attribution(None, "command"))
                extended_uncommitted.set()
                reminding.wait(timeout=10)
                # The run has read the old end and waits on the row lock.
                if wait_until_another_session_waits_for_our_lock():
                    events.append(RUN_BLOCKED)
                events.append(EXTENSION_COMMITS)  # before the commit, which releases the run
        finally:
            connection.close()

    def remind():
        extended_uncommitted.wait(timeout=10)
        reminding.set()
        try:
            return expiry_reminders_send(within=timedelta(days=7))
        finally:
            events.append(RUN_FINISHED)
            connection.close()

    runs: list[ReminderRun] = []
    extender = threading.Thread(target=extend_and_hold_the_lock)
    extender.start()
    reminder = threading.Thread(target=lambda: runs.append(remind()))
    reminder.start()
    extender.join(timeout=20)
    reminder.join(timeout=20)
    assert not extender.is_alive() and not reminder.is_alive()
    return runs[0], events, read_ends


def learner(clock) -> Enrollment:
    return EnrollmentFactory(
        user=UserFactory(email="soon@example.com"),
        course=CourseFactory(title="Python Basics"),
        start_at=clock.current - timedelta(days=10),
        ended_at=clock.current + timedelta(days=2),
    )


def test_an_extension_within_the_window_holding_the_lock_is_waited_for_and_its_end_mailed(
    clock, monkeypatch
):
    enrollment = learner(clock)

    run, events, read_ends = extend_while_the_run_reaches_it(monkeypatch, enrollment, days=3)

    assert read_ends == [clock.current + timedelta(days=2)]  # the run read the old end
    # and waited on the row lock for the extension's commit
    assert events == [RUN_BLOCKED, EXTENSION_COMMITS, RUN_FINISHED]
    new_end = clock.current + timedelta(days=5)
    assert [e.ended_at for e in run.sent] == [new_end]
    assert (run.already_claimed, run.no_longer_due, run.failed) == ([], [], [])
    assert [m.subject for m in mail.outbox] == ["Your access to Python Basics ends on 2026-01-06"]
    assert list(ExpiryReminder.objects.values_list("ended_at", flat=True)) == [new_end]


def test_an_extension_beyond_the_window_holding_the_lock_is_waited_for_and_nothing_sent(
    clock, monkeypatch
):
    enrollment = learner(clock)

    run, events, read_ends = extend_while_the_run_reaches_it(monkeypatch, enrollment, days=30)

    assert read_ends == [clock.current + timedelta(days=2)]  # the run read the old end
    # and waited on the row lock for the extension's commit
    assert events == [RUN_BLOCKED, EXTENSION_COMMITS, RUN_FINISHED]
    assert [e.pk for e in run.no_longer_due] == [enrollment.pk]
    assert (run.sent, run.already_claimed, run.failed) == ([], [], [])
    assert mail.outbox == []
    assert not ExpiryReminder.objects.exists()
