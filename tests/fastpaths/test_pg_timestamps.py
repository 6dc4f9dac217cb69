"""Fast path `pg_timestamps` (enrollments/fastpaths/pg_timestamps.py): psycopg's C timestamptz
loader gives the same datetimes as Django's own loader, on UTC sessions only. The reading tests
run with the fast path on and off (the `fast_paths` fixture): the same values either way."""

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.db.backends.postgresql.psycopg_any import BaseTzLoader

from enrollments.fastpaths import pg_timestamps
from tests.markers import requires_postgres

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_paths")]

#: Text PostgreSQL sends for timestamptz in a UTC session: whole seconds, microseconds, the
#: range's ends, a leap day, the int32 end of the API's timestamps.
SAMPLES = [
    "2023-01-01 00:00:00+00",
    "2026-12-02 20:45:49.331243+00",
    "2024-02-29 23:59:59.999999+00",
    "0001-01-01 00:00:00+00",
    "9999-12-31 23:59:59.999999+00",
    "2038-01-19 03:14:07+00",
]


def _loaded(sql: str, params=()) -> list:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


@requires_postgres
def test_the_connection_reads_timestamps_with_the_c_loader_when_on(fast_paths):
    connection.ensure_connection()
    loader = connection.connection.adapters.get_loader(1184, 0)  # timestamptz, text
    assert (loader is pg_timestamps.UtcTimestamptzLoader) is fast_paths
    # Django's create_cursor compares this attribute: equal, so no cursor re-registers its own.
    assert loader.timezone is connection.timezone is UTC


def test_the_signature_check_passes_on_the_installed_psycopg():
    assert pg_timestamps.check() is None
    assert pg_timestamps.FAST_PATH.mismatch is None


@requires_postgres
@pytest.mark.parametrize("text", SAMPLES)
def test_values_equal_djangos_loader(text):
    (ours,) = _loaded("SELECT %s::timestamptz", [text])

    class DjangoUtc(BaseTzLoader):
        timezone = UTC

    theirs = DjangoUtc(1184, connection.connection).load(text.encode())
    assert ours == theirs
    assert ours.tzinfo is UTC  # the same tzinfo object, not only an equal offset
    assert ours.isoformat() == theirs.isoformat()


@requires_postgres
def test_a_stored_datetime_reads_back_as_written():
    written = datetime(2031, 7, 4, 12, 30, 15, 123456, tzinfo=UTC)
    (read,) = _loaded("SELECT %s::timestamptz + interval '1 day'", [written])
    assert read == written + timedelta(days=1) and read.tzinfo is UTC


@requires_postgres
def test_null_stays_none():
    assert _loaded("SELECT NULL::timestamptz") == [None]


@pytest.mark.parametrize(
    ("vendor", "zone"),
    [("postgresql", ZoneInfo("Europe/Paris")), ("postgresql", None), ("sqlite", UTC)],
)
def test_other_sessions_keep_djangos_loader(vendor, zone):
    """A session in another zone (DATABASES TIME_ZONE), USE_TZ off, or another database: the
    C loader would answer in the session's zone, so Django's loader stays."""
    untouched = SimpleNamespace(vendor=vendor, timezone=zone, connection=None)
    assert pg_timestamps.use_c_timestamp_loader(untouched) is False
