"""The runs' jobs (enrollments/operations/runs.py): one job advances one run; the sweep queues
again the runs that lost their runner.

A run's state is its own rows, not the job's: a job killed with -9 leaves its run RUNNING with
an old heartbeat, and the sweep (`sweep_runs`, or `manage.py jobs sweep` from cron) queues a
new job for it, which resumes at the first pending row. Two jobs of one run are harmless: each
chunk takes rows no other runner holds.
"""

import uuid

from django.db import transaction
from django_tasks import task

from enrollments.models import OperationRun
from enrollments.operations import runs


@task()
def advance_run(run_id: str) -> dict[str, object]:
    """Applies the run to its end (or its cancel); returns its state and counts."""
    run = runs.advance(uuid.UUID(run_id))
    return {
        "state": run.state,
        "total": run.total,
        "changed": run.changed,
        "skipped": run.skipped,
        "unchanged": run.unchanged,
    }


def enqueue(run: OperationRun) -> None:
    """Queues a job for the run once the transaction that made it runnable commits (at once
    outside one)."""
    run_id = str(run.pk)
    transaction.on_commit(lambda: advance_run.enqueue(run_id))


def retry(run: OperationRun) -> OperationRun:
    """Queues an unfinished run again (runs.requeue) with a job for it; returns it as queued."""
    run = runs.requeue(run.pk)
    if run.state == OperationRun.State.QUEUED:
        enqueue(run)
    return run


def requeue_stale() -> list[OperationRun]:
    """Queues a job for every run that lost its runner (runs.stale); returns them."""
    stale = runs.stale()
    for run in stale:
        runs.mark_requeued(run)
        enqueue(run)
    return stale


@task()
def sweep_runs() -> dict[str, int]:
    """`requeue_stale` as a job, for a scheduler that queues jobs."""
    return {"requeued": len(requeue_stale())}
