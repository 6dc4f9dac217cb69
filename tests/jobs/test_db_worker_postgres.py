"""Real `manage.py db_worker` processes on PostgreSQL send the reminders the sweep queued, retry
a failing mail server with backoff, and never send one reminder twice when several run.

The workers use the test database (the data is committed: transaction=True) and a real SMTP
server of the test's own on 127.0.0.1 (tests/jobs/smtp.py); the enrollments are dated from the
real clock, which is the workers'.
"""

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from enrollments.models import ExpiryReminder
from enrollments.reminders import sweep
from tests.factories import CourseFactory, EnrollmentFactory, UserFactory
from tests.jobs.smtp import MailServer
from tests.markers import requires_postgres

pytestmark = [requires_postgres, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
SENT = ExpiryReminder.State.SENT


def _database_url() -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return (
        f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
        f"/{db['NAME']}"
    )


def start_worker(mail_port: int, **extra: str) -> subprocess.Popen:
    """`manage.py db_worker` as the Procfile runs it, on the test database and mail server."""
    dropped = {"DJANGO_SETTINGS_MODULE", "DEBUG"}
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env.update(
        SECRET_KEY="db-worker-test-secret-key-of-fifty-or-more-characters-0123456789",
        ENV_FILE=os.devnull,
        DATABASE_URL=_database_url(),
        CONN_MAX_AGE="0",  # the test database is dropped at the end: hold no connection
        EMAIL_URL=f"smtp://127.0.0.1:{mail_port}",
        EMAIL_TIMEOUT="5",
        **extra,
    )
    return subprocess.Popen(
        [sys.executable, "manage.py", "db_worker", "--no-reload", "--interval", "0.1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def stop(worker: subprocess.Popen) -> str:
    """Stops a worker as systemd does (SIGTERM: it finishes its job and exits 0)."""
    worker.send_signal(signal.SIGTERM)
    output, _ = worker.communicate(timeout=30)
    assert worker.returncode == 0, output
    return output


def wait_until_sent(count: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ExpiryReminder.objects.filter(state=SENT).count() >= count:
            return
        time.sleep(0.1)
    raise AssertionError(
        f"not sent within {timeout} s: {list(ExpiryReminder.objects.values('state', 'attempts'))}"
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


def test_a_worker_sends_what_the_sweep_queued():
    learners(3)
    with MailServer() as server:
        result = sweep(within=timedelta(days=7))  # committed: the three jobs are queued
        assert len(result.queued) == 3 and DBTaskResult.objects.count() == 3
        worker = start_worker(server.port)
        try:
            wait_until_sent(3)
        finally:
            output = stop(worker)

    assert sorted(recipient for recipient, _ in server.messages) == [
        "l0@example.com",
        "l1@example.com",
        "l2@example.com",
    ]
    assert set(DBTaskResult.objects.values_list("status", "return_value")) == {
        ("SUCCESSFUL", "sent")
    }
    assert "send_expiry_reminder state=SUCCESSFUL" in output


def test_a_worker_retries_a_failing_mail_server_with_backoff():
    learners(1)
    # The server asks to try later twice, then takes the message. Backoff base 1 s: the first
    # retry waits 0.5-1 s, the second 1-2 s.
    with MailServer(refuse_first=2) as server:
        sweep(within=timedelta(days=7))
        worker = start_worker(server.port, REMINDER_RETRY_BASE_SECONDS="1")
        try:
            wait_until_sent(1)
        finally:
            stop(worker)

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


def test_two_workers_never_send_one_reminder_twice():
    learners(20)
    with MailServer() as server:
        sweep(within=timedelta(days=7))
        # A second job for every reminder, as a sweep that found them stalled would queue.
        sweep_jobs = list(DBTaskResult.objects.all())
        for job in sweep_jobs:
            job.task.enqueue(*job.args_kwargs["args"])
        workers = [start_worker(server.port), start_worker(server.port)]
        try:
            wait_until_sent(20)
            deadline = time.monotonic() + 30
            while DBTaskResult.objects.exclude(status="SUCCESSFUL").exists():
                assert time.monotonic() < deadline, "jobs left unrun"
                time.sleep(0.1)
        finally:
            for worker in workers:
                stop(worker)

    recipients = [recipient for recipient, _ in server.messages]
    assert sorted(recipients) == sorted(f"l{n}@example.com" for n in range(20))
    assert sorted(DBTaskResult.objects.values_list("return_value", flat=True)) == sorted(
        ["sent"] * 20 + ["not_pending"] * 20
    )
