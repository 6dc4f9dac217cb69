"""Error answers outside the API's view (config/errors.py): JSON in the API's error shape for a
request that asked for JSON (a JSON or GraphQL body, or an Accept preferring JSON), Django's own
HTML pages for everyone else."""

import json

import pytest
from django.test import Client

from tests.factories import StaffFactory

GRAPHQL = json.dumps({"query": "{ __typename }"})
HINT = "is not the GraphQL API: send GraphQL requests to /graphql/ (or /graphql)."


@pytest.fixture
def csrf_client() -> Client:
    return Client(enforce_csrf_checks=True)


def body(response) -> dict:
    assert response["Content-Type"] == "application/json"
    return json.loads(response.content)


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/admin/graphql", "/admin/login/"])
def test_a_graphql_post_to_another_path_gets_the_csrf_refusal_in_json(csrf_client, path):
    response = csrf_client.post(path, GRAPHQL, content_type="application/json")
    assert response.status_code == 403
    assert body(response) == {
        "errors": [
            {
                "message": f"CSRF check failed: CSRF cookie not set. POST {path} {HINT}",
                "extensions": {"code": "CSRF_FAILED"},
            }
        ]
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("content_type", "accept"),
    [
        ("application/graphql", None),
        ("application/graphql-response+json", None),
        ("application/x-www-form-urlencoded", "application/json"),
        ("text/plain", "application/graphql-response+json, application/json;q=0.9"),
    ],
)
def test_a_body_or_accept_asking_for_json_is_enough(csrf_client, content_type, accept):
    headers = {"HTTP_ACCEPT": accept} if accept else {}
    response = csrf_client.post("/", "x", content_type=content_type, **headers)
    assert response.status_code == 403
    assert [e["extensions"]["code"] for e in body(response)["errors"]] == ["CSRF_FAILED"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "accept", [None, "*/*", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"]
)
def test_browsers_and_forms_keep_djangos_csrf_page(csrf_client, accept):
    headers = {"HTTP_ACCEPT": accept} if accept else {}
    response = csrf_client.post("/admin/login/", {"username": "x"}, **headers)
    assert response.status_code == 403
    assert response["Content-Type"].startswith("text/html")
    assert b"CSRF verification failed" in response.content


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/graphql", "/graphql/v1", "/graphql//"])
def test_a_json_request_to_no_path_gets_404_in_json(client, path):
    response = client.post(path, GRAPHQL, content_type="application/json")
    assert response.status_code == 404
    assert body(response) == {
        "errors": [
            {"message": f"Not found. POST {path} {HINT}", "extensions": {"code": "NOT_FOUND"}}
        ]
    }
    by_accept = client.get(path, HTTP_ACCEPT="application/json")
    assert (by_accept.status_code, body(by_accept)["errors"][0]["extensions"]["code"]) == (
        404,
        "NOT_FOUND",
    )


@pytest.mark.django_db
def test_a_browser_still_gets_the_html_404(client):
    response = client.get("/no/such/page/", HTTP_ACCEPT="text/html")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.django_db
def test_the_apis_own_csrf_refusal_stays_the_views(csrf_client):
    """A signed-in session's POST to the API without its token: the view's JSON 403, no hint."""
    csrf_client.force_login(StaffFactory())
    response = csrf_client.post("/graphql/", GRAPHQL, content_type="application/json")
    assert response.status_code == 403
    error = body(response)["errors"][0]
    assert error["extensions"]["code"] == "CSRF_FAILED"
    assert "not the GraphQL API" not in error["message"]


@pytest.mark.django_db
@pytest.mark.urls("tests.config.error_urls")
def test_a_server_error_outside_the_api_is_json_without_details(settings):
    settings.DEBUG = False
    client = Client(raise_request_exception=False)
    response = client.post("/boom/", GRAPHQL, content_type="application/json")
    assert response.status_code == 500
    assert body(response) == {
        "errors": [
            {"message": "Internal server error", "extensions": {"code": "INTERNAL_SERVER_ERROR"}}
        ]
    }
    assert b"table_that_does_not_exist" not in response.content
    html = client.get("/boom/")
    assert html.status_code == 500
    assert html["Content-Type"].startswith("text/html")
