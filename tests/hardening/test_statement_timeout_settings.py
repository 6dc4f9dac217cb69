"""How config/settings.py builds the API's read connection from GRAPHQL_STATEMENT_TIMEOUT_MS
(enrollments.graphql.statement_timeout): on PostgreSQL a second alias of the same database
whose session starts with the timeout; with 0, or on SQLite, no such alias (every read stays
on default). Read from the environment in a fresh interpreter, as a server would."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRINT = (
    "import json, django; from django.conf import settings; "
    "print(json.dumps({alias: [db['NAME'], db.get('OPTIONS', {}).get('options'), "
    "db.get('TEST', {}).get('MIRROR')] for alias, db in settings.DATABASES.items()}))"
)


def databases(**environment: str) -> dict:
    env = {
        **{k: v for k, v in os.environ.items() if k != "GRAPHQL_STATEMENT_TIMEOUT_MS"},
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "true",
        "ENV_FILE": "/dev/null",
        **environment,
    }
    completed = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", PRINT], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout)


POSTGRES = "postgres://postgres@127.0.0.1:5432/course_access"


def test_postgresql_gets_a_read_alias_with_the_default_timeout():
    assert databases(DATABASE_URL=POSTGRES) == {
        "default": ["course_access", None, None],
        "api_reads": ["course_access", "-c statement_timeout=5000", "default"],
    }


def test_the_timeout_comes_from_the_environment_and_keeps_the_urls_options():
    found = databases(
        DATABASE_URL=POSTGRES + "?options=-c%20search_path%3Dpublic",
        GRAPHQL_STATEMENT_TIMEOUT_MS="1234",
    )
    assert found["api_reads"][1] == "-c search_path=public -c statement_timeout=1234"
    assert found["default"][1] == "-c search_path=public"


@pytest.mark.parametrize(
    "environment",
    [
        {"DATABASE_URL": POSTGRES, "GRAPHQL_STATEMENT_TIMEOUT_MS": "0"},
        {"DATABASE_URL": "sqlite:////tmp/course-access-settings-test.sqlite3"},
    ],
    ids=["zero-switches-it-off", "sqlite-has-no-timeout"],
)
def test_no_read_alias_without_a_timeout(environment):
    assert list(databases(**environment)) == ["default"]


def test_the_permission_cache_seconds_come_from_the_environment():
    """docs/api.md names API_KEY_PERMISSION_CACHE_SECONDS as the knob (0: no cache); like
    every setting an operator turns, it is read from the environment."""
    show = (
        "import django; from django.conf import settings; django.setup(); "
        "from apikeys.permission_cache import _seconds; print(_seconds())"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "true"}
    env["ENV_FILE"] = "/dev/null"
    for value, expected in ((None, "10.0"), ("0", "0.0"), ("2.5", "2.5")):
        if value is None:
            env.pop("API_KEY_PERMISSION_CACHE_SECONDS", None)
        else:
            env["API_KEY_PERMISSION_CACHE_SECONDS"] = value
        completed = subprocess.run(  # noqa: S603 - our own interpreter and code
            [sys.executable, "-c", show], cwd=ROOT, env=env, capture_output=True, text=True
        )
        assert completed.returncode == 0, completed.stderr
        assert completed.stdout.strip() == expected
