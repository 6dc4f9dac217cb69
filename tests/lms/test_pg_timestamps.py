"""lms/pg_timestamps.py: on a UTC session, timestamptz values are read by psycopg's own loader
(its C one with psycopg[binary]) and equal what Django's own loader gives, tzinfo included;
other sessions keep Django's loader."""

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.db import DataError, connection
from django.db.backends.postgresql.psycopg_any import BaseTzLoader

from lms import pg_timestamps
from tests.markers import requires_postgres

pytestmark = pytest.mark.django_db

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


def test_psycopgs_own_loader_is_its_c_one_when_installed():
    """The point of it: with psycopg's C extension (the project installs psycopg[binary]),
    psycopg's public loader lookup answers the C class, not the Python one Django subclasses."""
    import psycopg
    from psycopg.types.datetime import TimestamptzLoader

    wrapped = pg_timestamps.UtcTimestamptzLoader.wrapped
    assert wrapped is pg_timestamps.psycopg_timestamptz_loader()
    assert (wrapped is not TimestamptzLoader) is (psycopg.pq.__impl__ in ("c", "binary"))


@requires_postgres
def test_the_connection_reads_timestamps_with_psycopgs_loader():
    connection.ensure_connection()
    loader = connection.connection.adapters.get_loader(pg_timestamps.TIMESTAMPTZ_OID, 0)
    assert loader is pg_timestamps.UtcTimestamptzLoader
    # Django's create_cursor compares this attribute: equal, so no cursor re-registers its own.
    assert loader.timezone is connection.timezone is UTC


@requires_postgres
@pytest.mark.parametrize("text", SAMPLES)
def test_values_equal_djangos_loader(text):
    (ours,) = _loaded("SELECT %s::timestamptz", [text])

    class DjangoUtc(BaseTzLoader):
        timezone = UTC

    theirs = DjangoUtc(pg_timestamps.TIMESTAMPTZ_OID, connection.connection).load(text.encode())
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


@requires_postgres
def test_a_value_out_of_pythons_range_is_an_error_as_with_djangos_loader():
    """Year 10000 and infinity: psycopg's loader refuses them as Django's did."""
    for text in ("infinity", "9999-12-31 23:59:59.999999-01"):
        with pytest.raises(DataError, match="after year 10K"):
            _loaded("SELECT %s::timestamptz", [text])


@pytest.mark.parametrize(
    ("vendor", "zone"),
    [("postgresql", ZoneInfo("Europe/Paris")), ("postgresql", None), ("sqlite", UTC)],
)
def test_other_sessions_keep_djangos_loader(vendor, zone):
    """A session in another zone (DATABASES TIME_ZONE), USE_TZ off, or another database:
    psycopg's loader would answer in the session's zone, so Django's loader stays."""
    untouched = SimpleNamespace(vendor=vendor, timezone=zone, connection=None)
    assert pg_timestamps.use_psycopg_timestamp_loader(untouched) is False
