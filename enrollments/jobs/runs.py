"""The runs' jobs (enrollments/operations/runs.py): one job advances one run; the sweep queues
again the runs that lost their runner.

A run's state is its own rows, not the job's: a job killed with -9 leaves its run RUNNING with
an old heartbeat, and the sweep (`sweep_runs`, or `manage.py jobs sweep` from cron) queues a
new job for it, which resumes at the first pending row. Two jobs of one run are harmless: each
chunk takes rows no other runner holds.
"""

import uuid

from django.db import transaction
from django_tasks import TaskResultStatus, task
from django_tasks.exceptions import TaskResultDoesNotExist

from enrollments.models import OperationRun
from enrollments.operations import runs


@task()
def advance_run(run_id: str) -> dict[str, object]:
    """Applies the run to its end (or its cancel); returns its state and counts. A failed run
    is left failed: staff's Retry queues it (and its job) again."""
    run = runs.advance(uuid.UUID(run_id), resume_failed=False)
    return {
        "state": run.state,
        "total": run.total,
        "changed": run.changed,
        "skipped": run.skipped,
        "unchanged": run.unchanged,
    }


def enqueue(run: OperationRun) -> None:
    """Queues a job for the run once the transaction that made it runnable commits (at once
    outside one), and notes the job on the run."""
    run_id = str(run.pk)

    def queue() -> None:
        job = advance_run.enqueue(run_id)
        OperationRun.objects.filter(pk=run.pk).update(job_id=str(job.id))

    transaction.on_commit(queue)


def job_waiting(run: OperationRun) -> bool:
    """Whether the run's latest job is still queued, not yet taken by a worker (all workers
    busy): queuing another would only pile up jobs."""
    if not run.job_id:
        return False
    try:
        return advance_run.get_result(run.job_id).status == TaskResultStatus.READY
    except TaskResultDoesNotExist:
        return False


def retry(run: OperationRun) -> OperationRun:
    """Queues an unfinished run again (runs.requeue) with a job for it; returns it as queued."""
    run = runs.requeue(run.pk)
    if run.state == OperationRun.State.QUEUED:
        enqueue(run)
    return run


def requeue_stale() -> list[OperationRun]:
    """Queues a job for every run that lost its runner (runs.stale) unless its latest job
    still waits for a worker; returns those queued."""
    requeued = []
    for run in runs.stale():
        runs.mark_requeued(run)
        if not job_waiting(run):
            enqueue(run)
            requeued.append(run)
    return requeued


def sweep() -> tuple[list[OperationRun], int]:
    """What `manage.py jobs sweep` (cron) does: `requeue_stale`, and the old drafts deleted
    (runs.discard_old_drafts); the runs queued again and the drafts deleted."""
    return requeue_stale(), runs.discard_old_drafts()


@task()
def sweep_runs() -> dict[str, int]:
    """`sweep` as a job, for a scheduler that queues jobs."""
    requeued, discarded = sweep()
    return {"requeued": len(requeued), "drafts_discarded": discarded}
