"""The bulk commands' runs (enrollments/management/run_options.py) and `manage.py jobs`: a run
that stops half way continues with `--resume RUN`, each row changed once with one audit row; an
identical request refuses to start while its run is unfinished and names it; `--background`
queues the run's job; `jobs` lists, shows, cancels, retries and sweeps runs."""

import uuid
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.db.models import Count
from django.test import TestCase
from django_tasks_db.models import DBTaskResult

from enrollments.models import AccessChange, Enrollment, OperationRun
from enrollments.operations import Extend, Selection, runs
from enrollments.operations.audit import Attribution
from tests.commands.conftest import enroll, exit_status, run_command, write_csv
from tests.factories import CourseFactory, StaffFactory
from tests.jobs.worker import run_jobs

pytestmark = pytest.mark.django_db

State = OperationRun.State


@pytest.fixture
def course(clock):
    """Five learners of python-basics, each ending in 5 days."""
    course = CourseFactory(slug="python-basics")
    for n in range(5):
        enroll(clock, f"l{n}@example.com", course)
    return course


def audit_counts() -> dict:
    return dict(
        AccessChange.objects.values("enrollment")
        .annotate(n=Count("id"))
        .values_list("enrollment", "n")
    )


def ends(course) -> set:
    return set(Enrollment.objects.filter(course=course).values_list("ended_at", flat=True))


