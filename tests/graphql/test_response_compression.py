"""Compressed answers (config/compression.py): the API's JSON gzipped when the client accepts gzip
and the answer is at least 1 KB; small answers, other clients and the admin's HTML pages
(BREACH) left as they are; Vary: Accept-Encoding on the API's answers either way."""

import gzip
import json

import pytest

from config.compression import MIN_LENGTH
from tests.factories import EnrollmentFactory

PAGE = "{ courseMemberships(first: 50) { nodes { id course_status created_at } } }"
SMALL = "{ courseMemberships(first: 1) { total_count } }"


@pytest.fixture
def key(viewer, make_key) -> str:
    EnrollmentFactory.create_batch(30)
    return make_key(viewer)


def post(client, query, key, **headers):
    return client.post(
        "/graphql/",
        json.dumps({"query": query}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
        **headers,
    )


def varies(response) -> list[str]:
    """The header names of the answer's Vary (CORS adds `origin` after ours)."""
    return [name.strip() for name in response.get("Vary", "").split(",")]


def test_a_large_answer_is_gzipped_for_a_client_that_accepts_it(client, key):
    plain = post(client, PAGE, key)
    assert "Content-Encoding" not in plain
    assert len(plain.content) > MIN_LENGTH
    compressed = post(client, PAGE, key, HTTP_ACCEPT_ENCODING="gzip, deflate, br")
    assert compressed["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in varies(compressed)
    assert int(compressed["Content-Length"]) == len(compressed.content) < len(plain.content) / 3
    assert json.loads(gzip.decompress(compressed.content)) == plain.json()
    assert len(plain.json()["data"]["courseMemberships"]["nodes"]) == 30


def test_graphql_response_json_is_compressed_too(client, key):
    response = post(
        client,
        PAGE,
        key,
        HTTP_ACCEPT_ENCODING="gzip",
        HTTP_ACCEPT="application/graphql-response+json",
    )
    assert response["Content-Type"] == "application/graphql-response+json"
    assert response["Content-Encoding"] == "gzip"


def test_a_small_answer_is_sent_as_it_is_with_vary(client, key):
    response = post(client, SMALL, key, HTTP_ACCEPT_ENCODING="gzip")
    assert "Content-Encoding" not in response
    assert "Accept-Encoding" in varies(response)
    assert response.json() == {"data": {"courseMemberships": {"total_count": 30}}}


def test_a_get_query_is_compressed(client, key):
    response = client.get(
        "/graphql",
        {"query": PAGE},
        HTTP_AUTHORIZATION=f"Bearer {key}",
        HTTP_ACCEPT_ENCODING="gzip",
    )
    assert response["Content-Encoding"] == "gzip"
    assert (
        len(json.loads(gzip.decompress(response.content))["data"]["courseMemberships"]["nodes"])
        == 30
    )


def test_the_admins_html_is_never_compressed(admin_client, key):
    """BREACH: the changelist echoes the search next to learners' e-mails and a CSRF token."""
    response = admin_client.get("/admin/enrollments/enrollment/?q=a", HTTP_ACCEPT_ENCODING="gzip")
    assert response.status_code == 200
    assert len(response.content) > 10 * MIN_LENGTH
    assert "Content-Encoding" not in response
    assert "Accept-Encoding" not in response.get("Vary", "")
