"""The sweep of runs that lost their runner (enrollments/jobs/runs.requeue_stale) queues a job
for a run whose job was taken and lost (a worker killed), and none while the run's job still
waits for a worker: a queue that is only busy does not pile up jobs."""

from datetime import timedelta

import pytest
from django.test import TestCase
from django_tasks_db.models import DBTaskResult

from enrollments.jobs import runs as jobs
from enrollments.models import AccessChange, Enrollment, OperationRun
from enrollments.operations import Pause, Selection, runs
from enrollments.operations.audit import Attribution
from tests.factories import EnrollmentFactory
from tests.jobs.worker import run_jobs

pytestmark = pytest.mark.django_db

BY = Attribution(None, AccessChange.Source.COMMAND, "sweep")


@pytest.fixture
def queued_run(clock):
    EnrollmentFactory.create_batch(3, start_at=clock.current - timedelta(days=1))
    run = runs.start([(Pause(), Selection.by_filter(Enrollment.objects.all()))], BY)
    with TestCase.captureOnCommitCallbacks(execute=True):
        jobs.enqueue(run)
    run.refresh_from_db()
    return run


def stale_later(clock) -> None:
    clock.advance(seconds=runs.run_setting("STALE_AFTER_SECONDS") + 1)


def test_a_run_whose_job_waits_for_a_worker_gets_no_second_job(clock, queued_run):
    assert queued_run.job_id
    stale_later(clock)
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert jobs.requeue_stale() == []
    assert DBTaskResult.objects.count() == 1
    [job] = run_jobs()
    assert job.status == "SUCCESSFUL"
    queued_run.refresh_from_db()
    assert (queued_run.state, queued_run.changed) == (OperationRun.State.DONE, 3)


def test_a_run_whose_job_was_taken_by_a_worker_that_died_gets_a_new_job(clock, queued_run):
    # A worker claimed the job, took the run, then was killed: the job stays RUNNING forever.
    DBTaskResult.objects.update(status="RUNNING")
    OperationRun.objects.filter(pk=queued_run.pk).update(
        state=OperationRun.State.RUNNING, heartbeat_at=clock.current
    )
    stale_later(clock)
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert [run.pk for run in jobs.requeue_stale()] == [queued_run.pk]
    assert DBTaskResult.objects.filter(status="READY").count() == 1
    [job] = run_jobs()
    assert job.status == "SUCCESSFUL"
    queued_run.refresh_from_db()
    assert (queued_run.state, queued_run.changed) == (OperationRun.State.DONE, 3)
    assert queued_run.job_id == str(job.id)
