"""The one text rule (lms.text) at every door that reads strings (issue 14, finding 3): an
invalid byte, an unpaired surrogate or a NUL is a clear error and changes nothing, never a
traceback or a server error. (The GraphQL reason: test_graphql_properties.py::
test_a_nul_character_or_a_lone_surrogate_in_a_reason_is_invalid_reason.)"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from enrollments.selectors.by_key import course_id_find, user_ids_by_key, user_key
from lms.text import text_problem
from tests.commands.conftest import exit_status, snapshot
from tests.factories import EnrollmentFactory

ROOT = Path(__file__).resolve().parents[2]
BAD_TEXTS = ["bad\udcffbyte", "\ud800", "a\x00b"]


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("plain text, ünïcödé, 😀", None),
        ("a\x00b", "contains a NUL character"),
        ("\ud800", "is not valid text (an invalid byte or an unpaired surrogate)"),
        ("bad\udcffbyte", "is not valid text (an invalid byte or an unpaired surrogate)"),
    ],
)
def test_the_rule(value, problem):
    assert text_problem(value) == problem


@pytest.mark.parametrize("command", ["extend_access", "pause_membership", "resume_membership"])
def test_an_invalid_byte_in_reason_from_a_shell_is_a_usage_error(command):
    """`--reason $'bad\\xffbyte'` as a shell passes it: bytes, decoded by Python with
    surrogateescape. It was a traceback; now exit 2 naming the option, before any database
    work (so this process needs no database)."""
    extra = [b"--days", b"1"] if command == "extend_access" else []
    result = subprocess.run(  # noqa: S603
        [
            sys.executable,
            b"manage.py",
            command.encode(),
            b"--all",
            *extra,
            b"--reason",
            b"bad\xffbyte",
        ],
        cwd=ROOT,
        capture_output=True,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
        timeout=60,
    )
    stderr = result.stderr.decode("utf-8", "replace")
    assert result.returncode == 2, stderr
    assert "Traceback" not in stderr
    assert "--reason: the value is not valid text" in stderr


@pytest.mark.django_db
@pytest.mark.parametrize("value", BAD_TEXTS)
@pytest.mark.parametrize("option", ["--reason", "--user", "--course", "--actor"])
def test_any_text_option_breaking_the_rule_is_a_usage_error(capsys, option, value):
    EnrollmentFactory()
    before = snapshot()
    assert exit_status("extend_access", "--days", "1", "--all", option, value) == 2
    assert f"{option}: the value " in capsys.readouterr().err
    assert snapshot() == before


@pytest.mark.django_db
@pytest.mark.parametrize("value", BAD_TEXTS)
def test_the_other_commands_check_their_text_too(capsys, value):
    assert exit_status("access_report", "--ending-within", "7", "--course", value) == 2
    assert "--course: the value " in capsys.readouterr().err
    assert exit_status("create_api_key", value, "--name", "x") == 2
    assert "--email: the value " in capsys.readouterr().err
    assert exit_status("create_api_key", "a@example.com", "--name", value) == 2
    assert "--name: the value " in capsys.readouterr().err


@pytest.mark.django_db
def test_a_csv_cell_breaking_the_rule_fails_its_row_only(tmp_path, monkeypatch):
    """A CSV read from stdin under a C locale can carry surrogates (stdin then decodes with
    surrogateescape): that row fails, by the rule's own words."""
    from enrollments.management import csv_input

    good = EnrollmentFactory()
    path = tmp_path / "rows.csv"
    path.write_text(f"user,course\n{good.user.email},{good.course.slug}\n", encoding="utf-8")

    columns, rows = csv_input.read_csv(str(path))
    assert [row.problem for row in rows] == [None]
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"user,course\nx@example.com,slug\n")
    original = Path.read_text
    monkeypatch.setattr(
        Path, "read_text", lambda self, **kw: original(self, **kw).replace("slug", "sl\udcffug")
    )
    _columns, bad_rows = csv_input.read_csv(str(bad))
    assert [row.problem for row in bad_rows] == [
        "the row is not valid text (an invalid byte or an unpaired surrogate)"
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("value", BAD_TEXTS)
def test_look_ups_by_text_that_breaks_the_rule_find_nothing_and_send_nothing(
    value, django_assert_num_queries
):
    assert user_key(value) is None
    with django_assert_num_queries(0):
        assert user_ids_by_key([value]) == {}
    with django_assert_num_queries(0):
        assert course_id_find(value) is None
