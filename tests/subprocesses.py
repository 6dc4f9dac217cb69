"""Running manage.py in a process of its own, as an operator would: without the suite's settings
module (tests.settings turns DEBUG on), its variables or a developer's .env, so what the process
sees is the environment the test gives it.

`run_manage` runs a command to its end. `ManageProcess` starts one the test acts on while it
runs (a `db_worker`, a command to kill mid-run): on the test database (`database_url`; the data
must be committed, transaction=True) and named in PostgreSQL's pg_stat_activity (libpq's
PGAPPNAME), where `connections_of` sees when it waits for a lock or its connection is gone;
`wait_for` polls for such a moment instead of sleeping.
"""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from django.db import connection

#: The repository's root, where manage.py is.
ROOT = Path(__file__).resolve().parents[1]
#: `manage.py db_worker` as the Procfile runs it, polling every 0.1 s.
DB_WORKER = ("db_worker", "--no-reload", "--interval", "0.1")
#: A key for processes of the tests' own (settings require one of 50 characters or more).
SECRET_KEY = "subprocess-test-secret-key-of-fifty-or-more-characters-0123456789"


def manage_environment(env: Mapping[str, str]) -> dict[str, str]:
    """This process's environment without the suite's settings module and variables, nor a
    developer's .env (make demo writes one), with `env` on top."""
    dropped = {"DEBUG", "SECRET_KEY", "DJANGO_SETTINGS_MODULE"}
    environment = {k: v for k, v in os.environ.items() if k not in dropped}
    environment["ENV_FILE"] = os.devnull
    environment.update(env)
    return environment


def run_python(
    *args: str, env: Mapping[str, str], timeout: float = 120
) -> subprocess.CompletedProcess:
    """This interpreter run with `args` from the project's root and exactly `env`, its output
    captured as text."""
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    return run_python("manage.py", *args, env=manage_environment(env))


def database_url() -> str:
    """The test database's URL, for a process of its own."""
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return (
        f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
        f"/{db['NAME']}"
    )


def on_test_database(name: str) -> dict[str, str]:
    """A process's variables on the test database: no pooled connection (the database is
    dropped at the end), its connections named `name` in pg_stat_activity."""
    return {
        "SECRET_KEY": SECRET_KEY,
        "DATABASE_URL": database_url(),
        "CONN_MAX_AGE": "0",
        "PGAPPNAME": name,
    }


class ManageProcess:
    """`manage.py ARGS` running on the test database as `name` while the test acts; its output
    goes to `log` (a pipe nobody reads could fill and stall it). `env` adds variables."""

    def __init__(self, name: str, log: Path, *args: str, **env: str) -> None:
        self.name, self.log = name, log
        with log.open("w") as output:
            self.process = subprocess.Popen(
                [sys.executable, "manage.py", *args],
                cwd=ROOT,
                env=manage_environment({**on_test_database(name), **env}),
                stdout=output,
                stderr=subprocess.STDOUT,
            )

    def output(self) -> str:
        return self.log.read_text()

    def wait(self, timeout: float = 60) -> str:
        """Waits for it to exit (a worker started with --batch, once every job ran); exit 0."""
        self.process.wait(timeout=timeout)
        assert self.process.returncode == 0, self.output()
        return self.output()

    def terminate(self) -> str:
        """SIGTERM, as systemd stops it, and its output once it exited."""
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)
        return self.output()

    def stop(self) -> str:
        """SIGTERM: a worker finishes its job and exits 0."""
        self.terminate()
        assert self.process.returncode == 0, self.output()
        return self.output()

    def kill(self) -> int:
        """SIGKILL (no handler, no cleanup); its exit status once it is gone."""
        self.process.kill()
        return self.process.wait(timeout=30)

    def end(self) -> None:
        """Kills it if it still runs: what a test's cleanup does."""
        if self.process.poll() is None:
            self.kill()


def connections_of(name: str, *, waiting_for_a_lock: bool = False) -> int:
    """The open connections of the process named `name` (those waiting for a row lock, if
    asked). Inside a transaction PostgreSQL keeps the first snapshot of the activity: cleared
    first."""
    sql = "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s"
    if waiting_for_a_lock:
        sql += " AND wait_event_type = 'Lock'"
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(sql, [name])
        return cursor.fetchone()[0]


def wait_for(
    condition: Callable[[], bool], what: str, *processes: ManageProcess, timeout: float = 60
) -> None:
    """Polls `condition` until it holds; a deadline against a hung test, not a timed check.
    On failure, says what the processes wrote and what the test database's sessions were
    doing."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_stat_clear_snapshot()")
                cursor.execute(
                    "SELECT application_name, state, wait_event_type, query FROM pg_stat_activity"
                    " WHERE datname = current_database()"
                )
                sessions = cursor.fetchall()
            logs = "".join(f"\n--- {p.name}:\n{p.output()}" for p in processes)
            raise AssertionError(f"not within {timeout} s: {what}; sessions: {sessions}{logs}")
        time.sleep(0.02)
