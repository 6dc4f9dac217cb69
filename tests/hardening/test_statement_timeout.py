"""The per-request statement timeout on PostgreSQL, the cost model's backstop
(enrollments.graphql.statement_timeout; issue 14, finding 5): a query statement that runs too
long is cancelled by PostgreSQL and answered QUERY_TIMEOUT, not INTERNAL_SERVER_ERROR; the
session's timeout is reset after the request; mutations are not bounded."""

import pytest
from django.db import connection

from enrollments.graphql.pagination import KeysetPage
from tests.markers import requires_postgres

pytestmark = [requires_postgres, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

COUNT = "{ courseMemberships { total_count } }"


def slow_count(self) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_sleep(2)")
    return 0


def session_timeout() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        return cursor.fetchone()[0]


@pytest.fixture
def key(make_key, viewer) -> str:
    return make_key(viewer)


def test_a_query_past_the_timeout_is_query_timeout(settings, monkeypatch, api, key, caplog):
    settings.GRAPHQL_LIMITS = {**settings.GRAPHQL_LIMITS, "STATEMENT_TIMEOUT_MS": 200}
    monkeypatch.setattr(KeysetPage, "total_count", property(slow_count))
    before = session_timeout()

    body = api.post(COUNT, key=key)

    assert api.last_response.status_code == 200
    assert body["data"] is None
    assert body["errors"] == [
        {
            "message": "The query ran past the statement timeout and was cancelled",
            "locations": [{"line": 1, "column": 23}],
            "path": ["courseMemberships", "total_count"],
            "extensions": {"code": "QUERY_TIMEOUT"},
        }
    ]
    assert "GraphQL resolver failed" not in caplog.text
    assert session_timeout() == before  # reset: the next user of the connection is unbounded
    monkeypatch.undo()
    assert api.post(COUNT, key=key) == {"data": {"courseMemberships": {"total_count": 0}}}


def test_the_timeout_applies_while_a_query_runs_only(settings, monkeypatch, api, key):
    settings.GRAPHQL_LIMITS = {**settings.GRAPHQL_LIMITS, "STATEMENT_TIMEOUT_MS": 1234}
    seen = []

    def spy(self) -> int:
        seen.append(session_timeout())
        return 0

    monkeypatch.setattr(KeysetPage, "total_count", property(spy))
    api.post(COUNT, key=key)
    assert seen == ["1234ms"]
    assert session_timeout() == "0"


def test_zero_switches_it_off(settings, monkeypatch, api, key):
    settings.GRAPHQL_LIMITS = {**settings.GRAPHQL_LIMITS, "STATEMENT_TIMEOUT_MS": 0}
    seen = []
    monkeypatch.setattr(
        KeysetPage, "total_count", property(lambda self: seen.append(session_timeout()) or 0)
    )
    api.post(COUNT, key=key)
    assert seen == ["0"]
