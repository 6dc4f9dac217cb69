"""extend_access --csv: per-row modes, bad rows reported by line, header errors, bulk look-ups."""

import io
import random
from datetime import UTC, datetime, timedelta

import pytest

from enrollments.management.csv_input import read_csv, resolve_rows
from enrollments.models import AccessChange, Enrollment
from lms.models import Course, User
from tests.commands.conftest import enroll, exit_status, run_command, snapshot, write_csv
from tests.factories import CourseFactory

pytestmark = pytest.mark.django_db


def test_ten_thousand_rows_with_a_hundred_bad_ones(clock, tmp_path):
    """The issue's acceptance test: 9,900 good rows applied, the 100 bad ones reported by line
    number, exit status 1, nothing else changed."""
    main, other = (
        Course.objects.create(slug="main", title="Main"),
        Course.objects.create(slug="other", title="Other"),
    )
    end = clock.current + timedelta(days=5)
    users = User.objects.bulk_create(
        User(email=f"learner{n}@example.com", password="!") for n in range(10_050)
    )
    # 10,000 learners in `main` (the CSV's good rows and its bad-mode rows), 50 more in
    # `other` only: the CSV's not-enrolled rows name 20 of them with `main`, 30 are untouched.
    Enrollment.objects.bulk_create(
        [
            Enrollment(user=u, course=main, start_at=clock.current, ended_at=end)
            for u in users[:10_000]
        ]
        + [
            Enrollment(user=u, course=other, start_at=clock.current, ended_at=end)
            for u in users[10_000:]
        ]
    )
    good_modes = ["30", "", "2026-03-01T00:00:00Z"]  # days, the command line's --days 7, until
    rows, bad_kinds = [], {}
    for n in range(9_900):
        mode = good_modes[n % 3]
        if mode.startswith("2026"):
            rows.append((f"learner{n}@example.com", "main", "", mode))
        else:
            rows.append((f"learner{n}@example.com", "main", mode, ""))

    def learners(first: int, course: str, days: str, until: str) -> list[tuple]:
        return [(f"learner{first + n}@example.com", course, days, until) for n in range(20)]

    ghosts = [(f"ghost{n}@example.com", "main", "10", "") for n in range(20)]
    bad = (
        [("unknown e-mail", row) for row in ghosts]
        + [("unknown course", row) for row in learners(9_900, "nope", "10", "")]
        + [("negative days", row) for row in learners(9_920, "main", "-3", "")]
        + [("malformed date", row) for row in learners(9_940, "main", "", "2026-02-30")]
        + [("not enrolled", row) for row in learners(10_000, "main", "", "")]
    )
    random.Random(5).shuffle(positions := list(range(10_000)))
    lines = ["user,course,days,until"]
    ordered: list = [None] * 10_000
    for position, row in zip(positions[:9_900], rows, strict=True):
        ordered[position] = ("good", row)
    for position, (kind, row) in zip(positions[9_900:], bad, strict=True):
        ordered[position] = (kind, row)
    for index, (kind, row) in enumerate(ordered):
        lines.append(",".join(row))
        if kind != "good":
            bad_kinds[index + 2] = kind  # line 1 is the header
    path = write_csv(tmp_path, "\n".join(lines) + "\n")
    before = {e.pk: e.ended_at for e in Enrollment.objects.all()}
    audit_before = snapshot()["audit"]

    result = run_command("extend_access", "--csv", path, "--days", "7")

    assert result.status == 1
    assert "Changed 9900, unchanged 0, failed 100." in result.stdout
    assert "100 of 10000 rows failed" in result.error
    reported = result.stderr.splitlines()
    assert len(reported) == 100
    reported_lines = [int(line.split()[1]) for line in reported]
    assert reported_lines == sorted(bad_kinds)  # in line order, each bad line once
    not_enrolled = "Student is not enrolled in this course [NOT_ENROLLED]"
    invalid = "Invalid extension period [INVALID_EXTENSION_PERIOD]"
    messages = {
        "unknown e-mail": f"{not_enrolled}: no user with e-mail or id 'ghost",
        "unknown course": f"{not_enrolled}: no course with slug or id 'nope'",
        "negative days": f"{invalid}: days '-3': extension days must be positive",
        "malformed date": f"{invalid}: until '2026-02-30' is not an ISO 8601 date or datetime",
        "not enrolled": not_enrolled,
    }
    for line_text, number in zip(reported, reported_lines, strict=True):
        assert messages[bad_kinds[number]] in line_text, line_text
    # The database: the 9,900 good rows changed as their row said, nothing else did.
    expected_end = {"30": end + timedelta(days=30), "": end + timedelta(days=7)}
    expected = dict(before)
    pk_by_email = dict(Enrollment.objects.filter(course=main).values_list("user__email", "pk"))
    for email, _course, days, until in rows:
        expected[pk_by_email[email]] = (
            datetime(2026, 3, 1, tzinfo=UTC) if until else expected_end[days]
        )
    assert {e.pk: e.ended_at for e in Enrollment.objects.all()} == expected
    assert Enrollment.objects.count() == 10_050
    new_audit = AccessChange.objects.exclude(pk__in=[row[0] for row in audit_before])
    assert new_audit.count() == 9_900
    assert set(new_audit.values_list("enrollment_id", flat=True)) == {
        pk_by_email[row[0]] for row in rows
    }
    assert set(new_audit.values_list("source", flat=True)) == {AccessChange.Source.COMMAND}


