"""`manage.py db_worker` (enrollments/management/commands/db_worker.py) stopped by SIGTERM while
it waits on PostgreSQL.

The window that failed: the signal during the COMMIT of the worker's claim. django-tasks-db's
own handler raised SystemExit inside psycopg there; Django could not restore autocommit on a
connection with a statement in flight, and the worker exited 1 with a traceback, its claim
committed and its job left RUNNING (upstream issue #61). The test makes that COMMIT wait, every
time: a deferred trigger on the jobs' table takes an advisory lock the test holds. Run against
upstream's command, the first test fails: the worker gives up its claim mid-COMMIT (there the
COMMIT rolled back and the job stayed READY, not run).
"""

import inspect
import signal
from collections.abc import Iterator

import pytest
from django.db import connection, transaction
from django_tasks_db.management.commands import db_worker as upstream
from django_tasks_db.models import DBTaskResult

from enrollments.jobs.reminders import send_expiry_reminder
from enrollments.management.commands import db_worker
from tests.jobs.worker import a_worker
from tests.markers import requires_postgres
from tests.subprocesses import DB_WORKER, ManageProcess, connections_of, wait_for

TABLE = DBTaskResult._meta.db_table
GATE = 4242  # the advisory lock's key


@pytest.fixture
def commit_gate() -> Iterator[None]:
    """While the test holds advisory lock GATE, a COMMIT that updated a job's row waits for it.
    The trigger is DDL, which the transactional test's flush keeps: dropped after."""
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION test_commit_gate() RETURNS trigger LANGUAGE plpgsql AS"
            f" $$ BEGIN PERFORM pg_advisory_xact_lock({GATE}); RETURN NULL; END $$"
        )
        cursor.execute(
            f"CREATE CONSTRAINT TRIGGER test_commit_gate AFTER UPDATE ON {TABLE}"
            " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION test_commit_gate()"
        )
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TRIGGER test_commit_gate ON {TABLE}")
            cursor.execute("DROP FUNCTION test_commit_gate()")


def signal_while_it_waits(worker: ManageProcess, what: str) -> None:
    """Once `worker` waits for a lock (`what`), SIGTERM, and its log saying it received it."""
    wait_for(lambda: connections_of(worker.name, waiting_for_a_lock=True) == 1, what, worker)
    worker.process.send_signal(signal.SIGTERM)
    wait_for(lambda: "Received Terminated" in worker.output(), f"the signal ({what})", worker)


def advisory_lock(action: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT pg_advisory_{action}({GATE})")


@requires_postgres
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_sigterm_during_the_claims_commit_runs_the_job_then_exits_0(tmp_path, commit_gate):
    send_expiry_reminder.enqueue(0)  # no such reminder: the job returns at once
    advisory_lock("lock")
    worker = ManageProcess("stopping", tmp_path / "worker.log", *DB_WORKER)
    try:
        signal_while_it_waits(worker, "the claim's COMMIT waits for the gate")
        assert worker.process.poll() is None  # the COMMIT is not cut short
        advisory_lock("unlock")
        worker.process.wait(timeout=30)
    finally:
        worker.end()

    assert worker.process.returncode == 0, worker.output()
    assert "Traceback" not in worker.output()
    # The job it had claimed ran; nothing is left RUNNING.
    assert list(DBTaskResult.objects.values_list("status", flat=True)) == ["SUCCESSFUL"]


@requires_postgres
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_second_signal_still_stops_it_at_once(tmp_path):
    worker = ManageProcess("stopping", tmp_path / "worker.log", *DB_WORKER)
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(f"LOCK TABLE {TABLE} IN ACCESS EXCLUSIVE MODE")
            signal_while_it_waits(worker, "the worker's poll waits for the table")
            worker.process.send_signal(signal.SIGTERM)
            # Gone while the table is still locked: a forced stop does not wait for the poll.
            worker.process.wait(timeout=30)
    finally:
        worker.end()
    assert worker.process.returncode != 0
    assert "terminating current task" in worker.output()


def test_a_second_signal_while_the_first_is_logged_still_forces_the_stop(monkeypatch):
    """The second signal can run inside the first one's handler, while it logs (Python runs a
    handler at the next bytecode, a handler's too): it must find the first one's mark and stop
    the worker at once, not be taken for a first signal (CI saw the worker then never stop)."""
    worker = a_worker(db_worker.Worker)
    logged = []

    def second_signal_while_logging(message, *args):
        logged.append(message % args)
        if len(logged) == 1:
            worker.shutdown(signal.SIGTERM, None)

    monkeypatch.setattr(db_worker.logger, "warning", second_signal_while_logging)
    monkeypatch.setattr(worker, "reset_signals", lambda: None)
    with pytest.raises(SystemExit) as stopped:
        worker.shutdown(signal.SIGTERM, None)

    assert stopped.value.code == 1
    assert [message.split(" - ")[1] for message in logged] == [
        "stopping after the current step (press Ctrl+C again to force)",
        "terminating current task.",
    ]


def test_the_command_keeps_upstreams_options():
    """The override copies upstream's `handle` with its own Worker: an option added or renamed
    upstream fails here, not in production."""
    assert inspect.signature(db_worker.Command.handle) == inspect.signature(upstream.Command.handle)
    assert inspect.signature(db_worker.Worker.__init__) == inspect.signature(
        upstream.Worker.__init__
    )
