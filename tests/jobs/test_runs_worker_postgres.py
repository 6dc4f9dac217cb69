"""Runs (enrollments/operations/runs.py) applied by real `manage.py db_worker` processes on
PostgreSQL: a worker killed with -9 in the middle of a run, the run queued again by the sweep
and finished by another worker with every row changed once and one audit row each; two workers
on one run (queued twice) and on many small runs never change a row twice; a run bound to its
preview skips the rows changed since.

The workers use the test database (the data is committed: transaction=True) and the real clock.
Each worker connects with an `application_name` of its own (libpq's PGAPPNAME), so the test sees
in `pg_stat_activity` when a worker waits for a lock and when a killed worker's connection is
gone. Instead of sleeping, the test holds a row lock a worker needs (a barrier): it waits until
the worker waits for it, then acts.
"""

import re
import signal
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from enrollments.errors import EnrollmentChangedSincePreview
from enrollments.jobs.runs import enqueue
from enrollments.models import AccessChange, Enrollment, OperationRun
from enrollments.operations import Extend, Pause, Selection, apply_to_one, runs
from enrollments.operations.audit import Attribution
from lms.models import Course, User
from tests.factories import OperatorFactory
from tests.markers import requires_postgres
from tests.run_chunks import pending_rows
from tests.subprocesses import DB_WORKER, ManageProcess, connections_of, wait_for

