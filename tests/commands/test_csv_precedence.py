"""extend_access --csv: how a row's value and a flag combine. A row's `days` or `until`
replaces the flag of the same kind; then the contract's precedence picks across kinds, as for
every request: indefinite > until (new end) > days."""

from datetime import UTC, datetime, timedelta

import pytest

from enrollments.models import AccessChange, Enrollment
from tests.commands.conftest import enroll, run_command, write_csv
from tests.factories import CourseFactory

pytestmark = pytest.mark.django_db

FLAG_UNTIL = datetime(2026, 3, 1, tzinfo=UTC)
ROW_UNTIL = datetime(2026, 4, 1, tzinfo=UTC)
START_END = datetime(2026, 1, 6, tzinfo=UTC)  # the frozen now + 5 days (enroll's default)


@pytest.mark.parametrize(
    ("flags", "days", "until", "expected", "action"),
    [
        # --indefinite wins over everything a row gives.
        (["--indefinite"], "10", "", None, "grant_indefinite"),
        (["--indefinite"], "", "2026-04-01", None, "grant_indefinite"),
        (["--indefinite"], "10", "2026-04-01", None, "grant_indefinite"),
        # A new end wins over days, whichever carries which.
        (["--until", "2026-03-01"], "10", "", FLAG_UNTIL, "set_end"),
        (["--days", "5"], "", "2026-04-01", ROW_UNTIL, "set_end"),
        ([], "10", "2026-04-01", ROW_UNTIL, "set_end"),
        # The row's value replaces the flag of its own kind.
        (["--until", "2026-03-01"], "", "2026-04-01", ROW_UNTIL, "set_end"),
        (["--days", "5"], "10", "", START_END + timedelta(days=10), "extend"),
        # An empty cell falls back to the flag.
        (["--days", "5"], "", "", START_END + timedelta(days=5), "extend"),
        (["--until", "2026-03-01"], "", "", FLAG_UNTIL, "set_end"),
        ([], "10", "", START_END + timedelta(days=10), "extend"),
    ],
)
def test_a_rows_value_and_a_flag(clock, tmp_path, flags, days, until, expected, action):
    enrollment = enroll(clock, "ann@example.com", CourseFactory(slug="c"))
    path = write_csv(tmp_path, f"user,course,days,until\nann@example.com,c,{days},{until}\n")

    result = run_command("extend_access", "--csv", path, *flags)

    assert result.status == 0, result.stderr
    enrollment.refresh_from_db()
    assert enrollment.ended_at == expected
    assert list(AccessChange.objects.values_list("action", "new_ended_at")) == [(action, expected)]


def test_the_same_request_by_row_or_by_flag_is_one_operation(clock, tmp_path):
    """`--days 5` with a row saying 5 and a row saying nothing are the same request: one
    group, named the same in the summary."""
    course = CourseFactory(slug="c")
    for email in ("a@example.com", "b@example.com"):
        enroll(clock, email, course)
    path = write_csv(tmp_path, "user,course,days\na@example.com,c,5\nb@example.com,c,\n")

    result = run_command("extend_access", "--csv", path, "--days", "5")

    assert result.status == 0, result.stderr
    assert "Asked: extend access by 5 days: 2." in result.stdout


def test_a_malformed_cell_fails_its_row_even_where_a_higher_value_would_win(clock, tmp_path):
    """Precedence ignores lower values, not bad input: `days` "ten" is an error, reported by
    line, whatever else the row or the flags say; the other rows go ahead."""
    course = CourseFactory(slug="c")
    bad = enroll(clock, "bad@example.com", course)
    good = enroll(clock, "good@example.com", course)
    path = write_csv(tmp_path, "user,course,days\nbad@example.com,c,ten\ngood@example.com,c,\n")

    result = run_command("extend_access", "--csv", path, "--indefinite")

    assert result.status == 1
    assert result.stderr.splitlines() == [
        "line 2 (bad@example.com, c): Invalid extension period [INVALID_EXTENSION_PERIOD]: "
        "days 'ten' is not a whole number"
    ]
    assert Enrollment.objects.get(pk=bad.pk).ended_at == START_END
    assert Enrollment.objects.get(pk=good.pk).ended_at is None


def test_a_rows_bad_value_is_quoted_with_the_reason(clock, tmp_path):
    enroll(clock, "ann@example.com", CourseFactory(slug="c"))
    path = write_csv(tmp_path, "user,course,until\nann@example.com,c,2025-01-01\n")

    result = run_command("extend_access", "--csv", path, "--days", "5")

    assert result.status == 1
    assert "until '2025-01-01': the new end date is not in the future" in result.stderr
    assert not AccessChange.objects.exists()
