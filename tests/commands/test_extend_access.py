"""extend_access: selection options, modes, batches, progress, actor, failures and usage errors."""

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from enrollments.models import AccessChange, Enrollment, OperationRun
from enrollments.operations import Pause, apply_to_one, core
from enrollments.operations.audit import Attribution
from tests.commands.conftest import exit_status, run_command, snapshot
from tests.factories import CourseFactory, EnrollmentFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db


def enroll(clock, *, ends_in_days: float | None, course=None, user=None, **extra) -> Enrollment:
    """An enrollment started 10 days ago, ending `ends_in_days` from the frozen now."""
    ended_at = None if ends_in_days is None else clock.current + timedelta(days=ends_in_days)
    kwargs = {"course": course or CourseFactory(), "user": user or UserFactory(), **extra}
    return EnrollmentFactory(
        start_at=clock.current - timedelta(days=10), ended_at=ended_at, **kwargs
    )


def test_extends_one_enrollment_by_email_and_slug(clock):
    enrollment = enroll(clock, ends_in_days=3)
    old_end = enrollment.ended_at

    result = run_command(
        "extend_access",
        "--user", enrollment.user.email.upper(),  # e-mail look-up ignores case
        "--course", enrollment.course.slug,
        "--days", "30",
        "--reason", "support ticket 42",
    )  # fmt: skip

    assert result.status == 0, result.stderr
    enrollment.refresh_from_db()
    assert enrollment.ended_at == old_end + timedelta(days=30)
    audit = AccessChange.objects.get(enrollment=enrollment)
    assert (audit.action, audit.source, audit.actor, audit.reason) == (
        AccessChange.Action.EXTEND,
        AccessChange.Source.COMMAND,
        None,
        "support ticket 42",
    )
    assert (audit.old_ended_at, audit.new_ended_at) == (old_end, old_end + timedelta(days=30))
    assert "Changed 1, unchanged 0, failed 0." in result.stdout
    assert result.stderr == ""


def test_selects_by_ids_and_sets_until(clock):
    enrollment = enroll(clock, ends_in_days=3)

    result = run_command(
        "extend_access",
        "--user", str(enrollment.user.pk),
        "--course", str(enrollment.course.pk),
        "--until", "2026-06-01T12:30:00+02:00",
    )  # fmt: skip

    assert result.status == 0, result.stderr
    enrollment.refresh_from_db()
    assert enrollment.ended_at == datetime(2026, 6, 1, 10, 30, tzinfo=UTC)
    assert AccessChange.objects.get(enrollment=enrollment).action == AccessChange.Action.SET_END


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-06-01", datetime(2026, 6, 1, tzinfo=UTC)),  # a date: midnight UTC
        ("2026-06-01T08:00:00", datetime(2026, 6, 1, 8, tzinfo=UTC)),  # no offset: UTC
        ("2026-06-01T08:00:00Z", datetime(2026, 6, 1, 8, tzinfo=UTC)),
    ],
)
def test_until_accepts_dates_and_datetimes_in_utc(clock, value, expected):
    enrollment = enroll(clock, ends_in_days=3)

    result = run_command("extend_access", "--all", "--until", value)

    assert result.status == 0, result.stderr
    enrollment.refresh_from_db()
    assert enrollment.ended_at == expected


def test_indefinite_removes_the_end_and_is_a_no_op_on_indefinite_ones(clock):
    ending = enroll(clock, ends_in_days=3)
    course = ending.course
    already = enroll(clock, ends_in_days=None, course=course)

    result = run_command("extend_access", "--course", course.slug, "--indefinite")

    assert result.status == 0, result.stderr
    ending.refresh_from_db()
    assert ending.ended_at is None
    assert not AccessChange.objects.filter(enrollment=already).exists()
    assert "grant indefinite access: 2. Changed 1, unchanged 1, failed 0." in result.stdout


