"""Property-based tests (hypothesis) over the commands extend_access, pause_membership and
resume_membership: any CSV cells and any argument values end in exit status 0 (all done), 1
(some rows failed, each named on stderr) or 2 (usage error, nothing done), with a message and
never a traceback; a run changes only what it reports, with one audit row per change.

Arguments never contain NUL here: an operating system cannot pass one on a command line. CSV
files can, and do below.
"""

import csv
import io
import os
import re
import tempfile
from datetime import timedelta

import pytest
from django.db import transaction
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from enrollments.models import AccessChange, Enrollment
from tests.commands.conftest import exit_status, run_command
from tests.factories import CourseFactory, EnrollmentFactory, UserFactory
from tests.fuzzing import examples

pytestmark = pytest.mark.django_db

HYPOTHESIS = settings(
    max_examples=examples(60),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
COMMANDS = ["extend_access", "pause_membership", "resume_membership"]

NASTY = [
    "",
    " ",
    "not-a-uuid",
    "00000000-0000-0000-0000-000000000000",
    "'; DROP TABLE enrollments_enrollment; --",
    "<script>alert(1)</script>",
    "é" * 10,
    "\U0001f600",
    "x" * 300,
    "a,b",
    '"',
    "line\nbreak",
    "\ufeff",
]
DAYS = ["0", "-1", "1", "30", "2147483647", "2147483648", "9" * 30, "9" * 5000, "1.5", "1e3", "x"]
UNTILS = [
    "2026-03-01",
    "2026-03-01T12:00:00Z",
    "2026-03-01T12:00:00+14:00",
    "2038-01-19T03:14:07Z",
    "2038-01-19T03:14:08Z",
    "9999-12-31",
    "0001-01-01",
    "9999-12-31T23:59:59-23:59",  # year 10000 in UTC
    "0001-01-01T00:00:00+01:00",  # year 0 in UTC
    "2025-01-01",
    "2026-02-30",
    "tomorrow",
]


@pytest.fixture
def people(clock):
    """Four enrollments (running, indefinite, paused, expired) named by e-mail and slug or id."""
    now = clock.current
    course = CourseFactory(slug="python-basics")
    rows = [
        EnrollmentFactory(
            user=UserFactory(email=f"p{n}@example.com"),
            course=course,
            start_at=now - timedelta(days=10),
            ended_at=end,
            is_paused=paused,
            paused_at=now - timedelta(days=1) if paused else None,
        )
        for n, (end, paused) in enumerate(
            [
                (now + timedelta(days=5), False),
                (None, False),
                (now + timedelta(days=9), True),
                (now - timedelta(days=2), False),
            ]
        )
    ]
    users = [e.user.email for e in rows] + [str(e.user_id) for e in rows] + ["P0@EXAMPLE.COM"]
    courses = ["python-basics", str(course.pk), "no-such-course"]
    return users, courses


def cells(values: list[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(values),
        st.sampled_from(values),
        st.sampled_from(NASTY),
        st.text(max_size=12),
    )


def snapshot() -> tuple[list[dict], list[dict]]:
    return (
        list(Enrollment.objects.order_by("pk").values()),
        list(AccessChange.objects.order_by("pk").values("enrollment_id", "source")),
    )


#: The last line of a real run's stdout (bulk_command._summary).
SUMMARY = re.compile(r"Changed (?P<changed>\d+), unchanged \d+, failed (?P<failed>\d+)\.$", re.M)


def check_outcome(status: int, stdout: str, stderr: str, before, after, *, dry_run: bool) -> None:
    assert status in (0, 1, 2), (status, stdout, stderr)
    assert "Traceback" not in stdout + stderr
    changed = sum(a != b for a, b in zip(before[0], after[0], strict=True))
    new_audit = after[1][len(before[1]) :]
    if status == 2 or dry_run:
        assert after == before
    else:
        assert len(new_audit) == changed
        assert all(row["source"] == "command" for row in new_audit)
        # The summary tells the truth: it counts the rows that changed in the database.
        summary = SUMMARY.search(stdout)
        if summary is None:
            assert "nothing to do" in stdout and changed == 0, (stdout, stderr)
        else:
            assert int(summary["changed"]) == changed, (stdout, changed)
            assert (int(summary["failed"]) > 0) == (status == 1), (status, stdout)
    if status == 1:
        assert stderr.strip(), "failed rows are named on stderr"
    if status == 2:
        assert stderr.strip() or stdout.strip(), "a usage error says why"


@st.composite
def csv_files(draw, users: list[str], courses: list[str]) -> tuple[bytes, list[str]]:
    """A CSV file's bytes and the command line: usually a valid header, rows of any cells."""
    columns = draw(
        st.one_of(
            st.sampled_from(
                [
                    ["user", "course"],
                    ["user", "course", "days"],
                    ["user", "course", "until"],
                    ["course", "user", "until", "days"],
                    ["User ", " COURSE", "Days"],
                ]
            ),
            st.lists(st.sampled_from(["user", "course", "days", "until", "dayz", ""]), max_size=4),
        )
    )
    plausible = draw(st.booleans())  # rows naming real enrollments, or any cells
    generators = {
        "user": st.sampled_from(users[:4]) if plausible else cells(users),
        "course": st.just("python-basics") if plausible else cells(courses),
        "days": cells(DAYS),
        "until": cells(UNTILS),
    }
    rows = []
    for _ in range(draw(st.integers(0, 6))):
        row = [draw(generators.get(name.strip().lower(), st.text(max_size=5))) for name in columns]
        if draw(st.integers(0, 9)) == 0:  # a row with a field too many or too few
            row = row[:-1] if row and draw(st.booleans()) else [*row, "extra"]
        rows.append(row)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    writer.writerows(rows)
    data = out.getvalue().encode()
    damage = draw(st.sampled_from(["none"] * 6 + ["nul", "latin-1", "bom", "empty", "blank"]))
    if damage == "nul":
        data = data.replace(b"@", b"\x00@", 1) if b"@" in data else data + b"\x00,\x00\n"
    elif damage == "latin-1":
        data += "caf\xe9,python-basics\n".encode("latin-1")
    elif damage == "bom":
        data = b"\xef\xbb\xbf" + data
    elif damage == "empty":
        data = b""
    elif damage == "blank":
        data += b"\n\n  ,  \n"
    options = draw(
        st.sampled_from([[], ["--days", "7"], ["--indefinite"], ["--until", "2026-06-01"]])
    )
    return data, options


def _run_csv(command: str, data: bytes, options: list[str], dry_run: bool):
    handle, path = tempfile.mkstemp(suffix=".csv")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        argv = ["--csv", path, *(options if command == "extend_access" else [])]
        if dry_run:
            argv.append("--dry-run")
        with transaction.atomic():
            before = snapshot()
            result = run_command(command, *argv)
            after = snapshot()
            transaction.set_rollback(True)
    finally:
        os.unlink(path)
    check_outcome(
        result.status, result.stdout, result.stderr + result.error, before, after, dry_run=dry_run
    )
    return result


@pytest.mark.parametrize("command", COMMANDS)
def test_any_csv_ends_in_0_1_or_2_with_messages(people, command):
    users, courses = people

    @HYPOTHESIS
    @given(file=csv_files(users, courses), dry_run=st.booleans())
    @example(file=(b"user,course\np0@example.com,python-basics\n", ["--days", "7"]), dry_run=False)
    @example(
        file=(b"user,course,days\np0@example.com,python-basics," + b"9" * 5000 + b"\n", []),
        dry_run=False,
    )
    @example(file=(b"user,course\n\x00,\x00\n", ["--days", "7"]), dry_run=False)
    @example(
        file=(b"user,course,until\np0@example.com,python-basics,9999-12-31T23:59-01:00\n", []),
        dry_run=False,
    )
    def run(file, dry_run):
        data, options = file
        result = _run_csv(command, data, options, dry_run)
        if result.status == 1:
            assert "line " in result.stderr

    run()


argument_values = {
    "--user": lambda users: cells(users),
    "--course": lambda courses: cells(courses),
    "--days": lambda _: cells(DAYS),
    "--until": lambda _: cells(UNTILS),
    "--state": lambda _: cells(["active", "expired", "not_started", "paused", "ACTIVE"]),
    "--expiring-before": lambda _: cells(UNTILS),
    "--batch-size": lambda _: cells(["1", "0", "-3", "1000", "9" * 30, "x"]),
    "--actor": lambda users: cells(users),
    "--reason": lambda _: cells(["ticket 42"]),
}
flags = ["--all", "--indefinite", "--dry-run", "--csv"]


@st.composite
def plausible_arguments(draw, users: list[str], courses: list[str], command: str) -> list[str]:
    """What an operator would type: a selection, filters, the extension's mode, any values."""
    selection = draw(st.sampled_from(["user+course", "user", "course", "all"]))
    argv: list[str] = []
    if "user" in selection:
        argv += ["--user", draw(st.sampled_from(users))]
    if "course" in selection:
        argv += ["--course", draw(st.sampled_from(courses))]
    if selection == "all":
        argv.append("--all")
    if draw(st.booleans()):
        argv += ["--state", draw(st.sampled_from(["active", "expired", "not_started", "paused"]))]
    if draw(st.integers(0, 3)) == 0:
        argv += ["--expiring-before", draw(st.sampled_from(UNTILS))]
    if command == "extend_access":
        mode = draw(st.sampled_from(["--days", "--until", "--indefinite"]))
        if mode == "--days":
            argv += [mode, str(draw(st.one_of(st.integers(-5, 400), st.integers())))]
        elif mode == "--until":
            argv += [mode, draw(st.sampled_from(UNTILS))]
        else:
            argv.append(mode)
    if draw(st.booleans()):
        argv.append("--dry-run")
    if draw(st.booleans()):
        argv += ["--batch-size", str(draw(st.integers(1, 3)))]
    return argv


@st.composite
def argument_lists(draw, users: list[str], courses: list[str]) -> list[str]:
    argv: list[str] = []
    for option in draw(st.lists(st.sampled_from(sorted(argument_values) + flags), max_size=5)):
        if option in flags:
            argv.append(option)
            continue
        pool = courses if option == "--course" else users
        value = draw(argument_values[option](pool)).replace("\x00", "")
        argv += [option, value]
    return argv


@pytest.mark.parametrize("command", COMMANDS)
def test_any_arguments_end_in_0_1_or_2_with_messages(people, command, capsys):
    users, courses = people

    @HYPOTHESIS
    @given(
        argv=st.one_of(plausible_arguments(users, courses, command), argument_lists(users, courses))
    )
    @example(argv=["--user", "p0@example.com", "--course", "python-basics", "--days", "9" * 30])
    @example(argv=["--all", "--batch-size", "9" * 30, "--days", "1"])
    @example(argv=["--all", "--expiring-before", "9999-12-31T23:59:59-23:59", "--days", "1"])
    def run(argv):
        with transaction.atomic():
            before = snapshot()
            status = exit_status(command, *argv)
            after = snapshot()
            transaction.set_rollback(True)
        out = capsys.readouterr()
        check_outcome(status, out.out, out.err, before, after, dry_run="--dry-run" in argv)

    run()


@pytest.mark.parametrize("option", ["--until", "--expiring-before"])
@pytest.mark.parametrize("value", ["9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+01:00"])
def test_an_instant_beyond_the_calendar_in_utc_is_a_usage_error(people, capsys, option, value):
    """Found by the properties above: the offset pushed the instant out of datetime's range,
    and the command died with a traceback (OverflowError)."""
    argv = ["--all", option, value] + (["--days", "1"] if option != "--until" else [])
    before = snapshot()
    assert exit_status("extend_access", *argv) == 2
    assert f"{value!r} is not an ISO 8601 date or datetime" in capsys.readouterr().err
    assert snapshot() == before


def test_an_until_cell_beyond_the_calendar_fails_its_row(people, tmp_path):
    path = tmp_path / "rows.csv"
    path.write_text(
        "user,course,until\n"
        "p0@example.com,python-basics,9999-12-31T23:59:59-01:00\n"
        "p3@example.com,python-basics,2026-06-01\n"
    )
    result = run_command("extend_access", "--csv", str(path))
    assert result.status == 1
    assert "line 2 (p0@example.com, python-basics): Invalid extension period" in result.stderr
    assert "Changed 1" in result.stdout


def test_a_nul_character_in_a_csv_row_fails_that_row_only(people, tmp_path):
    """Found by the properties above on PostgreSQL, whose text columns cannot hold NUL: the
    look-up of such a cell was a traceback (DataError); it is now a failed row."""
    path = tmp_path / "rows.csv"
    path.write_bytes(
        b"user,course\np0\x00@example.com,python-basics\np3@example.com,python-basics\n"
    )
    result = run_command("extend_access", "--csv", str(path), "--days", "7")
    assert result.status == 1
    assert result.stderr.strip() == "line 2 (-, -): the row contains a NUL character"
    assert "Changed 1" in result.stdout
