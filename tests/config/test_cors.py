"""CORS (issue 27 item 3; config/settings.py's CORS_* block, django-cors-headers): browsers on
the origins an operator lists may call the API (`/graphql` and `/graphql/`) with every header a
client of either API sends; nothing is allowed by default; every other path (the admin, the
health probes) never answers CORS, whatever is listed.

The browser's own enforcement of these answers (a page on another origin calling a live
server) is tests/browser/test_cors.py.
"""

import json

import pytest
from django.test import Client, override_settings

from apikeys.models import APIKey
from tests.factories import UserFactory
from tests.subprocesses import run_manage

ALLOWED = "https://app.example.com"
REFUSED = "https://evil.example.net"
#: Everything a client of the two APIs may send from a browser (apikeys.auth's key styles,
#: Healthie's version header, the Idempotency-Key, a body's type and encoding).
CLIENT_HEADERS = (
    "authorization",
    "authorizationsource",
    "x-teachify-api-key",
    "healthie-graphql-api-version",
    "idempotency-key",
    "content-type",
    "content-encoding",
)
API_PATHS = ("/graphql/", "/graphql")
QUERY = "{ courseMemberships(first: 1) { nodes { id } } }"

listed = override_settings(CORS_ALLOWED_ORIGINS=[ALLOWED])


def preflight(client: Client, path: str, origin: str, method: str = "POST"):
    return client.options(
        path,
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD=method,
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS=", ".join(CLIENT_HEADERS),
    )


def new_key() -> str:
    return APIKey.objects.create_key(user=UserFactory())[1]


def comma_list(value: str) -> set[str]:
    return {part.strip().lower() for part in value.split(",") if part.strip()}


@listed
@pytest.mark.parametrize("path", API_PATHS)
@pytest.mark.parametrize("method", ["POST", "GET"])
def test_a_preflight_from_a_listed_origin_allows_every_client_header(client, path, method):
    response = preflight(client, path, ALLOWED, method)
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == ALLOWED
    assert set(CLIENT_HEADERS) <= comma_list(response["Access-Control-Allow-Headers"])
    assert comma_list(response["Access-Control-Allow-Methods"]) == {"get", "post", "options"}
    assert response["Access-Control-Max-Age"] == "7200"
    # No credentials: keys are headers, never cookies (docs/api.md).
    assert "Access-Control-Allow-Credentials" not in response
    assert "origin" in comma_list(response["Vary"])


@listed
@pytest.mark.parametrize("path", API_PATHS)
def test_a_preflight_from_an_origin_not_listed_allows_nothing(client, path):
    response = preflight(client, path, REFUSED)
    assert not [name for name in response.headers if name.lower().startswith("access-control-")]


@listed
def test_an_origin_is_matched_whole_scheme_host_and_port(client):
    for near_miss in (
        "http://app.example.com",  # another scheme
        "https://app.example.com:8443",  # another port
        "https://app.example.com.evil.example.net",  # a suffix
        "https://sub.app.example.com",  # a subdomain
        "null",  # a sandboxed frame or a file: page
    ):
        response = preflight(client, "/graphql/", near_miss)
        assert "Access-Control-Allow-Origin" not in response, near_miss


def test_by_default_no_origin_is_allowed(client):
    """The suite's settings are the app's own: no origin listed unless the environment lists
    one (the variable's default, checked in a process of its own below)."""
    response = preflight(client, "/graphql/", ALLOWED)
    assert "Access-Control-Allow-Origin" not in response


def test_the_allow_list_comes_from_the_environment_and_is_empty_without_it():
    show = "from django.conf import settings as s; print(s.CORS_ALLOWED_ORIGINS)"
    unset = run_manage("shell", "--no-imports", "-c", show, DEBUG="true")
    assert unset.returncode == 0, unset.stderr
    assert unset.stdout.strip() == "[]"
    both = f"{ALLOWED},http://localhost:3000"
    given = run_manage("shell", "--no-imports", "-c", show, DEBUG="true", CORS_ALLOWED_ORIGINS=both)
    assert given.stdout.strip() == str([ALLOWED, "http://localhost:3000"])