def test_bulk_by_course_with_state_and_expiring_before_filters(clock):
    course = CourseFactory()
    expired_soon = enroll(clock, ends_in_days=-2, course=course)  # expired 2 days ago
    expired_long_ago = enroll(clock, ends_in_days=-40, course=course)
    active = enroll(clock, ends_in_days=5, course=course)
    other_course = enroll(clock, ends_in_days=-2)
    before = snapshot()

    result = run_command(
        "extend_access",
        "--course", course.slug,
        "--state", "expired",
        "--expiring-before", (clock.current - timedelta(days=30)).isoformat(),
        "--days", "60",
    )  # fmt: skip

    assert result.status == 0, result.stderr
    expired_long_ago.refresh_from_db()
    assert expired_long_ago.ended_at == clock.current + timedelta(days=20)
    untouched = [expired_soon, active, other_course]
    assert [Enrollment.objects.get(pk=e.pk).ended_at for e in untouched] == [
        e.ended_at for e in untouched
    ]
    assert AccessChange.objects.count() == len(before["audit"]) + 1


def test_batches_are_transactions_of_their_own_sharing_one_audit_batch_id(clock):
    course = CourseFactory()
    enrollments = [enroll(clock, ends_in_days=5, course=course) for _ in range(5)]

    result = run_command(
        "extend_access", "--course", course.slug, "--days", "1", "--batch-size", "2"
    )

    assert result.status == 0, result.stderr
    audits = AccessChange.objects.filter(enrollment__in=enrollments)
    assert audits.count() == 5
    # Three transactions (2 + 2 + 1 rows), one operation: a single batch id in the trail.
    assert audits.values("batch_id").distinct().count() == 1
    assert "Changed 5, unchanged 0, failed 0." in result.stdout


def test_a_row_that_leaves_the_selection_before_its_batch_is_left_alone(clock, monkeypatch):
    """The ids are read once; each batch locks `selection & pk in batch`, so a row paused
    (no longer `--state active`) by someone else after the ids were read is neither changed
    nor audited. The row paused is the last one the run reaches (its order: key order, or the
    table's physical order on PostgreSQL), picked once the first batch has committed."""
    course = CourseFactory()
    rows = [enroll(clock, ends_in_days=5, course=course) for _ in range(3)]
    original_end = rows[0].ended_at
    real_apply = core._apply_locked
    paused = []

    def then_pause_a_row_not_reached(*args, **kwargs):
        result = real_apply(*args, **kwargs)
        waiting = Enrollment.objects.filter(course=course, ended_at=original_end, is_paused=False)
        if not paused and len(waiting) == 2:  # the first batch committed: two rows not reached
            paused.append(max(waiting, key=lambda e: e.pk))
            apply_to_one(Pause(), paused[0], Attribution(None, AccessChange.Source.ADMIN))
        return result

    monkeypatch.setattr(core, "_apply_locked", then_pause_a_row_not_reached)

    result = run_command(
        "extend_access", "--all", "--state", "active", "--days", "1", "--batch-size", "1"
    )

    assert result.status == 0, result.stderr
    assert "Changed 2, unchanged 1, failed 0." in result.stdout
    [third] = paused
    ends = {e.pk: e.ended_at for e in Enrollment.objects.filter(course=course)}
    assert ends.pop(third.pk) == original_end
    assert set(ends.values()) == {original_end + timedelta(days=1)}
    assert list(AccessChange.objects.filter(enrollment=third).values_list("action", "source")) == [
        (AccessChange.Action.PAUSE, AccessChange.Source.ADMIN)
    ]


def test_rows_the_bulk_rules_skip_are_reported_with_learner_and_course(clock):
    course = CourseFactory(slug="python-basics")
    good = enroll(clock, ends_in_days=5, course=course)
    no_end = enroll(
        clock, ends_in_days=None, course=course, user=UserFactory(email="ann@example.com")
    )
    still_expired = enroll(
        clock, ends_in_days=-90, course=course, user=UserFactory(email="bob@example.com")
    )

    result = run_command("extend_access", "--course", "python-basics", "--days", "30")

    assert result.status == 1
    assert set(result.stderr.splitlines()) == {
        "ann@example.com in python-basics: Current enrollment has no end date [NO_END_DATE]",
        "bob@example.com in python-basics: Access would still be expired after the extension "
        "[STILL_EXPIRED]",
    }
    assert "2 of 3 rows failed" in result.error
    good.refresh_from_db()
    assert good.ended_at == clock.current + timedelta(days=35)
    assert not AccessChange.objects.filter(enrollment__in=[no_end, still_expired]).exists()