def test_rows_choose_their_mode_and_fall_back_to_the_command_line(clock, tmp_path):
    """A row's days or until replaces the flag of its kind (`--days 5` here); the contract's
    precedence then picks: until over days."""
    course = CourseFactory(slug="c")
    by_days, by_until, by_default, both = (
        enroll(clock, f"{name}@example.com", course)
        for name in ("days", "until", "default", "both")
    )
    path = write_csv(
        tmp_path,
        "user,course,days,until\n"
        "days@example.com,c,10,\n"
        "until@example.com,c,,2026-04-01\n"
        "default@example.com,c,,\n"
        "both@example.com,c,10,2026-05-01\n",  # the contract's precedence: until wins
    )

    result = run_command("extend_access", "--csv", path, "--days", "5")

    assert result.status == 0, result.stderr
    ends = {
        e.user.email: Enrollment.objects.get(pk=e.pk).ended_at
        for e in (by_days, by_until, by_default, both)
    }
    assert ends == {
        "days@example.com": clock.current + timedelta(days=15),
        "until@example.com": datetime(2026, 4, 1, tzinfo=UTC),
        "default@example.com": clock.current + timedelta(days=10),
        "both@example.com": datetime(2026, 5, 1, tzinfo=UTC),
    }
    # One core call per distinct mode (four here), all sharing the run's audit batch id.
    assert AccessChange.objects.values("batch_id").distinct().count() == 1


def test_a_row_without_mode_fails_when_the_command_line_gives_none(clock, tmp_path):
    course = CourseFactory(slug="c")
    enroll(clock, "a@example.com", course)
    good = enroll(clock, "b@example.com", course)
    path = write_csv(tmp_path, "user,course,days\na@example.com,c,\nb@example.com,c,3\n")

    result = run_command("extend_access", "--csv", path)

    assert result.status == 1
    assert result.stderr == (
        "line 2 (a@example.com, c): Invalid extension period [INVALID_EXTENSION_PERIOD]: the row "
        "gives no days or until, and no --days, --until or --indefinite was given\n"
    )
    good.refresh_from_db()
    assert good.ended_at == clock.current + timedelta(days=8)


def test_duplicates_and_short_rows_fail_by_line(clock, tmp_path):
    course = CourseFactory(slug="c")
    enrollment = enroll(clock, "a@example.com", course)
    path = write_csv(
        tmp_path,
        "user,course,days\n"
        "a@example.com,c,3\n"
        "\n"  # blank lines are skipped but still counted
        "A@EXAMPLE.COM,c,3\n"
        "a@example.com\n",
    )

    result = run_command("extend_access", "--csv", path)

    assert result.status == 1
    assert result.stderr.splitlines() == [
        "line 4 (A@EXAMPLE.COM, c): duplicate: line 2 names the same enrollment; "
        "this row is ignored",
        "line 5 (-, -): the row has 1 fields, the header has 3",
    ]
    enrollment.refresh_from_db()
    assert enrollment.ended_at == clock.current + timedelta(days=8)  # once, not twice


def test_reads_a_byte_order_mark_and_ids(clock, tmp_path):
    course = CourseFactory(slug="c")
    enrollment = enroll(clock, "a@example.com", course)
    path = tmp_path / "excel.csv"
    path.write_bytes(f"User,Course\n{enrollment.user.pk},{course.pk}\n".encode("utf-8-sig"))

    result = run_command("extend_access", "--csv", str(path), "--days", "1")

    assert result.status == 0, result.stderr
    enrollment.refresh_from_db()
    assert enrollment.ended_at == clock.current + timedelta(days=6)


