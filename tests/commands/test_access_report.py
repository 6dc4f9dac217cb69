"""access_report: enrollments ending within N days or ended in the last N days."""

import csv
import io
from datetime import timedelta

import pytest

from tests.commands.conftest import exit_status, run_command
from tests.factories import CourseFactory, EnrollmentFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ends(clock):
    """Learners named after when their access ends, relative to the frozen now."""
    course = CourseFactory(slug="python-basics")
    other = CourseFactory(slug="sql")
    now = clock.current
    spec = {
        "in2d": (course, now + timedelta(days=2)),
        "in7d": (course, now + timedelta(days=7)),  # the window's last instant: included
        "in8d": (course, now + timedelta(days=8)),
        "ago1d": (course, now - timedelta(days=1)),
        "ago9d": (course, now - timedelta(days=9)),
        "never": (course, None),
        "sql-in1d": (other, now + timedelta(days=1)),
    }
    for name, (c, ended_at) in spec.items():
        EnrollmentFactory(
            course=c,
            user=UserFactory(email=f"{name}@example.com", first_name=name.title(), last_name=""),
            start_at=now - timedelta(days=30),
            ended_at=ended_at,
        )
    return spec


def emails(text: str) -> list[str]:
    return [line.split()[0] for line in text.splitlines() if "@" in line]


def test_table_of_enrollments_ending_soon(ends):
    result = run_command("access_report", "--ending-within", "7")

    assert result.status == 0
    lines = result.stdout.splitlines()
    assert lines[0].split() == [
        "user_email",
        "user_name",
        "course",
        "start_at",
        "ended_at",
        "state",
        "enrollment_id",
    ]
    assert set(lines[1]) == {"-", " "}
    assert emails(result.stdout) == ["sql-in1d@example.com", "in2d@example.com", "in7d@example.com"]
    assert "2026-01-08T00:00:00Z  active" in result.stdout
    assert lines[-1] == "3 enrollments ending within 7 days."


def test_csv_of_enrollments_ended_lately(ends):
    result = run_command("access_report", "--ended-within", "7", "--format", "csv")

    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(r["user_email"], r["course"], r["ended_at"], r["state"]) for r in rows] == [
        ("ago1d@example.com", "python-basics", "2025-12-31T00:00:00Z", "expired")
    ]
    assert rows[0]["user_name"] == "Ago1D"


def test_one_course_only(ends):
    result = run_command("access_report", "--ending-within", "30", "--course", "sql")

    assert emails(result.stdout) == ["sql-in1d@example.com"]


def test_an_empty_report_says_so(ends):
    result = run_command("access_report", "--ended-within", "7", "--course", "sql")

    assert result.stdout == "No enrollments ended within the last 7 days.\n"


def test_csv_has_a_header_even_when_empty(ends):
    result = run_command(
        "access_report", "--ended-within", "7", "--course", "sql", "--format", "csv"
    )

    assert result.stdout.splitlines() == [
        "user_email,user_name,course,start_at,ended_at,state,enrollment_id"
    ]


def test_one_query_whatever_the_number_of_rows(ends, django_assert_num_queries):
    with django_assert_num_queries(1):
        result = run_command("access_report", "--ending-within", "30", "--format", "csv")
    assert len(result.stdout.splitlines()) == 5


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "one of the arguments --ending-within --ended-within is required"),
        (["--ending-within", "3", "--ended-within", "3"], "not allowed with argument"),
        (["--ending-within", "0"], "'0' is not a number of days from 1 to 36500"),
        # now + 3,000,000 days overflowed the calendar: a traceback, not a usage error.
        (["--ending-within", "3000000"], "'3000000' is not a number of days from 1 to 36500"),
        (["--ended-within", "36501"], "'36501' is not a number of days from 1 to 36500"),
        (["--ending-within", "3", "--format", "xml"], "invalid choice: 'xml'"),
        (["--ending-within", "3", "--course", "nope"], "--course 'nope': no course"),
    ],
)
def test_usage_errors_exit_2(db, capsys, argv, message):
    assert exit_status("access_report", *argv) == 2
    assert message in capsys.readouterr().err
