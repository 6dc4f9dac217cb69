"""Fast path `pg_timestamps`: PostgreSQL `timestamptz` values read with psycopg's C parser when
the session is in UTC.

Django (5.2) registers a loader of its own on every PostgreSQL connection: psycopg's pure-Python
timestamptz parser, then `replace(tzinfo=...)`. About 3.5 microseconds a value: a page of 100
memberships reads some 600 timestamps (2 ms of a 45 ms request) and a bulk extension of
100,000 rows reads 200,000 (docs/benchmarks.md). psycopg's C loader (psycopg[binary]) parses
the same text in a tenth of that, and in a UTC session it already answers with
`datetime.timezone.utc`, the tzinfo Django's loader would set.

The private API: `psycopg_binary._psycopg.TimestamptzLoader`, the C extension's class, which
psycopg does not export. The check (at app-ready) imports it and compares what it reads with
psycopg's public pure-Python loader on samples (the range's ends, microseconds, a leap day):
equal values with `datetime.UTC` as tzinfo, else the fast path is switched off.

So on a connection whose session time zone is UTC (the project's: USE_TZ with the database in
UTC), opened while the fast path is on, the C loader takes over, wrapped only to carry the
`timezone` attribute Django's `create_cursor` compares. Any other session time zone, no C
extension, the fast path off, or another database keeps Django's own loader. Switched at run
time, it is applied to the connections this thread has open (`on_change`).
"""

from datetime import UTC

from django.db import connections
from django.db.backends.signals import connection_created
from django.dispatch import receiver

from enrollments import fastpaths

try:
    from psycopg.adapt import Loader
    from psycopg.types.datetime import TimestamptzLoader as PythonTimestamptzLoader
    from psycopg_binary._psycopg import TimestamptzLoader as CTimestamptzLoader
except ImportError:  # psycopg2, or psycopg without its C extension: Django's loader stays
    Loader = CTimestamptzLoader = PythonTimestamptzLoader = None

TIMESTAMPTZ_OID = 1184
#: Text PostgreSQL sends for timestamptz in a UTC session, read by the check both ways.
CHECK_SAMPLES = (
    b"2026-12-02 20:45:49.331243+00",
    b"2024-02-29 23:59:59.999999+00",
    b"0001-01-01 00:00:00+00",
    b"9999-12-31 23:59:59.999999+00",
    b"2038-01-19 03:14:07+00",
)


def check() -> str | None:
    """None when psycopg's C timestamptz loader reads the samples as its public Python loader
    does, with `datetime.UTC`; else what differs."""
    if CTimestamptzLoader is None:
        return "psycopg's C extension (psycopg_binary._psycopg.TimestamptzLoader) is not there"
    c_loader = CTimestamptzLoader(TIMESTAMPTZ_OID, None)
    python_loader = PythonTimestamptzLoader(TIMESTAMPTZ_OID, None)
    for sample in CHECK_SAMPLES:
        ours, theirs = c_loader.load(sample), python_loader.load(sample)
        if ours != theirs or ours.tzinfo is not UTC:
            return f"the C loader reads {sample!r} as {ours!r}, psycopg's own as {theirs!r}"
    return None


if Loader is not None:

    class UtcTimestamptzLoader(Loader):
        """psycopg's C timestamptz loader for a session in UTC, with Django's `timezone`
        attribute. Its `load` is the C loader's bound method itself (no Python frame per
        value): psycopg looks `load` up once per result column."""

        timezone = UTC

        def __init__(self, oid, context=None):
            super().__init__(oid, context)
            self.c_loader = CTimestamptzLoader(oid, context)
            self.load = self.c_loader.load  # shadows the method below

        def load(self, data):  # Loader's abstract method; the instance's bound C one wins
            return self.c_loader.load(data)


def use_c_timestamp_loader(connection) -> bool:
    """Registers UtcTimestamptzLoader on `connection` (a Django PostgreSQL connection, just
    opened) when the fast path is on and its session is in UTC; returns whether it did."""
    if (
        not FAST_PATH.enabled
        or Loader is None
        or connection.vendor != "postgresql"
        or connection.timezone is not UTC
    ):
        return False
    connection.connection.adapters.register_loader("timestamptz", UtcTimestamptzLoader)
    return True


def _apply_to_open_connections(enabled: bool) -> None:
    """The fast path switched at run time: this thread's open PostgreSQL connections take the
    C loader, or Django's own loader back (psycopg_any.register_tzloader, as Django does)."""
    for connection in connections.all(initialized_only=True):
        if connection.vendor != "postgresql" or connection.connection is None:
            continue
        if enabled:
            use_c_timestamp_loader(connection)
        else:
            from django.db.backends.postgresql.psycopg_any import register_tzloader

            register_tzloader(connection.timezone, connection.connection)


FAST_PATH = fastpaths.register(
    "pg_timestamps",
    summary="psycopg's C timestamptz loader on UTC sessions (psycopg_binary._psycopg)",
    check=check,
    on_change=_apply_to_open_connections,
)


@receiver(connection_created, dispatch_uid="fastpaths_pg_timestamps")
def on_connection_created(sender, connection, **_kwargs) -> None:
    use_c_timestamp_loader(connection)