def crash_on_second_chunk(monkeypatch) -> Callable[[], None]:
    """The core's apply raises in the run's second chunk (a database gone, a kill: the chunk
    in flight rolls back the same way); returns what puts the real one back (not
    `monkeypatch.undo`, which would also thaw the clock)."""
    real_apply, calls = runs.apply, []

    def crashing_apply(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise ConnectionError("the database went away")
        return real_apply(*args, **kwargs)

    monkeypatch.setattr(runs, "apply", crashing_apply)
    return lambda: monkeypatch.setattr(runs, "apply", real_apply)


EXTEND = ("extend_access", "--course", "python-basics", "--days", "30")


def test_a_run_that_stops_half_way_resumes_with_every_row_changed_once(clock, course, monkeypatch):
    repair = crash_on_second_chunk(monkeypatch)
    stopped = run_command(*EXTEND, "--batch-size", "2")

    run = OperationRun.objects.get()
    assert stopped.status == 1
    assert stopped.error == (
        f"run {run.pk} stopped (ConnectionError: the database went away) with 2 of 5 rows "
        f"done; those stay done (audit batch {run.batch_id}). Continue it: manage.py "
        f"extend_access --resume {run.pk}"
    )
    assert (run.state, run.changed) == (State.FAILED, 2)
    assert len(audit_counts()) == 2

    # Run again as it was typed: refused, naming the run to resume.
    again = run_command(*EXTEND, "--batch-size", "2", "--reason", "another reason")
    assert again.status == 1
    assert f"run {run.pk} (failed, 2 of 5 done) [RUN_UNFINISHED]" in again.error
    assert f"manage.py extend_access --resume {run.pk}" in again.error
    assert OperationRun.objects.count() == 1 and len(audit_counts()) == 2

    repair()
    clock.advance(minutes=5)
    # The batches were fixed when the run was written down.
    refused = run_command("extend_access", "--resume", str(run.pk), "--batch-size", "3")
    assert refused.status == 2
    assert "--resume continues the run as it was asked: drop --batch-size" in refused.error
    resumed = run_command("extend_access", "--resume", str(run.pk))

    assert resumed.status == 0, resumed.stderr
    assert resumed.stdout.splitlines() == [
        f"Resumed run {run.pk} (extend access by 30 days). Now: changed 3, unchanged 0, "
        "failed 0. In all: changed 5, unchanged 0, failed 0 of 5.",
        f"Run {run.pk}: done.",
        f"Audit batch id: {run.batch_id}",
    ]
    run.refresh_from_db()
    assert (run.state, run.changed, run.error) == (State.DONE, 5, "")
    assert ends(course) == {clock.current - timedelta(minutes=5) + timedelta(days=35)}
    assert audit_counts() == {pk: 1 for pk in Enrollment.objects.values_list("pk", flat=True)}
    assert set(AccessChange.objects.values_list("batch_id", flat=True)) == {run.batch_id}

    # Done: resuming again changes nothing and says so (exit 0); the request may run anew.
    twice = run_command("extend_access", "--resume", str(run.pk))
    assert twice.status == 0
    assert f"Run {run.pk} is already done (changed 5, unchanged 0, failed 0 of 5)" in twice.stdout
    assert len(AccessChange.objects.all()) == 5


def test_a_fresh_run_names_itself_and_its_batch(clock, course):
    result = run_command(*EXTEND, "--reason", "term moved")

    run = OperationRun.objects.get()
    assert result.status == 0, result.stderr
    assert result.stdout.splitlines() == [
        "Asked: extend access by 30 days: 5. Changed 5, unchanged 0, failed 0.",
        f"Run {run.pk}: done.",
        f"Audit batch id: {run.batch_id}",
    ]
    assert (run.source, run.reason, run.actor) == ("command", "term moved", None)
    assert set(AccessChange.objects.values_list("batch_id", flat=True)) == {run.batch_id}


def test_an_identical_request_is_refused_while_its_run_is_unfinished(clock, course):
    queued = run_command(*EXTEND, "--background")
    run = OperationRun.objects.get()
    assert queued.status == 0, queued.stderr

    # The same request however it names the course, with another reason or actor: refused.
    staff = StaffFactory()
    staff.user_permissions.add(Permission.objects.get(codename="extend_access"))
    for argv in (
        EXTEND,
        ("extend_access", "--course", str(course.pk), "--days", "30", "--actor", staff.email),
    ):
        refused = run_command(*argv)
        assert refused.status == 1
        assert refused.error == (
            f"an identical run is unfinished: run {run.pk} (queued, 0 of 5 done) "
            f"[RUN_UNFINISHED]. Continue it: manage.py extend_access --resume {run.pk} (or "
            f"cancel it: manage.py jobs cancel {run.pk})"
        )
    assert OperationRun.objects.count() == 1 and not AccessChange.objects.exists()

    # Another request is another run: other days, another command.
    assert run_command("extend_access", "--course", "python-basics", "--days", "31").status == 0
    assert run_command("pause_membership", "--course", "python-basics").status == 0
    assert OperationRun.objects.count() == 3


def test_the_same_csv_content_is_the_same_request(clock, course, tmp_path):
    rows = "user,course\nl0@example.com,python-basics\nl1@example.com,python-basics\n"
    first = run_command("pause_membership", "--csv", write_csv(tmp_path, rows), "--background")
    assert first.status == 0, first.stderr
    copy = write_csv(tmp_path, rows, name="copy.csv")
    refused = run_command("pause_membership", "--csv", copy)
    assert refused.status == 1 and "[RUN_UNFINISHED]" in refused.error
    other = write_csv(tmp_path, rows.replace("l1@", "l2@"), name="other.csv")
    assert run_command("pause_membership", "--csv", other).status == 0


def test_csv_row_failures_of_a_run_keep_their_line_numbers(clock, course, tmp_path):
    enroll(clock, "forever@example.com", course, ends_in_days=None)
    rows = (
        "user,course,days\n"
        "l0@example.com,python-basics,3\n"
        "forever@example.com,python-basics,3\n"
        "ghost@example.com,python-basics,3\n"
    )
    result = run_command("extend_access", "--csv", write_csv(tmp_path, rows), "--batch-size", "1")

    assert result.status == 1
    assert result.stderr.splitlines() == [
        "line 3 (forever@example.com, python-basics): Current enrollment has no end date "
        "[NO_END_DATE]",
        "line 4 (ghost@example.com, python-basics): Student is not enrolled in this course "
        "[NOT_ENROLLED]: no user with e-mail or id 'ghost@example.com'",
    ]
    run = OperationRun.objects.get()
    assert (run.total, run.changed, run.skipped, run.state) == (2, 1, 1, State.DONE)


def test_background_queues_the_job_that_the_worker_completes(clock, course):
    with TestCase.captureOnCommitCallbacks(execute=True):
        result = run_command(*EXTEND, "--background", "--reason", "later")

    run = OperationRun.objects.get()
    assert result.status == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"Run {run.pk} queued: extend access by 30 days, 5 enrollments. The job worker "
        "(manage.py db_worker) applies it.",
        f"Follow it: manage.py jobs show {run.pk}",
        f"Audit batch id: {run.batch_id}",
    ]
    assert run.state == State.QUEUED and not AccessChange.objects.exists()
    (job,) = DBTaskResult.objects.all()
    assert job.args_kwargs["args"] == [str(run.pk)]

    (ran,) = run_jobs()

    assert ran.status == "SUCCESSFUL", ran.traceback
    run.refresh_from_db()
    assert (run.state, run.changed) == (State.DONE, 5)
    assert ends(course) == {clock.current + timedelta(days=35)}
    assert set(AccessChange.objects.values_list("reason", flat=True)) == {"later"}


