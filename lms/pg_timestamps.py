"""PostgreSQL `timestamptz` values read by psycopg's own loader (its C one with psycopg[binary])
when the session is in UTC, instead of Django's.

Django (5.2) registers a loader of its own on every PostgreSQL connection
(`django.db.backends.postgresql.psycopg_any.register_tzloader`): psycopg's pure-Python
timestamptz parser (it subclasses `psycopg.types.datetime.TimestamptzLoader` by name, so
psycopg never swaps in its C twin), then `replace(tzinfo=connection.timezone)` on every value.
Django needs that replace when the session's time zone differs from the one it wants on the
values; it makes sure the session is in its zone (`_configure_timezone`), so in a UTC session
psycopg's own loader already answers with `datetime.UTC` (psycopg maps a "UTC" session to
`timezone.utc`) and the replace changes nothing. The Python parser costs about 3.5
microseconds a value: a page of 100 memberships reads some 600 timestamps and a bulk
extension of 100,000 rows 200,000 (docs/benchmarks.md); the C loader a tenth of that.

All public API: `psycopg.adapters.get_loader(oid, Format.TEXT)` answers the loader psycopg
itself registered for timestamptz (the C class when psycopg's C extension is installed, else
the Python one: correct either way), and `AdaptersMap.register_loader` puts ours on the
connection. The C class cannot be subclassed, so UtcTimestamptzLoader wraps it, only to carry
the `timezone` attribute Django's `create_cursor` compares (equal, so no cursor re-registers
Django's loader); its `load` is the wrapped loader's bound method, so no Python frame runs per
value.

Any other session time zone (DATABASES' TIME_ZONE, USE_TZ off), psycopg2 or another database
keeps Django's loader. Connected when the lms app is ready (LmsConfig.ready).
"""

from datetime import UTC

from django.db.backends.signals import connection_created

try:
    import psycopg
    from psycopg.adapt import Loader
    from psycopg.pq import Format
except ImportError:  # psycopg2 or no PostgreSQL driver: Django's loader stays
    psycopg = Loader = Format = None

TIMESTAMPTZ_OID = 1184 if psycopg is None else psycopg.postgres.types["timestamptz"].oid


def psycopg_timestamptz_loader() -> type | None:
    """The class psycopg itself reads timestamptz text with (its C one when installed)."""
    if psycopg is None:
        return None
    return psycopg.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT)


if Loader is not None:

    class UtcTimestamptzLoader(Loader):
        """psycopg's own timestamptz loader for a session in UTC, with Django's `timezone`
        attribute. Its `load` is the wrapped loader's bound method itself: psycopg looks
        `load` up once per result column, and then calls C directly for every value."""

        timezone = UTC
        #: What it wraps: psycopg's own loader, read once at import.
        wrapped = psycopg_timestamptz_loader()

        def __init__(self, oid, context=None):
            super().__init__(oid, context)
            self.wrapped_loader = self.wrapped(oid, context)
            self.load = self.wrapped_loader.load  # shadows the method below

        def load(self, data):  # Loader's abstract method; the instance's bound one wins
            return self.wrapped_loader.load(data)


def use_psycopg_timestamp_loader(connection) -> bool:
    """Registers UtcTimestamptzLoader on `connection` (a Django connection, just opened) when
    it is PostgreSQL on psycopg 3 and its session is in UTC; returns whether it did."""
    if (
        Loader is None
        or connection.vendor != "postgresql"
        or connection.timezone is not UTC
        or not hasattr(connection.connection, "adapters")  # psycopg2's connection has none
    ):
        return False
    connection.connection.adapters.register_loader(TIMESTAMPTZ_OID, UtcTimestamptzLoader)
    return True


def on_connection_created(sender, connection, **_kwargs) -> None:
    use_psycopg_timestamp_loader(connection)


def connect() -> None:
    """Every PostgreSQL connection opened from now on reads timestamps this way."""
    connection_created.connect(on_connection_created, dispatch_uid="lms_pg_timestamps")
