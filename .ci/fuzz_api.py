"""The API fuzz run of CI (issue 14): schemathesis against gunicorn on PostgreSQL.

1. A throwaway database (`--database-url`, dropped and created again, dropped at the end),
   migrated and loaded with the demo data (seed_demo: ~50 learners in every access state).
2. Two API keys: a superuser's (every operation succeeds or fails on business rules) and one of
   a user with no permission (every operation is refused or sees only its own rows).
3. gunicorn with production settings (DEBUG off; the rate limit off, or the fuzzer would spend
   its time on 429s) on a free port of 127.0.0.1.
4. `st run` once per key, each bounded by `--seconds`, one worker (so that the checks can tell
   which request wrote), a fixed seed (a reproducible run), with the checks of
   .ci/fuzz_api_checks.py: no 5xx, GraphQL JSON only, no INTERNAL_SERVER_ERROR, no write on
   an error.

Exit status: non-zero when any run found a failure or could not run.
Usage: .venv/bin/python .ci/fuzz_api.py --database-url postgres://postgres@127.0.0.1:5432/fuzz_ci
"""

import argparse
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def recreate_database(url: str, *, drop_only: bool = False) -> None:
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop_only:
            connection.execute(f'CREATE DATABASE "{name}"')


def audit_rows(url: str) -> int:
    """How many access changes the database holds (the fuzzer's successful mutations add)."""
    with psycopg.connect(url) as connection:
        return connection.execute("SELECT count(*) FROM enrollments_accesschange").fetchone()[0]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def prepare(env: dict[str, str]) -> tuple[str, str]:
    """Migrates, seeds and creates the two keys; returns (superuser key, no-permission key)."""
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], env=env, check=True)
    subprocess.run(
        [*manage, "seed_demo", "--force"], env=env, check=True, stdout=subprocess.DEVNULL
    )
    script = (
        "from apikeys.models import APIKey\n"
        "from lms.models import User\n"
        "root = User.objects.create_superuser(email='fuzz-root@example.com', password=None)\n"
        "nobody = User.objects.create_user(email='fuzz-nobody@example.com', password=None)\n"
        "print(APIKey.objects.create_key(user=root, name='fuzz')[1])\n"
        "print(APIKey.objects.create_key(user=nobody, name='fuzz')[1])\n"
    )
    out = subprocess.run(
        [*manage, "shell", "-c", script], env=env, check=True, capture_output=True, text=True
    ).stdout.split()
    return out[-2], out[-1]


def wait_for(url: str, server: subprocess.Popen, seconds: float = 30) -> None:
    import httpx

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("gunicorn exited before serving")
        try:
            httpx.post(url, json={"query": "{ __typename }"}, timeout=2)
            return
        except httpx.HTTPError:
            time.sleep(0.3)
    raise SystemExit("gunicorn did not answer in time")


def fuzz(url: str, key: str, label: str, seconds: int, seed: int, env: dict[str, str]) -> int:
    print(f"::: schemathesis, {label} key, {seconds}s", flush=True)
    command = [
        str(BIN / "st"),
        "run",
        url,
        "--header",
        f"Authorization: Bearer {key}",
        "--max-time",
        str(seconds),
        "--workers",
        "1",
        "--seed",
        str(seed),
        "--checks",
        "no_5xx,graphql_json,no_internal_server_error,no_write_on_error",
        "--generation-database",
        "none",
        "--request-timeout",
        "30",
    ]
    return subprocess.run(command, env=env, check=False).returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--seconds", type=int, default=45, help="per key (two keys)")
    parser.add_argument("--seed", type=int, default=14)
    options = parser.parse_args()

    env = {
        **os.environ,
        "DATABASE_URL": options.database_url,
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "RATE_LIMIT_ENABLED": "false",
        "CONN_MAX_AGE": "0",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    recreate_database(options.database_url)
    server = None
    server_log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed in the finally below
        "w+", prefix="fuzz-gunicorn-", suffix=".log", delete=False
    )
    try:
        root_key, nobody_key = prepare(env)
        port = free_port()
        url = f"http://127.0.0.1:{port}/graphql/"
        server = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "config.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "2",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
            stderr=server_log,  # Django logs every 400 the fuzzer provokes: kept out of CI's log
        )
        wait_for(url, server)
        fuzz_env = {
            **os.environ,
            "SCHEMATHESIS_HOOKS": str(ROOT / ".ci" / "fuzz_api_checks.py"),
            "FUZZ_DATABASE_URL": options.database_url,
        }
        seeded = audit_rows(options.database_url)
        statuses = [
            fuzz(url, root_key, "superuser", options.seconds, options.seed, fuzz_env),
            fuzz(url, nobody_key, "no-permission", options.seconds, options.seed, fuzz_env),
        ]
        written = audit_rows(options.database_url) - seeded
        print(f"Audit rows written by the fuzzer's successful mutations: {written}")
        return 0 if not any(statuses) else 1
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
        recreate_database(options.database_url, drop_only=True)
        server_log.seek(0)
        errors = [line for line in server_log if "Bad Request" not in line]
        server_log.close()
        print(f"gunicorn's log ({server_log.name}), 400s left out:", *errors[-40:], sep="\n")


if __name__ == "__main__":
    sys.exit(main())