def test_a_pair_without_enrollment_fails_with_the_contract_message(clock):
    user = UserFactory(email="ann@example.com")
    CourseFactory(slug="sql")
    enroll(clock, ends_in_days=5, user=user)  # enrolled elsewhere
    before = snapshot()

    result = run_command(
        "extend_access", "--user", "ann@example.com", "--course", "sql", "--days", "5"
    )

    assert result.status == 1
    assert result.stderr == (
        "--user ann@example.com --course sql: Student is not enrolled in this course "
        "[NOT_ENROLLED]\n"
    )
    assert snapshot() == before


def test_an_empty_selection_does_nothing_and_succeeds(clock):
    course = CourseFactory()
    enroll(clock, ends_in_days=5, course=course)

    result = run_command(
        "extend_access", "--course", course.slug, "--state", "paused", "--days", "5"
    )

    assert result.status == 0
    assert result.stdout == "No enrollments match the selection: nothing to do.\n"


def test_progress_bar_only_on_a_terminal(clock):
    course = CourseFactory()
    for _ in range(3):
        enroll(clock, ends_in_days=5, course=course)

    on_terminal = run_command("extend_access", "--course", course.slug, "--days", "1", tty=True)
    in_a_file = run_command("extend_access", "--course", course.slug, "--days", "1")

    assert "100%" in on_terminal.stdout and "3/3" in on_terminal.stdout
    assert "%" not in in_a_file.stdout
    assert "Changed 3" in in_a_file.stdout


def test_verbosity_2_lists_each_change(clock):
    enrollment = enroll(clock, ends_in_days=5, user=UserFactory(email="ann@example.com"))

    result = run_command("extend_access", "--all", "--days", "1", verbosity=2)

    assert (
        f"extended ann@example.com in {enrollment.course.slug}: access ends "
        "2026-01-06T00:00:00Z -> 2026-01-07T00:00:00Z"
    ) in result.stdout
    (batch_id,) = set(AccessChange.objects.values_list("batch_id", flat=True))
    assert f"Audit batch id: {batch_id}" in result.stdout.splitlines()


def test_actor_with_the_permission_is_recorded(clock):
    staff = StaffFactory()
    staff.user_permissions.add(Permission.objects.get(codename="extend_access"))
    enrollment = enroll(clock, ends_in_days=5)

    result = run_command("extend_access", "--all", "--days", "1", "--actor", staff.email)

    assert result.status == 0, result.stderr
    assert AccessChange.objects.get(enrollment=enrollment).actor == staff


@pytest.mark.parametrize(
    ("actor", "message"),
    [
        ("nobody@example.com", "--actor 'nobody@example.com': no active user with that e-mail"),
        ("staff@example.com", "--actor 'staff@example.com': lacks the permission "),
    ],
)
def test_actor_must_exist_and_hold_the_permission(clock, actor, message):
    StaffFactory(email="staff@example.com")  # staff, but without the permission
    enroll(clock, ends_in_days=5)
    before = snapshot()

    result = run_command("extend_access", "--all", "--days", "1", "--actor", actor)

    assert result.status == 2
    assert message in result.error
    assert snapshot() == before