def test_resume_in_the_background_queues_the_stopped_run(clock, course, monkeypatch):
    repair = crash_on_second_chunk(monkeypatch)
    run_command(*EXTEND, "--batch-size", "2")
    repair()
    run = OperationRun.objects.get()

    with TestCase.captureOnCommitCallbacks(execute=True):
        queued = run_command("extend_access", "--resume", str(run.pk), "--background")
    assert queued.status == 0, queued.stderr
    assert f"Run {run.pk} queued again" in queued.stdout
    run_jobs()
    run.refresh_from_db()
    assert (run.state, run.changed) == (State.DONE, 5)
    assert audit_counts() == {pk: 1 for pk in Enrollment.objects.values_list("pk", flat=True)}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--resume", "nope"], "--resume 'nope': not a run id (a UUID)"),
        (
            ["--resume", "00000000-0000-0000-0000-000000000001"],
            "--resume '00000000-0000-0000-0000-000000000001': No such run [RUN_NOT_FOUND]",
        ),
        (
            ["--resume", "00000000-0000-0000-0000-000000000001", "--course", "python-basics"],
            "--resume continues the run as it was asked: drop --course",
        ),
        (
            ["--resume", "00000000-0000-0000-0000-000000000001", "--days", "3", "--reason", "x"],
            "--resume continues the run as it was asked: drop --days, --reason",
        ),
        (
            ["--course", "python-basics", "--days", "3", "--background", "--dry-run"],
            "--background queues the run for the job worker (its chunk size is the "
            "RUNS_CHUNK_SIZE setting): drop --dry-run",
        ),
        (
            ["--course", "python-basics", "--days", "3", "--background", "--batch-size", "5"],
            "--background queues the run for the job worker (its chunk size is the "
            "RUNS_CHUNK_SIZE setting): drop --batch-size",
        ),
    ],
)
def test_run_options_usage_errors_exit_2(clock, course, argv, message):
    result = run_command("extend_access", *argv)
    assert (result.status, result.error) == (2, message)
    assert not OperationRun.objects.exists() and not AccessChange.objects.exists()


def test_a_run_of_another_command_is_not_resumed_there(clock, course):
    run_command("pause_membership", "--course", "python-basics", "--background")
    run = OperationRun.objects.get()
    result = run_command("resume_membership", "--resume", str(run.pk))
    assert result.status == 2
    assert result.error == (
        f"--resume {run.pk}: a run of 'pause', not of resume_membership: "
        f"manage.py pause_membership --resume {run.pk}"
    )


def test_a_cancelled_run_is_not_resumed(clock, course):
    run_command(*EXTEND, "--background")
    run = OperationRun.objects.get()
    assert run_command("jobs", "cancel", str(run.pk)).status == 0
    result = run_command("extend_access", "--resume", str(run.pk))
    assert result.status == 1
    assert result.error == (
        f"run {run.pk} was cancelled (changed 0, unchanged 0, failed 0 of 5): nothing to "
        "resume; the rows it did not reach need a new run"
    )
    # Cancelled is finished: the request may start anew.
    assert run_command(*EXTEND).status == 0


def test_dry_run_and_expect_write_no_run(clock, course):
    dry = run_command(*EXTEND, "--dry-run")
    fingerprint = dry.stdout.rsplit("--expect ", 1)[1].strip()
    assert not OperationRun.objects.exists()
    assert run_command(*EXTEND, "--expect", fingerprint).status == 0
    assert not OperationRun.objects.exists()
    assert len(audit_counts()) == 5


def test_an_empty_selection_writes_no_run(clock, course):
    result = run_command(*EXTEND, "--state", "paused")
    assert result.stdout == "No enrollments match the selection: nothing to do.\n"
    assert not OperationRun.objects.exists()


# --- manage.py jobs --------------------------------------------------------------------------