def test_a_malformed_origin_stops_the_app_at_its_checks():
    """An origin with a path (or without a scheme) never matches a browser's Origin header:
    django-cors-headers' system check refuses it instead of letting it fail silently."""
    result = run_manage(
        "check", DEBUG="true", CORS_ALLOWED_ORIGINS="app.example.com,https://a.example.com/path"
    )
    assert result.returncode != 0
    assert "corsheaders.E013" in result.stderr
    assert "corsheaders.E014" in result.stderr


@listed
@pytest.mark.django_db
@pytest.mark.parametrize("path", API_PATHS)
def test_the_actual_request_is_readable_by_the_listed_origin(client, path):
    key = new_key()
    response = client.post(
        path,
        json.dumps({"query": QUERY}),
        content_type="application/json",
        HTTP_ORIGIN=ALLOWED,
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    assert response.status_code == 200
    assert response.json()["data"] == {"courseMemberships": {"nodes": []}}
    assert response["Access-Control-Allow-Origin"] == ALLOWED
    exposed = comma_list(response["Access-Control-Expose-Headers"])
    assert {"retry-after", "idempotent-replayed", "x-request-id", "www-authenticate"} <= exposed
    assert "Access-Control-Allow-Credentials" not in response
    # The preflight's own headers are not repeated on the actual answer.
    assert "Access-Control-Allow-Headers" not in response


@listed
@pytest.mark.django_db
def test_the_actual_request_from_an_origin_not_listed_is_not_readable(client):
    """The server still answers (CORS is the browser's to enforce: tests/browser/test_cors.py)
    but gives the browser nothing that lets the page read it."""
    key = new_key()
    response = client.post(
        "/graphql/",
        json.dumps({"query": QUERY}),
        content_type="application/json",
        HTTP_ORIGIN=REFUSED,
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    assert "Access-Control-Allow-Origin" not in response
    assert "Access-Control-Expose-Headers" not in response


@listed
@pytest.mark.django_db
def test_a_refused_key_is_readable_too_so_the_page_can_say_why(client):
    response = client.post(
        "/graphql/",
        json.dumps({"query": QUERY}),
        content_type="application/json",
        HTTP_ORIGIN=ALLOWED,
        HTTP_X_TEACHIFY_API_KEY="not-a-key",
    )
    assert response.status_code == 401
    assert response["Access-Control-Allow-Origin"] == ALLOWED
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


@listed
@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/admin/", "/admin/login/", "/healthz", "/readyz", "/"])
def test_other_paths_never_answer_cors_even_to_a_listed_origin(client, path):
    assert "Access-Control-Allow-Origin" not in preflight(client, path, ALLOWED)
    response = client.get(path, HTTP_ORIGIN=ALLOWED)
    assert "Access-Control-Allow-Origin" not in response
    assert "Access-Control-Expose-Headers" not in response


@listed
@pytest.mark.django_db
def test_a_staff_session_cannot_be_used_from_a_listed_origin():
    """No credentials are allowed: the browser sends a page's cookies only with
    `credentials: "include"`, and then refuses the answer without
    Access-Control-Allow-Credentials (and refuses to send a request that needs a preflight).
    What reaches the server anyway (a simple POST) still meets the CSRF check."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    assert "Access-Control-Allow-Credentials" not in preflight(client, "/graphql/", ALLOWED)
    response = client.post(
        "/graphql/",
        json.dumps({"query": QUERY}),
        content_type="application/json",
        HTTP_ORIGIN=ALLOWED,
    )
    assert "Access-Control-Allow-Credentials" not in response
    assert response.status_code == 403
    assert response.json()["errors"][0]["extensions"]["code"] == "CSRF_FAILED"