@pytest.mark.parametrize("mark", ["", "\ufeff"], ids=["plain", "byte-order-mark"])
def test_reads_stdin(clock, monkeypatch, mark):
    """A byte-order mark (Excel's) on stdin is read as in a file: the header was refused."""
    course = CourseFactory(slug="c")
    enrollment = enroll(clock, "a@example.com", course)
    monkeypatch.setattr("sys.stdin", io.StringIO(mark + "user,course\na@example.com,c\n"))

    result = run_command("extend_access", "--csv", "-", "--days", "1")

    assert result.status == 0, result.stderr
    enrollment.refresh_from_db()
    assert enrollment.ended_at == clock.current + timedelta(days=6)


@pytest.mark.parametrize(
    ("content", "argv", "message"),
    [
        ("user,course,dayz\n", ["--days", "1"], "(unknown: dayz)"),
        ("user,days\n", ["--days", "1"], "(missing: course)"),
        ("", ["--days", "1"], "the file is empty"),
        ("user,course\na@example.com,c\n", [], "has no days or until column"),
        # A cell past csv.field_size_limit() (131,072 characters) was a traceback.
        ("user,course,days\n" + "x" * 131_073 + ",c,1\n", [], "line 2 is not readable CSV"),
    ],
)
def test_header_errors_are_usage_errors(clock, tmp_path, capsys, content, argv, message):
    enroll(clock, "a@example.com", CourseFactory(slug="c"))
    path = write_csv(tmp_path, content)
    before = snapshot()

    status = exit_status("extend_access", "--csv", path, *argv)

    assert status == 2
    err = capsys.readouterr().err
    assert message in err and path in err
    assert snapshot() == before


def test_unreadable_files_are_usage_errors(clock, tmp_path, capsys):
    missing = str(tmp_path / "missing.csv")
    latin = tmp_path / "latin.csv"
    latin.write_bytes("user,course\nj\xe9r\xf4me@example.com,c\n".encode("latin-1"))

    assert exit_status("extend_access", "--csv", missing, "--days", "1") == 2
    assert (
        f"--csv '{missing}': cannot read the file (No such file or directory)"
        in capsys.readouterr().err
    )
    assert exit_status("extend_access", "--csv", str(latin), "--days", "1") == 2
    assert "the file is not UTF-8 text" in capsys.readouterr().err


def test_rows_are_resolved_with_a_few_queries_whatever_their_number(
    clock, tmp_path, django_assert_num_queries
):
    course = CourseFactory(slug="c")
    for n in range(40):
        enroll(clock, f"l{n}@example.com", course)
    small = write_csv(tmp_path, "user,course\n" + "l0@example.com,c\n", "small.csv")
    large = write_csv(
        tmp_path, "user,course\n" + "".join(f"l{n}@example.com,c\n" for n in range(40)), "large.csv"
    )

    for path, count in ((small, 1), (large, 40)):
        _columns, rows = read_csv(path)
        with django_assert_num_queries(3):  # users, courses, enrollments
            resolved = resolve_rows(rows)
        assert len(resolved.rows) == count and not resolved.failures


def test_pause_from_csv_rejects_a_days_column(clock, tmp_path, capsys):
    enroll(clock, "a@example.com", CourseFactory(slug="c"))
    path = write_csv(tmp_path, "user,course,days\na@example.com,c,3\n")

    assert exit_status("pause_membership", "--csv", path) == 2
    assert "(unknown: days)" in capsys.readouterr().err


def test_rows_the_core_skips_are_reported_by_line(clock, tmp_path):
    """CSV rows name their enrollments: the contract's rule, so a long-expired row is
    extended from its end like through the API (no STILL_EXPIRED)."""
    course = CourseFactory(slug="c")
    enroll(clock, "open@example.com", course, ends_in_days=None)
    enroll(clock, "gone@example.com", course, ends_in_days=-100)
    fine = enroll(clock, "fine@example.com", course)
    path = write_csv(
        tmp_path,
        "user,course,days\nfine@example.com,c,3\nopen@example.com,c,3\ngone@example.com,c,3\n",
    )

    result = run_command("extend_access", "--csv", path)

    assert result.status == 1
    assert result.stderr.splitlines() == [
        "line 3 (open@example.com, c): Current enrollment has no end date [NO_END_DATE]",
    ]
    gone = Enrollment.objects.get(user__email="gone@example.com")
    assert gone.ended_at == clock.current - timedelta(days=97)
    fine.refresh_from_db()
    assert fine.ended_at == clock.current + timedelta(days=8)