def test_jobs_list_shows_the_runs_newest_first_and_filters_by_state(clock, course):
    staff = StaffFactory(email="lead@example.com", is_superuser=True)
    run_command(*EXTEND, "--actor", staff.email)
    clock.advance(minutes=1)
    run_command("pause_membership", "--course", "python-basics", "--background")
    done, queued = OperationRun.objects.order_by("created_at")

    listed = run_command("jobs", "list")

    assert listed.status == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0].split() == [
        "id", "state", "done/total", "changed", "skipped", "started", "by", "created"
    ]  # fmt: skip
    assert lines[1].split() == [
        str(queued.pk), "queued", "0/5", "0", "0", "command",
        "2026-01-01T00:01:00Z",
    ]  # fmt: skip
    assert lines[2].split() == [
        str(done.pk), "done", "5/5", "5", "0", "lead@example.com", "2026-01-01T00:00:00Z"
    ]  # fmt: skip
    only_done = run_command("jobs", "list", "--state", "done").stdout.splitlines()
    assert [line.split()[0] for line in only_done[1:]] == [str(done.pk)]
    assert run_command("jobs", "list", "--state", "failed").stdout == "No failed runs.\n"


def test_jobs_show_gives_the_details_and_the_skipped_rows(clock, course):
    enroll(clock, "forever@example.com", course, ends_in_days=None)
    run_command(*EXTEND, "--reason", "term moved")
    run = OperationRun.objects.get()

    shown = run_command("jobs", "show", str(run.pk))

    assert shown.status == 0
    assert shown.stdout.splitlines() == [
        f"Run {run.pk}",
        "  what:        extend access by 30 days",
        "  state:       done",
        "  done:        6 of 6 (changed 5, unchanged 0, skipped 1)",
        "  started by:  command",
        "  reason:      term moved",
        f"  audit batch: {run.batch_id}",
        "  created:     2026-01-01T00:00:00Z",
        "  started:     2026-01-01T00:00:00Z",
        "  heartbeat:   2026-01-01T00:00:00Z",
        "  finished:    2026-01-01T00:00:00Z",
        "Skipped rows:",
        "  forever@example.com in python-basics: Current enrollment has no end date [NO_END_DATE]",
    ]


def test_jobs_show_of_a_failed_run_names_the_error_and_how_to_continue(clock, course, monkeypatch):
    crash_on_second_chunk(monkeypatch)
    run_command(*EXTEND, "--batch-size", "2")
    run = OperationRun.objects.get()

    shown = run_command("jobs", "show", str(run.pk)).stdout.splitlines()

    assert "  state:       failed" in shown
    assert "  error:       ConnectionError: the database went away" in shown
    assert f"  continue it: manage.py extend_access --resume {run.pk} (or the job worker)" in shown


def test_jobs_cancel_stops_a_queued_run_and_refuses_a_finished_one(clock, course):
    run_command(*EXTEND, "--background")
    run = OperationRun.objects.get()

    cancelled = run_command("jobs", "cancel", str(run.pk))

    assert cancelled.status == 0
    assert cancelled.stdout == (
        f"Run {run.pk} cancelled: 0 of 5 rows were done (they stay; undo them with "
        f"manage.py undo_batch {run.batch_id}).\n"
    )
    run.refresh_from_db()
    assert run.state == State.CANCELLED
    again = run_command("jobs", "cancel", str(run.pk))
    assert (again.status, again.error) == (
        1,
        f"run {run.pk} is already cancelled: nothing to cancel",
    )


def test_jobs_cancel_of_an_admin_draft_says_there_is_nothing_to_cancel(clock, course):
    """A preview nobody confirmed is listed (`jobs list --state previewed`) but is no job: a
    message and status 1, not a traceback; the draft stays for the drafts' clean-up."""
    draft = runs.start(
        [(Extend(days=1), Selection.by_filter(Enrollment.objects.all()))],
        Attribution(None, AccessChange.Source.ADMIN, ""),
        bound_to_preview=True,
        state=State.PREVIEWED,
    )
    refused = run_command("jobs", "cancel", str(draft.pk))
    assert (refused.status, refused.error) == (
        1,
        f"run {draft.pk} is an admin preview nobody confirmed: nothing to cancel",
    )
    draft.refresh_from_db()
    assert draft.state == State.PREVIEWED


def test_jobs_cancel_of_a_running_run_asks_its_runner_to_stop(clock, course):
    run_command(*EXTEND, "--background")
    run = OperationRun.objects.get()
    OperationRun.objects.filter(pk=run.pk).update(state=State.RUNNING, heartbeat_at=clock.current)

    asked = run_command("jobs", "cancel", str(run.pk))

    assert asked.status == 0
    assert "cancel asked; its runner stops after the chunk in flight" in asked.stdout
    run = runs.advance(run.pk)
    assert (run.state, run.changed) == (State.CANCELLED, 0)


