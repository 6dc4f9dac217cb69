"""/healthz answers without the database; /readyz checks the database and the cache and names the
part that fails. Both need no log-in and are not redirected to HTTPS. (The production smoke in
.ci/run stops a real PostgreSQL under a running gunicorn and sees /readyz answer 503.)"""

import pytest
from django.db import OperationalError
from django.test import override_settings

from config import health

UNREACHABLE_REDIS = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:9/0",  # the discard port: nothing listens
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }
}


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


@pytest.mark.django_db
def test_readyz_names_a_failing_database(client, monkeypatch):
    def down() -> None:
        raise OperationalError("connection refused")

    monkeypatch.setitem(health.CHECKS, "database", down)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": "OperationalError", "cache": "ok"},
        "failing": ["database"],
    }
    assert "connection refused" not in response.content.decode()


@pytest.mark.django_db
def test_readyz_names_an_unreachable_cache(client):
    with override_settings(CACHES=UNREACHABLE_REDIS):
        response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["cache"]
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["cache"] == "ConnectionError"


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
