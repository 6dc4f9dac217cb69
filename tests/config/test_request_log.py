"""LOG_REQUESTS=true: one JSON line per request with method, path, status, duration, the user
or API key, and a request id that the response carries in X-Request-ID."""

import json
import logging

import pytest
from django.test import Client

from apikeys.models import APIKey
from config.request_log import JsonFormatter

LOGGER = "course_access.requests"


@pytest.fixture
def log_requests(settings, caplog):
    settings.LOG_REQUESTS = True
    caplog.set_level(logging.INFO, logger=LOGGER)
    return caplog


def lines(caplog) -> list[dict]:
    """The request records, as the JSON formatter writes them."""
    formatter = JsonFormatter()
    return [json.loads(formatter.format(r)) for r in caplog.records if r.name == LOGGER]


def test_off_by_default(client, caplog, settings):
    assert settings.LOG_REQUESTS is False
    caplog.set_level(logging.INFO, logger=LOGGER)
    response = client.get("/healthz")
    assert "X-Request-ID" not in response
    assert lines(caplog) == []


def test_one_line_per_request_with_its_id(log_requests):
    response = Client().get("/healthz?secret=1")
    [line] = lines(log_requests)
    assert line["request_id"] == response["X-Request-ID"]
    assert len(line["request_id"]) == 32
    assert line["method"] == "GET"
    assert line["path"] == "/healthz"  # never the query string
    assert line["status"] == 200
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert line["user_id"] is None and line["api_key_id"] is None
    assert line["level"] == "INFO" and line["message"] == "request"
    assert line["time"].endswith("+00:00")


def test_a_bearer_request_logs_its_key_and_user(log_requests, user):
    api_key, raw = APIKey.objects.create_key(user=user)
    response = Client().post(
        "/graphql/",
        '{"query": "{ __typename }"}',
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {raw}",
    )
    assert response.status_code == 200
    [line] = lines(log_requests)
    assert line["api_key_id"] == str(api_key.pk)
    assert line["user_id"] == str(user.pk)
    assert line["status"] == 200 and line["path"] == "/graphql/"


def test_a_signed_in_staff_request_logs_the_user(log_requests, staff):
    client = Client()
    client.force_login(staff)
    assert client.get("/admin/").status_code == 200
    [line] = lines(log_requests)
    assert line["user_id"] == str(staff.pk)
    assert line["api_key_id"] is None


def test_an_error_is_logged_with_its_status(log_requests, db):
    response = Client().get("/no-such-page/")
    assert response.status_code == 404
    assert lines(log_requests)[0]["status"] == 404


@pytest.mark.parametrize(
    ("incoming", "kept"),
    [
        ("edge-3f2a.1_b", True),
        ("x" * 64, True),
        ("x" * 65, False),
        ("bad id\nforged line", False),
        ('"}{"status": 200', False),
    ],
)
def test_a_proxys_request_id_is_kept_only_when_sane(log_requests, incoming, kept):
    response = Client().get("/healthz", HTTP_X_REQUEST_ID=incoming)
    assert (response["X-Request-ID"] == incoming) is kept
    assert lines(log_requests)[0]["request_id"] == response["X-Request-ID"]
