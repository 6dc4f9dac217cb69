"""Overlapping sweeps (cron on every app server at the same minute, or a slow one still going
when the next starts) claim each reminder once, and the reminders are sent once (PostgreSQL,
threads)."""

import time
from datetime import timedelta

import pytest
from django.core import mail

from enrollments.models import ExpiryReminder
from enrollments.reminders import sweep
from tests.factories import CourseFactory, EnrollmentFactory
from tests.jobs.worker import run_jobs
from tests.markers import requires_postgres
from tests.threads import run_at_once

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]


def test_overlapping_sweeps_claim_and_send_each_reminder_once(clock, monkeypatch):
    monkeypatch.setattr("enrollments.reminders.REMINDER_CHUNK", 5)
    course = CourseFactory()
    for n in range(30):
        EnrollmentFactory(
            course=course,
            start_at=clock.current - timedelta(days=1),
            ended_at=clock.current + timedelta(days=1, minutes=n),
        )
    real_create = ExpiryReminder.objects.create

    def slow_create(**fields):
        time.sleep(0.01)  # a busy database: the sweeps overlap chunk by chunk
        return real_create(**fields)

    monkeypatch.setattr(ExpiryReminder.objects, "create", slow_create)

    sweeps = run_at_once(3, lambda _: sweep(within=timedelta(days=7)))

    assert not any(isinstance(result, Exception) for result in sweeps), sweeps
    # They did overlap: a sweep found learners locked by another's claim (left to it) or lost
    # the claim on the unique index (claimed meanwhile).
    assert sum(len(s.busy) + len(s.already_claimed) for s in sweeps) > 0
    assert sum(len(s.queued) for s in sweeps) == 30
    assert ExpiryReminder.objects.count() == 30

    jobs = run_jobs()

    assert [job.return_value for job in jobs] == ["sent"] * 30
    assert len(mail.outbox) == 30
    assert len({message.to[0] for message in mail.outbox}) == 30
    assert set(ExpiryReminder.objects.values_list("state", flat=True)) == {"sent"}
