"""Two overlapping reminder runs (cron started the next before the last ended) send each
reminder once (PostgreSQL, threads)."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection

from enrollments.models import ExpiryReminder
from enrollments.reminders import expiry_reminders_send
from tests.factories import CourseFactory, EnrollmentFactory
from tests.markers import requires_postgres

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]


def test_overlapping_runs_send_each_reminder_once(clock, monkeypatch):
    course = CourseFactory()
    for n in range(30):
        EnrollmentFactory(
            course=course,
            start_at=clock.current - timedelta(days=1),
            ended_at=clock.current + timedelta(days=1, minutes=n),
        )
    real_send = mail.EmailMessage.send

    def slow_send(message, fail_silently=False):
        time.sleep(0.01)  # a mail server round trip: the runs overlap row by row
        return real_send(message, fail_silently=fail_silently)

    monkeypatch.setattr(mail.EmailMessage, "send", slow_send)
    barrier = threading.Barrier(3)

    def run(_):
        try:
            barrier.wait(timeout=10)
            return expiry_reminders_send(within=timedelta(days=7))
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=3) as pool:
        runs = list(pool.map(run, range(3)))

    # The runs did overlap: a later run found the learner reminded (no longer due) or lost the
    # claim on the unique index (claimed meanwhile).
    assert sum(len(r.already_claimed) + len(r.no_longer_due) for r in runs) > 0
    assert sum(len(r.sent) for r in runs) == 30
    assert not any(r.failed for r in runs)
    assert len(mail.outbox) == 30
    assert len({message.to[0] for message in mail.outbox}) == 30
    assert ExpiryReminder.objects.count() == 30
