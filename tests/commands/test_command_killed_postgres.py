"""A bulk command killed with -9 in the middle of its run, on PostgreSQL, as an operator would
meet it: `extend_access --course ... --days 30 --batch-size 100` in a process of its own,
killed once some chunks committed; the identical command run again refuses to start and names
the run; `extend_access --resume RUN` finishes it with every enrollment extended by exactly 30
days once and one audit row each (issue 23: before runs, the rerun gave the done rows 60 days).

The command uses the test database (the data is committed: transaction=True) and the real
clock. Instead of racing the command, the test holds a row lock the command needs (a barrier):
it waits until the command's connection (named by libpq's PGAPPNAME in pg_stat_activity) waits
for the lock with some chunks committed, then kills it there, mid-chunk.
"""

import re
import signal
from collections import Counter
from datetime import timedelta

import pytest
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from enrollments.models import AccessChange, Enrollment, OperationRun
from lms.models import Course, User
from tests.markers import requires_postgres
from tests.run_chunks import pending_rows
from tests.subprocesses import (
    ManageProcess,
    connections_of,
    on_test_database,
    run_manage,
    wait_for,
)

pytestmark = [requires_postgres, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

State = OperationRun.State
ROWS, BATCH = 3000, 100
EXTEND = ("extend_access", "--course", "big-course", "--days", "30", "--batch-size", str(BATCH))


def test_a_command_killed_mid_run_is_resumed_with_every_row_changed_once(tmp_path):
    ends = timezone.now() + timedelta(days=20)
    course = Course.objects.create(slug="big-course", title="Big course", access_days=90)
    users = User.objects.bulk_create(
        User(email=f"learner{n}@example.com", first_name=f"Learner {n}") for n in range(ROWS)
    )
    # In the order they are inserted: on PostgreSQL a run's chunks follow the table's physical
    # order (run_chunks.write_filter), which is that order in a table just filled.
    enrollments = Enrollment.objects.bulk_create(
        Enrollment(user=user, course=course, start_at=ends - timedelta(days=60), ended_at=ends)
        for user in users
    )
    # A row of the 11th chunk: the command commits 10 chunks, then waits for it.
    blocker = enrollments[10 * BATCH]

    with transaction.atomic():
        Enrollment.objects.select_for_update().get(pk=blocker.pk)
        command = ManageProcess("command-killed", tmp_path / "killed.log", *EXTEND)
        try:
            wait_for(
                lambda: (
                    OperationRun.objects.filter(changed__gt=0).exists()
                    and connections_of("command-killed", waiting_for_a_lock=True) == 1
                ),
                "the command committed chunks and waits for the locked row",
                command,
            )
            run = OperationRun.objects.get()
            assert (run.state, run.changed, run.total) == (State.RUNNING, 10 * BATCH, ROWS)
        finally:
            command.kill()
    assert command.process.returncode == -signal.SIGKILL
    # The lock released, the killed command's connection finds its client gone and rolls the
    # chunk in flight back.
    wait_for(lambda: connections_of("command-killed") == 0, "the killed connection ends", command)
    run.refresh_from_db()
    assert (run.state, run.changed, run.finished_at) == (State.RUNNING, 10 * BATCH, None)
    assert AccessChange.objects.count() == 10 * BATCH
    assert pending_rows(run) == ROWS - 1000

    # Run again as typed: refused, naming the run (exit 1), nothing changed.
    again = run_manage(*EXTEND, **on_test_database("command-again"))
    assert again.returncode == 1, again.stderr
    assert f"an identical run is unfinished: run {run.pk} (running, 1000 of 3000 done)" in (
        again.stderr
    )
    assert f"manage.py extend_access --resume {run.pk}" in again.stderr
    assert AccessChange.objects.count() == 10 * BATCH and OperationRun.objects.count() == 1

    resumed = run_manage("extend_access", "--resume", str(run.pk), **on_test_database("resumed"))

    assert resumed.returncode == 0, resumed.stderr
    assert re.search(
        rf"Resumed run {run.pk} \(extend access by 30 days\)\. Now: changed 2000, unchanged 0, "
        r"failed 0\. In all: changed 3000, unchanged 0, failed 0 of 3000\.",
        resumed.stdout,
    ), resumed.stdout
    run.refresh_from_db()
    assert (run.state, run.changed, run.skipped, run.unchanged) == (State.DONE, ROWS, 0, 0)
    assert set(Enrollment.objects.values_list("ended_at", flat=True)) == {ends + timedelta(days=30)}
    audit = Counter(
        dict(
            AccessChange.objects.values("enrollment")
            .annotate(n=Count("id"))
            .values_list("enrollment", "n")
        )
    )
    assert audit == {e.pk: 1 for e in enrollments}
    assert set(AccessChange.objects.values_list("batch_id", flat=True)) == {run.batch_id}
    assert pending_rows(run) == 0