def test_jobs_retry_queues_a_failed_run_and_refuses_the_others(clock, course, monkeypatch):
    repair = crash_on_second_chunk(monkeypatch)
    run_command(*EXTEND, "--batch-size", "2")
    repair()
    failed = OperationRun.objects.get()
    run_command("pause_membership", "--course", "python-basics", "--background")
    queued = OperationRun.objects.get(state=State.QUEUED)

    with TestCase.captureOnCommitCallbacks(execute=True):
        retried = run_command("jobs", "retry", str(failed.pk))
    assert retried.status == 0, retried.error
    assert f"Run {failed.pk} queued again (2 of 5 done)" in retried.stdout
    assert DBTaskResult.objects.filter(args_kwargs__args=[str(failed.pk)]).count() == 1

    fresh = run_command("jobs", "retry", str(queued.pk))
    assert fresh.status == 1
    assert fresh.error.startswith(f"run {queued.pk} is queued (last seen 0 s ago): retry is for")

    run_jobs()
    failed.refresh_from_db()
    assert (failed.state, failed.changed) == (State.DONE, 5)
    finished = run_command("jobs", "retry", str(failed.pk))
    assert (finished.status, finished.error) == (
        1,
        f"run {failed.pk} is already done: nothing to retry",
    )


def test_jobs_retry_and_sweep_queue_a_stale_run(clock, course):
    run_command(*EXTEND, "--background")  # its job never queued: lost
    run = OperationRun.objects.get()
    assert run_command("jobs", "sweep").stdout == (
        "Queued again 0 stale runs; deleted 0 old drafts.\n"
        "Recorded 0 events of the clock; fanned out 0 events; queued 0 webhook endpoints' "
        "deliveries.\n"
    )

    clock.advance(seconds=runs.run_setting("STALE_AFTER_SECONDS") + 1)
    with TestCase.captureOnCommitCallbacks(execute=True):
        swept = run_command("jobs", "sweep")
    assert swept.stdout.splitlines() == [
        "Queued again 1 stale runs; deleted 0 old drafts.",
        f"  {run.pk}: extend access by 30 days",
        "Recorded 0 events of the clock; fanned out 0 events; queued 0 webhook endpoints' "
        "deliveries.",
    ]
    assert DBTaskResult.objects.count() == 1

    clock.advance(seconds=runs.run_setting("STALE_AFTER_SECONDS") + 1)
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert run_command("jobs", "retry", str(run.pk)).status == 0
    assert DBTaskResult.objects.count() == 2
    run_jobs()
    run.refresh_from_db()
    assert (run.state, run.changed) == (State.DONE, 5)  # two jobs, each row once
    assert audit_counts() == {pk: 1 for pk in Enrollment.objects.values_list("pk", flat=True)}


@pytest.mark.parametrize("action", ["show", "cancel", "retry"])
def test_jobs_refuses_unknown_and_malformed_run_ids(db, action):
    unknown = str(uuid.uuid4())
    result = run_command("jobs", action, unknown)
    assert (result.status, result.error) == (2, f"RUN {unknown!r}: No such run [RUN_NOT_FOUND]")
    malformed = run_command("jobs", action, "42")
    assert (malformed.status, malformed.error) == (2, "RUN '42': not a run id (a UUID)")


def test_jobs_usage_errors_exit_2_from_the_shell(db, capsys):
    assert exit_status("jobs") == 2
    assert exit_status("jobs", "list", "--state", "sleeping") == 2
    assert "invalid choice: 'sleeping'" in capsys.readouterr().err
    assert exit_status("jobs", "show", "nope") == 2
    assert "RUN 'nope': not a run id" in capsys.readouterr().err
    assert exit_status("jobs", "list") == 0


@pytest.mark.parametrize("limit", ["0", "-5", "10001", "99999999999999999999"])
def test_jobs_list_takes_a_limit_from_1_to_10000(capsys, db, limit):
    """A limit past a bigint was the database's error (a traceback); 0 and -5 read as 1."""
    assert exit_status("jobs", "list", "--limit", limit) == 2
    assert f"'{limit}' is not a whole number from 1 to 10000" in capsys.readouterr().err
