"""access_report renders text that learners typed: no formula reaches a spreadsheet from its
CSV (enrollments.csv_output), no escape sequence reaches the operator's terminal from its table
(lms.control_characters.terminal_safe)."""

import csv
import io
import re
from datetime import timedelta

import pytest

from tests.commands.conftest import run_command
from tests.factories import CourseFactory, EnrollmentFactory, UserFactory

pytestmark = pytest.mark.django_db

CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")  # every control character but \n


def learner(clock, email: str, first_name: str, last_name: str = "", days: int = 2):
    return EnrollmentFactory(
        user=UserFactory(email=email, first_name=first_name, last_name=last_name),
        course=CourseFactory(slug="python-basics") if days == 2 else CourseFactory(),
        start_at=clock.current - timedelta(days=10),
        ended_at=clock.current + timedelta(days=days),
    )


def test_formula_cells_in_names_and_emails_are_written_as_text(clock):
    learner(clock, "=cmd|' /C calc'!A0@example.com", '=HYPERLINK("https://evil.example")', "+1")
    learner(clock, "@sum@example.com", "-2+3", "@SUM(1+1)", days=3)
    learner(clock, "ann@example.com", "Ann", "-7", days=4)  # a number is data

    result = run_command("access_report", "--ending-within", "7", "--format", "csv")

    assert result.status == 0
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(row["user_email"], row["user_name"]) for row in rows] == [
        ("'=cmd|' /C calc'!A0@example.com", '\'=HYPERLINK("https://evil.example") +1'),
        ("'@sum@example.com", "'-2+3 @SUM(1+1)"),
        ("ann@example.com", "Ann -7"),
    ]
    assert not any(
        cell.startswith(("=", "+", "-", "@", "\t", "\r")) for row in rows for cell in row.values()
    )


def test_the_table_strips_escape_sequences_and_control_characters(clock):
    learner(
        clock,
        "esc\x1b[31m@example.com",
        "\x1b]0;pwned\x07Mallory",  # retitles the terminal
        "\x1b[2J\x1b[HBlack\r\nhat\x9b1m",  # clears the screen, breaks the row, 8-bit CSI
    )
    learner(clock, "ann@example.com", "Ann", "Smith", days=3)

    result = run_command("access_report", "--ending-within", "7")

    assert result.status == 0
    assert CONTROL.search(result.stdout) is None
    lines = result.stdout.splitlines()
    assert len(lines) == 5  # header, rule, two rows, summary: no row broken in two
    assert lines[2].startswith("esc@example.com  Mallory Black hat  python-basics  ")
    assert lines[3].startswith("ann@example.com  Ann Smith          ")  # columns still aligned


def test_the_csv_keeps_other_text_as_stored(clock):
    # The CSV is data for a program: only the formula rule applies, nothing is stripped.
    learner(clock, "ann@example.com", "Ann\tTab", "Smith")

    result = run_command("access_report", "--ending-within", "7", "--format", "csv")

    [row] = list(csv.DictReader(io.StringIO(result.stdout)))
    assert row["user_name"] == "Ann\tTab Smith"
