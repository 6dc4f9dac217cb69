"""The benchmark's process environment: its own database, the app's production-like settings
(DEBUG off), and a way to reach the database server to create that database.

Set before Django reads its settings; the gunicorn servers and the bulk worker inherit it.
"""

import os
import secrets
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/bench"


class UnsafeDatabase(Exception):
    """The benchmark truncates its database: it refuses one whose name does not say "bench"."""


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def check_dedicated(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql", "pgsql"):
        raise UnsafeDatabase(f"the benchmark needs PostgreSQL, not {parts.scheme!r}")
    if "bench" not in database_name(url):
        raise UnsafeDatabase(
            f"database {database_name(url)!r}: the benchmark empties its database, so its name "
            "must contain 'bench' (for example postgres://postgres@127.0.0.1:5432/bench)"
        )
    if parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        raise UnsafeDatabase("the benchmark runs against a database on this machine only")


def configure(database_url: str, *, fastpaths_off: bool = False) -> dict[str, str]:
    """Sets (and returns) the variables every process of the benchmark runs with.

    `fastpaths_off`: FASTPATHS_DISABLED=all, every fast path off (enrollments/fastpaths) in this
    process, its gunicorn servers and its bulk worker: the figures of the public paths alone.
    Without it, a FASTPATHS_DISABLED already in the environment is kept as it is."""
    values = {
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DATABASE_URL": database_url,
        "DEBUG": "false",
        "SECRET_KEY": os.environ.get("BENCH_SECRET_KEY") or secrets.token_urlsafe(50),
        "SECURE_SSL_REDIRECT": "false",
        "LOG_LEVEL": "WARNING",
    }
    if fastpaths_off:
        values["FASTPATHS_DISABLED"] = "all"
    os.environ.update(values)
    return values


def _maintenance_conninfo(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, parts.fragment))


def ensure_database(url: str) -> bool:
    """Creates the benchmark's database when it is missing; True when it did."""
    name = database_name(url)
    with psycopg.connect(_maintenance_conninfo(url), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists:
            return False
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return True


def drop_database(url: str) -> None:
    """Drops the benchmark's database (the smoke test's own, when it is done)."""
    check_dedicated(url)
    with psycopg.connect(_maintenance_conninfo(url), autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(database_name(url))
            )
        )
