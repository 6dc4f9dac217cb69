"""/healthz answers without the database; /readyz fails (503) on the database only and reports a
cache that does not answer as degraded (200), naming the part either way. Both need no log-in and
are not redirected to HTTPS. (The production smoke in .ci/run stops a real PostgreSQL under a
running gunicorn and sees /readyz answer 503.)"""

import pytest
from django.db import OperationalError, connection

from config import health

UNREACHABLE_REDIS = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:9/0",  # the discard port: nothing listens
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }
}


@pytest.fixture
def unreachable_redis(settings) -> None:
    """The default cache is a Redis that nothing answers for (the test's whole length)."""
    settings.CACHES = UNREACHABLE_REDIS


def test_healthz_answers_without_touching_the_database(client):
    response = client.get("/healthz")  # no django_db mark: a query would fail the test
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_readyz_is_ok_when_the_database_and_the_cache_answer(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "cache": "ok"}}


def _check_fails(monkeypatch) -> None:
    """The database check itself fails."""

    def down() -> None:
        raise OperationalError("connection refused")

    monkeypatch.setitem(health.CHECKS, "database", down)


def _connection_fails(monkeypatch) -> None:
    """Every new cursor fails as the driver fails when the server went away (Django wraps the
    driver's error into django.db.OperationalError, as for a real outage)."""

    def create_cursor(name=None):
        raise connection.Database.OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(connection, "create_cursor", create_cursor)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("database_fails", "error_text"),
    [(_check_fails, "connection refused"), (_connection_fails, "server closed")],
    ids=["check", "connection"],
)
def test_readyz_fails_on_a_failing_database_and_names_it(
    client, monkeypatch, database_fails, error_text
):
    database_fails(monkeypatch)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": "OperationalError", "cache": "ok"},
        "failing": ["database"],
    }
    assert error_text not in response.content.decode()  # the error's name, not its text


@pytest.mark.django_db
def test_readyz_reports_an_unreachable_redis_as_degraded_not_unavailable(client, unreachable_redis):
    """A Redis outage must not take every app server out of the load balancer: requests still
    work without it (the rate limit fails open), so the answer is 200 with the cache's state."""
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "degraded",
        "checks": {"database": "ok", "cache": "ConnectionError"},
        "degraded": ["cache"],
    }


@pytest.mark.django_db
def test_readyz_reports_a_cache_that_loses_values_as_degraded(client, monkeypatch):
    monkeypatch.setattr(health.cache, "get", lambda *args, **kwargs: None)
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"]["cache"] == "RuntimeError"
    assert response.json()["status"] == "degraded"


@pytest.mark.django_db
def test_readyz_with_the_database_and_redis_down_fails_on_the_database(
    client, monkeypatch, unreachable_redis
):
    _connection_fails(monkeypatch)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": "OperationalError", "cache": "ConnectionError"},
        "failing": ["database"],
        "degraded": ["cache"],
    }


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_are_not_redirected_to_https(client, settings, path):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get(path).status_code == 200
    assert client.get("/admin/login/").status_code == 301  # everything else is


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_take_only_get_and_head(client, path):
    assert client.post(path).status_code == 405
    assert client.head("/healthz").status_code == 200
