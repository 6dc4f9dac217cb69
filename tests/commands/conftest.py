"""Helpers for running management commands in tests and checking what they left behind."""

import io
from dataclasses import dataclass
from datetime import timedelta
from unittest import mock

import pytest
from django.core.management import call_command, execute_from_command_line
from django.core.management.base import CommandError
from django.db import connections

from enrollments.models import AccessChange, Enrollment, ExpiryReminder
from tests.factories import EnrollmentFactory, UserFactory


@dataclass
class Run:
    stdout: str
    stderr: str
    #: The exit status manage.py would give: 0, or the CommandError's returncode.
    status: int
    error: str = ""


class TtyIO(io.StringIO):
    """A StringIO that claims to be a terminal, to see the progress bar."""

    def isatty(self) -> bool:
        return True


def run_command(name: str, *args: str, tty: bool = False, **options) -> Run:
    """Runs `name` through call_command, as manage.py would, and collects what it printed.

    Usage errors found by argparse raise CommandError(returncode=1) under call_command (they
    exit 2 from a shell); tests of those use `execute_from_command_line` instead.
    """
    out, err = (TtyIO() if tty else io.StringIO()), io.StringIO()
    try:
        call_command(name, *args, stdout=out, stderr=err, **options)
    except CommandError as error:
        return Run(out.getvalue(), err.getvalue(), error.returncode, str(error))
    return Run(out.getvalue(), err.getvalue(), 0)


def snapshot() -> dict:
    """Every enrollment, audit and reminder row, every column: equal before and after means
    nothing was written."""
    return {
        "enrollments": sorted(Enrollment.objects.values_list(), key=str),
        "audit": sorted(AccessChange.objects.values_list(), key=str),
        "reminders": sorted(ExpiryReminder.objects.values_list(), key=str),
    }


@pytest.fixture
def run(db):
    return run_command


def exit_status(*argv: str) -> int:
    """The exit status of `manage.py <argv>` as a shell sees it (argparse errors included).
    Output goes to the real stdout/stderr: read it with the `capsys` fixture."""
    try:
        # run_from_argv closes every connection when it ends; inside a test's transaction
        # (PostgreSQL) that would end the test's connection, so keep it open.
        with mock.patch.object(connections, "close_all"):
            execute_from_command_line(["manage.py", *argv])
    except SystemExit as exit:
        return exit.code if isinstance(exit.code, int) else 1
    return 0


def write_csv(tmp_path, text: str, name: str = "rows.csv") -> str:
    """`text` written to a CSV file under `tmp_path`; its path."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def enroll(clock, email: str, course, ends_in_days: float | None = 5) -> Enrollment:
    """A learner `email` enrolled in `course` ten days ago, ending in `ends_in_days` (None:
    indefinite)."""
    ended_at = None if ends_in_days is None else clock.current + timedelta(days=ends_in_days)
    return EnrollmentFactory(
        user=UserFactory(email=email),
        course=course,
        start_at=clock.current - timedelta(days=10),
        ended_at=ended_at,
    )
