"""Real `manage.py db_worker` processes on PostgreSQL send the reminders the sweep queued, retry
a failing mail server with backoff, and never send one reminder twice when several run.

The workers use the test database (the data is committed: transaction=True) and a real SMTP
server of the test's own on 127.0.0.1 (tests/jobs/smtp.py); the enrollments are dated from the
real clock, which is the workers'.
"""

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from enrollments.models import ExpiryReminder
from enrollments.reminders import sweep
from tests.factories import CourseFactory, EnrollmentFactory, UserFactory
from tests.jobs.smtp import MailServer
from tests.markers import requires_postgres
from tests.subprocesses import DB_WORKER, ManageProcess, wait_for

pytestmark = [requires_postgres, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

SENT = ExpiryReminder.State.SENT


def start_worker(name: str, log_folder: Path, mail_port: int, **extra: str) -> ManageProcess:
    """`manage.py db_worker` as the Procfile runs it, on the test database and mail server."""
    return ManageProcess(
        name,
        log_folder / f"{name}.log",
        *DB_WORKER,
        EMAIL_URL=f"smtp://127.0.0.1:{mail_port}",
        EMAIL_TIMEOUT="5",
        **extra,
    )


def wait_until_sent(count: int, *workers: ManageProcess) -> None:
    wait_for(
        lambda: ExpiryReminder.objects.filter(state=SENT).count() >= count,
        f"{count} reminders sent",
        *workers,
    )


def learners(count: int) -> list:
    now, course = timezone.now(), CourseFactory(title="Python Basics")
    return [
        EnrollmentFactory(
            user=UserFactory(email=f"l{n}@example.com"),
            course=course,
            start_at=now - timedelta(days=10),
            ended_at=now + timedelta(days=2, minutes=n),
        )
        for n in range(count)
    ]


def test_a_worker_sends_what_the_sweep_queued(tmp_path):
    learners(3)
    with MailServer() as server:
        result = sweep(within=timedelta(days=7))  # committed: the three jobs are queued
        assert len(result.queued) == 3 and DBTaskResult.objects.count() == 3
        worker = start_worker("reminders", tmp_path, server.port)
        try:
            wait_until_sent(3, worker)
        finally:
            output = worker.stop()

    assert sorted(recipient for recipient, _ in server.messages) == [
        "l0@example.com",
        "l1@example.com",
        "l2@example.com",
    ]
    assert set(DBTaskResult.objects.values_list("status", "return_value")) == {
        ("SUCCESSFUL", "sent")
    }
    assert "send_expiry_reminder state=SUCCESSFUL" in output


def test_a_worker_retries_a_failing_mail_server_with_backoff(tmp_path):
    learners(1)
    # The server asks to try later twice, then takes the message. Backoff base 1 s: the first
    # retry waits 0.5-1 s, the second 1-2 s.
    with MailServer(refuse_first=2) as server:
        sweep(within=timedelta(days=7))
        worker = start_worker("retries", tmp_path, server.port, REMINDER_RETRY_BASE_SECONDS="1")
        try:
            wait_until_sent(1, worker)
        finally:
            worker.stop()

    reminder = ExpiryReminder.objects.get()
    assert (reminder.state, reminder.attempts, reminder.last_error) == (SENT, 3, "")
    assert [recipient for recipient, _ in server.messages] == ["l0@example.com"]
    first, second, third = server.transactions
    assert second - first >= 0.5 and third - second >= 1.0
    assert list(
        DBTaskResult.objects.order_by("enqueued_at").values_list("status", "return_value")
    ) == [
        ("SUCCESSFUL", "retry_scheduled"),
        ("SUCCESSFUL", "retry_scheduled"),
        ("SUCCESSFUL", "sent"),
    ]


def test_two_workers_never_send_one_reminder_twice(tmp_path):
    learners(20)
    with MailServer() as server:
        sweep(within=timedelta(days=7))
        # A second job for every reminder, as a sweep that found them stalled would queue.
        sweep_jobs = list(DBTaskResult.objects.all())
        for job in sweep_jobs:
            job.task.enqueue(*job.args_kwargs["args"])
        workers = [start_worker(name, tmp_path, server.port) for name in ("one", "two")]
        try:
            wait_until_sent(20, *workers)
            wait_for(
                lambda: not DBTaskResult.objects.exclude(status="SUCCESSFUL").exists(),
                "every job ran",
                *workers,
            )
        finally:
            # Every worker signalled before any exit status is asserted: a failed assertion
            # must not leave the other worker running on this test database.
            for worker in workers:
                worker.terminate()
            for worker in workers:
                worker.stop()

    recipients = [recipient for recipient, _ in server.messages]
    assert sorted(recipients) == sorted(f"l{n}@example.com" for n in range(20))
    assert sorted(DBTaskResult.objects.values_list("return_value", flat=True)) == sorted(
        ["sent"] * 20 + ["not_pending"] * 20
    )
