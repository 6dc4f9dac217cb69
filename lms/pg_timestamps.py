"""Reading PostgreSQL `timestamptz` values with psycopg's C parser when the session is in UTC.

Django (5.2) registers a loader of its own on every PostgreSQL connection: psycopg's pure-Python
timestamptz parser, then `replace(tzinfo=...)`. About 3.5 microseconds a value: a page of 100
memberships reads some 600 timestamps (2 ms of a 45 ms request) and a bulk extension of
100,000 rows reads 200,000 (docs/benchmarks.md). psycopg's C loader (psycopg[binary]) parses
the same text in a tenth of that, and in a UTC session it already answers with
`datetime.timezone.utc`, the tzinfo Django's loader would set.

So on a connection whose session time zone is UTC (the project's: USE_TZ with the database in
UTC) the C loader takes over, wrapped only to carry the `timezone` attribute Django's
`create_cursor` compares. Any other session time zone, no C extension, or another database
keeps Django's own loader.
"""

from datetime import UTC

from django.db.backends.signals import connection_created
from django.dispatch import receiver

try:
    from psycopg.adapt import Loader
    from psycopg_binary._psycopg import TimestamptzLoader as _CTimestamptzLoader
except ImportError:  # psycopg2, or psycopg without its C extension: Django's loader stays
    Loader = _CTimestamptzLoader = None


if Loader is not None:

    class UtcTimestamptzLoader(Loader):
        """psycopg's C timestamptz loader for a session in UTC, with Django's `timezone`
        attribute. Its `load` is the C loader's bound method itself (no Python frame per
        value): psycopg looks `load` up once per result column."""

        timezone = UTC

        def __init__(self, oid, context=None):
            super().__init__(oid, context)
            self._c_loader = _CTimestamptzLoader(oid, context)
            self.load = self._c_loader.load  # shadows the method below

        def load(self, data):  # Loader's abstract method; the instance's bound C one wins
            return self._c_loader.load(data)


def use_c_timestamp_loader(connection) -> bool:
    """Registers UtcTimestamptzLoader on `connection` (a Django PostgreSQL connection, just
    opened) when its session is in UTC; returns whether it did."""
    if Loader is None or connection.vendor != "postgresql" or connection.timezone is not UTC:
        return False
    connection.connection.adapters.register_loader("timestamptz", UtcTimestamptzLoader)
    return True


@receiver(connection_created)
def _on_connection_created(sender, connection, **_kwargs) -> None:
    use_c_timestamp_loader(connection)