pytestmark = [requires_postgres, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

State = OperationRun.State
BY = Attribution(None, AccessChange.Source.COMMAND, "runs by workers")
#: Rows per chunk in the workers (RUNS_CHUNK_SIZE): many chunks per run.
CHUNK = 100
ADVANCE_RUN = "enrollments.jobs.runs.advance_run"
#: The worker's line for a job that ended well (django-tasks' log of task_finished).
FINISHED = re.compile(rf"Task id=(\S+) path={ADVANCE_RUN} state=SUCCESSFUL")


def advance_jobs():
    """The runs' jobs (each chunk's commit also queues the events' fan-out: not these)."""
    return DBTaskResult.objects.filter(task_path=ADVANCE_RUN)


#: The runs' settings in the workers: many chunks per run, stale after a second.
RUNS_SETTINGS = {"RUNS_CHUNK_SIZE": str(CHUNK), "RUNS_STALE_AFTER_SECONDS": "1"}


@pytest.fixture
def start_worker(tmp_path) -> Iterator[Callable[..., ManageProcess]]:
    """Starts `db_worker`s named for pg_stat_activity; kills any still running after the test."""
    started: list[ManageProcess] = []

    def start(name: str, *args: str) -> ManageProcess:
        log = tmp_path / f"{name}.log"
        worker = ManageProcess(name, log, *DB_WORKER, "--no-startup-delay", *args, **RUNS_SETTINGS)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.end()


@pytest.fixture
def stale_after_one_second(settings):
    """The sweep's threshold (the workers get the same in their environment)."""
    settings.RUNS = {**settings.RUNS, "STALE_AFTER_SECONDS": 1}


def learners(count: int, ends: datetime) -> tuple[Course, list[Enrollment]]:
    """`count` enrollments of one course ending at `ends`, in the runs' order: on PostgreSQL a
    run's chunks follow the table's physical order (run_chunks.write_filter), which is the
    order they are inserted in a table just filled."""
    course = Course.objects.create(slug="big-course", title="Big course", access_days=90)
    users = User.objects.bulk_create(
        User(email=f"runner{n}@example.com", first_name=f"Runner {n}") for n in range(count)
    )
    enrollments = Enrollment.objects.bulk_create(
        (
            Enrollment(user=user, course=course, start_at=ends - timedelta(days=60), ended_at=ends)
            for user in users
        ),
        batch_size=2000,
    )
    return course, enrollments


def of_course(course: Course) -> Selection:
    return Selection.by_filter(Enrollment.objects.filter(course=course))


def audit_rows_per_enrollment(batch_id) -> Counter:
    return Counter(
        dict(
            AccessChange.objects.filter(batch_id=batch_id)
            .values("enrollment")
            .annotate(n=Count("id"))
            .values_list("enrollment", "n")
        )
    )


def ends_by_enrollment() -> dict:
    return dict(Enrollment.objects.values_list("pk", "ended_at"))


def test_a_worker_killed_mid_run_is_queued_again_and_every_row_changes_once(
    start_worker, stale_after_one_second
):
    ends = timezone.now() + timedelta(days=20)
    course, enrollments = learners(5000, ends)
    run = runs.start([(Extend(days=30), of_course(course))], BY)
    enqueue(run)  # no transaction open: queued at once

    # The test locks a row of the 21st chunk: the worker commits 20 chunks, then waits
    # for it with the 21st in flight (its run rows and enrollments locked), and is killed there.
    blocker = enrollments[20 * CHUNK]
    with transaction.atomic():
        Enrollment.objects.select_for_update().get(pk=blocker.pk)
        killed = start_worker("runs-killed")
        wait_for(
            lambda: connections_of("runs-killed", waiting_for_a_lock=True) == 1,
            "the worker waits for the locked row",
            killed,
        )
        run.refresh_from_db()
        assert (run.state, run.changed, run.total) == (State.RUNNING, 20 * CHUNK, 5000)
        assert killed.kill() == -signal.SIGKILL
    # The lock released, the killed worker's connection takes it, finds its client gone and
    # rolls the chunk back.
    wait_for(lambda: connections_of("runs-killed") == 0, "the killed worker's connection ends")
    assert AccessChange.objects.count() == 20 * CHUNK
    assert pending_rows(run) == 5000 - 20 * CHUNK
    killed_job = advance_jobs().get()
    assert killed_job.status == "RUNNING"  # django-tasks-db never learns that its worker died

    # The sweep cron runs (docs/deploy.md) queues it again once no chunk has committed for
    # STALE_AFTER_SECONDS (here in this process: a process of its own costs seconds).
    wait_for(lambda: bool(runs.stale()), "the run goes stale")
    swept = StringIO()
    call_command("jobs", "sweep", stdout=swept)
    assert str(run.pk) in swept.getvalue()
    assert advance_jobs().filter(status="READY").count() == 1

    resumed = start_worker("runs-resumed", "--batch")
    output = resumed.wait()

    run.refresh_from_db()
    assert (run.state, run.changed, run.skipped, run.unchanged) == (State.DONE, 5000, 0, 0)
    assert run.finished_at is not None and run.error == ""
    assert set(ends_by_enrollment().values()) == {ends + timedelta(days=30)}
    assert audit_rows_per_enrollment(run.batch_id) == {e.pk: 1 for e in enrollments}
    assert AccessChange.objects.count() == 5000
    assert pending_rows(run) == 0
    resumed_job = advance_jobs().exclude(pk=killed_job.pk).get()
    assert (resumed_job.status, resumed_job.return_value["state"]) == ("SUCCESSFUL", "done")
    assert f"Task id={resumed_job.pk} path={ADVANCE_RUN} state=SUCCESSFUL" in output


def test_two_workers_never_change_a_row_twice(start_worker):
    """One large run queued twice (as a sweep that found it stale while its runner lived
    would), taken by both workers at once, and twenty small runs over the same enrollments."""
    ends = timezone.now() + timedelta(days=20)
    course, enrollments = learners(2000, ends)
    large = runs.start([(Extend(days=30), of_course(course))], BY)
    slices = [enrollments[n * 50 : (n + 1) * 50] for n in range(20)]
    small = [
        runs.start([(Extend(days=1), Selection.named(e.pk for e in rows))], BY) for rows in slices
    ]
    enqueue(large)
    enqueue(large)
    for run in small:
        enqueue(run)

    # The test holds the large run's row: each worker takes one of its two jobs (the oldest
    # first) and waits for the row; released, both apply the run at once.
    with transaction.atomic():
        OperationRun.objects.select_for_update().get(pk=large.pk)
        workers = [start_worker("runs-a"), start_worker("runs-b")]
        for worker in workers:
            wait_for(
                lambda name=worker.name: connections_of(name, waiting_for_a_lock=True) == 1,
                f"{worker.name} waits for the large run",
            )
    wait_for(
        lambda: not advance_jobs().exclude(status="SUCCESSFUL").exists(),
        "every job ran",
        timeout=60,
    )
    outputs = [worker.stop() for worker in workers]

    runs_ = [large, *small]
    for run in runs_:
        run.refresh_from_db()
    assert {run.state for run in runs_} == {State.DONE}
    assert large.changed == 2000 and [run.changed for run in small] == [50] * 20
    # Every enrollment once per run, one audit row per changed row.
    assert audit_rows_per_enrollment(large.batch_id) == {e.pk: 1 for e in enrollments}
    for run, rows in zip(small, slices, strict=True):
        assert audit_rows_per_enrollment(run.batch_id) == {e.pk: 1 for e in rows}
    assert AccessChange.objects.count() == sum(run.changed for run in runs_) == 3000
    in_small = {e.pk for rows in slices for e in rows}
    assert ends_by_enrollment() == {
        e.pk: ends + timedelta(days=31 if e.pk in in_small else 30) for e in enrollments
    }
    # Each job ran once, by one worker; the large run's two by the two workers at once.
    jobs = list(advance_jobs().all())
    assert len(jobs) == 22 and all(len(job.worker_ids) == 1 for job in jobs)
    finished = Counter(found for output in outputs for found in re.findall(FINISHED, output))
    assert finished == Counter({str(job.pk): 1 for job in jobs})
    first, second = sorted(
        (job for job in jobs if job.args_kwargs["args"] == [str(large.pk)]),
        key=lambda job: job.enqueued_at,
    )
    assert first.worker_ids != second.worker_ids
    assert first.started_at < second.finished_at and second.started_at < first.finished_at


def test_rows_changed_since_the_preview_are_skipped_by_the_worker(start_worker):
    ends = timezone.now() + timedelta(days=20)
    course, enrollments = learners(400, ends)
    staff = OperatorFactory()
    draft = runs.start(
        [(Extend(days=30), of_course(course))],
        Attribution(staff, AccessChange.Source.ADMIN, ""),
        bound_to_preview=True,
        state=State.PREVIEWED,
    )
    # Paused by someone else after the preview: one row in each of four chunks.
    moved = enrollments[10::100]
    for enrollment in moved:
        apply_to_one(Pause(), enrollment, BY)

    run = runs.confirm(draft.pk, Attribution(staff, AccessChange.Source.ADMIN, "term moved"))
    enqueue(run)
    start_worker("runs-preview", "--batch").wait()

    run.refresh_from_db()
    assert (run.state, run.changed, run.skipped, run.unchanged) == (State.DONE, 396, 4, 0)
    assert sorted(runs.skipped_rows(run)) == sorted(
        (e.pk, EnrollmentChangedSincePreview.code) for e in moved
    )
    moved_ids = {e.pk for e in moved}
    after = Enrollment.objects.in_bulk()
    assert {pk: (after[pk].is_paused, after[pk].ended_at) for pk in moved_ids} == {
        pk: (True, ends) for pk in moved_ids
    }
    assert {after[e.pk].ended_at for e in enrollments if e.pk not in moved_ids} == {
        ends + timedelta(days=30)
    }
    assert audit_rows_per_enrollment(run.batch_id) == {
        e.pk: 1 for e in enrollments if e.pk not in moved_ids
    }
    assert set(
        AccessChange.objects.filter(batch_id=run.batch_id).values_list("reason", flat=True)
    ) == {"term moved"}