@pytest.mark.parametrize(
    "command",
    [["extend_access", "--days", "1"], ["pause_membership"], ["resume_membership"]],
)
@pytest.mark.parametrize("reason", ["x" * 1001, "ticket\x0042"])
@pytest.mark.parametrize("dry_run", [[], ["--dry-run"]])
def test_a_bad_reason_is_a_usage_error_before_any_work(clock, command, reason, dry_run):
    enroll(clock, ends_in_days=5)
    before = snapshot()

    result = run_command(*command, "--all", "--reason", reason, *dry_run)

    assert result.status == 2
    assert result.error == (
        "--reason: A reason is at most 1000 characters of valid text and contains no NUL character "
        "[INVALID_REASON]"
        if len(reason) > 1000
        else "--reason: the value contains a NUL character"  # the text rule of every option
    )
    assert result.stdout == ""
    assert snapshot() == before


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--all"], "give one of --days, --until or --indefinite"),
        (["--days", "5"], "select enrollments with --user, --course, --all or --csv"),
        (["--all", "--user", "a@example.com", "--days", "5"], "--all selects every enrollment"),
        (["--user", "ghost@example.com", "--days", "5"], "--user 'ghost@example.com': no user"),
        (["--course", "no-such-course", "--days", "5"], "--course 'no-such-course': no course"),
        (
            ["--all", "--days", "-5"],
            "--days -5: Invalid extension period [INVALID_EXTENSION_PERIOD]: extension days must "
            "be positive",
        ),
        (
            ["--all", "--until", "2025-01-01"],
            "--until 2025-01-01T00:00:00Z: Invalid extension period [INVALID_EXTENSION_PERIOD]: "
            "the new end date is not in the future",
        ),
        (["--csv", "x.csv", "--course", "c"], "--csv cannot be combined with --course"),
        (
            # Invalid for every row: refused before a run is written (it wrote a finished run
            # of failed rows and exited 1).
            ["--all", "--days", "99999999999999999999"],
            "--days 99999999999999999999: Invalid extension period [INVALID_EXTENSION_PERIOD]: "
            "the extension ends after 2038-01-19T03:14:07Z whatever the current end",
        ),
    ],
)
def test_usage_errors_exit_2_and_name_the_bad_input(clock, capsys, argv, message):
    enroll(clock, ends_in_days=5)
    before = snapshot()

    status = exit_status("extend_access", *argv)

    assert status == 2
    assert message in capsys.readouterr().err
    assert snapshot() == before
    assert not OperationRun.objects.exists()  # no run written either


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--all", "--days", "5", "--until", "2026-06-01"], "not allowed with argument"),
        (["--all", "--until", "next tuesday"], "'next tuesday' is not an ISO 8601 date"),
        (["--all", "--days", "five"], "argument --days: invalid int value: 'five'"),
        (["--all", "--state", "sleeping", "--days", "5"], "argument --state: invalid choice"),
        (["--all", "--days", "5", "--batch-size", "0"], "'0' is not a positive whole number"),
    ],
)
def test_argparse_errors_exit_2(clock, capsys, argv, message):
    status = exit_status("extend_access", *argv)

    assert status == 2
    assert message in capsys.readouterr().err


def test_exit_status_1_from_the_shell_when_rows_fail(clock, capsys):
    enroll(clock, ends_in_days=None)

    assert exit_status("extend_access", "--all", "--days", "5") == 1
    assert "[NO_END_DATE]" in capsys.readouterr().err


def test_exit_status_0_from_the_shell_when_all_is_done(clock):
    enroll(clock, ends_in_days=5)

    assert exit_status("extend_access", "--all", "--days", "5") == 0


def count_queries(*argv: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        result = run_command(*argv)
    assert result.status == 0, result.stderr
    return len(queries)


def test_query_count_grows_with_batches_not_rows(clock):
    small, large = CourseFactory(slug="small"), CourseFactory(slug="large")
    for _ in range(3):
        enroll(clock, ends_in_days=5, course=small)
    for _ in range(12):
        enroll(clock, ends_in_days=5, course=large)

    one_batch_small = count_queries("extend_access", "--course", "small", "--days", "1")
    one_batch_large = count_queries("extend_access", "--course", "large", "--days", "1")
    three_batches = count_queries(
        "extend_access", "--course", "large", "--days", "1", "--batch-size", "4"
    )

    # The course (and again for the run's identity), the count (progress bar); the run written
    # down (savepoint, run INSERT, its chunks: on PostgreSQL one INSERT ... SELECT, elsewhere the
    # rows read then the chunks INSERTed; total, release) and taken (savepoint, lock, UPDATE,
    # release); per batch: the cancel check, savepoint, the chunk taken, savepoint, lock,
    # UPDATE, audit INSERT, event INSERT, release, the chunk done, the run's counters, release;
    # then the cancel check, an empty take (savepoint, select, release), "none pending", done,
    # the run read back.
    draft = 5 if connection.vendor == "postgresql" else 6
    assert one_batch_small == one_batch_large == 3 + draft + 4 + 12 + 7
    assert three_batches == 3 + draft + 4 + 3 * 12 + 7
