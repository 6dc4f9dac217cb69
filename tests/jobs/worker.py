"""Running queued jobs inside a test, the way `manage.py db_worker` runs each one.

The worker's own loop closes "obsolete" connections between jobs, which would end the test's
transaction; here each job that is due is claimed and run by the worker's `run_task`, the same
code `db_worker` runs, in this process and thread, so that the locmem outbox sees the mail.
`TestCase.captureOnCommitCallbacks(execute=True)` runs what a test's transaction would run on
commit (the jobs queued after a claim commits).
"""

from django.test import TestCase
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from tests.commands.conftest import Run, run_command


def a_worker(worker_class: type[Worker] = Worker) -> Worker:
    """A worker of `worker_class` (upstream's, or a subclass) with every queue, in batch mode,
    for a test to call its steps."""
    return worker_class(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="tests",
        excluded_queue_names=[],
    )


def run_jobs() -> list[DBTaskResult]:
    """Runs once each job due now (queued before this call), oldest first; returns them as they
    ended (status SUCCESSFUL or FAILED, return value, traceback). Retries they queue are left
    for the next call."""
    worker = a_worker()
    ran = []
    for job in list(DBTaskResult.objects.ready().order_by("enqueued_at")):
        job.claim(worker.worker_id)
        with TestCase.captureOnCommitCallbacks(execute=True):
            worker.run_task(job)
        job.refresh_from_db()
        ran.append(job)
    return ran


def sweep(*args: str, **options) -> Run:
    """`notify_expiring ARGS`, its claims committed (their send jobs queued)."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return run_command("notify_expiring", *args, **options)


def sweep_and_send(*args: str, **options) -> Run:
    """`notify_expiring ARGS`, then the worker runs the send jobs it queued."""
    result = sweep(*args, **options)
    run_jobs()
    return result
