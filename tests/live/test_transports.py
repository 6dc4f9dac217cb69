"""Apollo's transports, compression and JSON error pages over real HTTP (a live server and httpx):
a GET with `Content-Type: application/json`, the automatic persisted queries' sequence as Apollo
Client sends it (hash-only GET, the miss, the text by POST, hash-only GET answered) in two API
versions with one stored entry, gzip both ways, and a GraphQL POST to a path that is not the
API's answered in JSON."""

import gzip
import hashlib
import json

import pytest
from django.core.cache import caches

pytestmark = pytest.mark.django_db(transaction=True)

QUERY = "query Statuses { courseMemberships(first: 5) { nodes { course_status } } }"
SHA256 = hashlib.sha256(QUERY.encode()).hexdigest()
EXTENSIONS = json.dumps({"persistedQuery": {"version": 1, "sha256Hash": SHA256}})
VERSION = "Healthie-GraphQL-API-Version"


def statuses(response) -> set:
    return {node["course_status"] for node in response.json()["data"]["courseMemberships"]["nodes"]}


def test_apollo_get_and_persisted_queries_sequence(live_api, school):
    caches["default"].delete(f"apq:{SHA256}")  # the store of this process (locmem)
    headers = {
        "Authorization": f"Basic {school.key}",
        "AuthorizationSource": "API",
        "Content-Type": "application/json",  # Apollo's, on a GET without a body
        "Accept": "application/graphql-response+json,application/json;q=0.9",
    }
    plain_get = live_api.http.get("/graphql", params={"query": QUERY}, headers=headers)
    assert plain_get.status_code == 200, plain_get.text
    assert statuses(plain_get) == {"in_progress", "not_started"}

    hashed = {"operationName": "Statuses", "variables": "{}", "extensions": EXTENSIONS}
    miss = live_api.http.get("/graphql", params=hashed, headers=headers)
    assert miss.status_code == 400  # graphql-response+json: an error before execution
    assert miss.json() == {
        "errors": [
            {
                "message": "PersistedQueryNotFound",
                "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"},
            }
        ]
    }
    assert miss.headers["Cache-Control"] == "private, no-cache, must-revalidate"
    registered = live_api.http.post(
        "/graphql",
        json={"query": QUERY, "operationName": "Statuses", "extensions": json.loads(EXTENSIONS)},
        headers=headers,
    )
    assert registered.status_code == 200
    hit = live_api.http.get("/graphql", params=hashed, headers=headers)
    assert hit.status_code == 200
    assert statuses(hit) == {"in_progress", "not_started"}
    # The stored text, validated and answered in the version the request asks for.
    newest = live_api.http.get(
        "/graphql", params=hashed, headers={**headers, VERSION: "2026-01-01"}
    )
    assert statuses(newest) == {"IN_PROGRESS", "NOT_STARTED"}

    mutation = "mutation { __typename }"
    over_get = live_api.http.get("/graphql", params={"query": mutation}, headers=headers)
    assert over_get.status_code == 405
    assert over_get.headers["Allow"] == "POST"


def test_gzip_both_ways(live_api, school):
    document = (
        "{ courseMemberships(first: 5) { nodes { id course_status created_at updated_at"
        " user { id email name } course { id title } } } }"
    )
    response = live_api.http.post(
        "/graphql/",
        content=gzip.compress(json.dumps({"query": document}).encode()),
        headers={
            "Authorization": f"Bearer {school.key}",
            "Content-Type": "application/json",
            "Content-Encoding": "gzip",
            "Accept-Encoding": "gzip",
        },
    )
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == "gzip"
    assert int(response.headers["Content-Length"]) < len(response.content)  # httpx inflated it
    assert len(response.json()["data"]["courseMemberships"]["nodes"]) == 5
    bomb = gzip.compress(b" " * 3_000_000)
    refused = live_api.http.post(
        "/graphql/",
        content=bomb,
        headers={
            "Authorization": f"Bearer {school.key}",
            "Content-Type": "application/json",
            "Content-Encoding": "gzip",
        },
    )
    assert refused.status_code == 413
    assert refused.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


def test_a_graphql_post_elsewhere_is_answered_in_json(live_api, school):
    body = {"query": "{ __typename }"}
    headers = {"Authorization": f"Bearer {school.key}"}
    not_found = live_api.http.post("/api/graphql", json=body, headers=headers)
    assert not_found.status_code == 404
    assert not_found.headers["Content-Type"] == "application/json"
    assert not_found.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    csrf = live_api.http.post("/", json=body, headers=headers)
    assert csrf.status_code == 403
    assert csrf.json()["errors"][0]["extensions"]["code"] == "CSRF_FAILED"
    assert "/graphql/" in csrf.json()["errors"][0]["message"]
    browser = live_api.http.post("/", data={"query": "x"}, headers={"Accept": "text/html"})
    assert browser.status_code == 403
    assert browser.headers["Content-Type"].startswith("text/html")


def test_another_method_and_a_multipart_file_are_refused_over_http(live_api, school):
    """Over a real socket: a PUT carrying a persisted query's hash is 405 with `Allow` (it was
    answered PERSISTED_QUERY_NOT_FOUND, which has Apollo send it again by the same method), and
    a multipart body carrying a file is 400 (the API takes none; its parts went past the size
    limit to disk)."""
    headers = {"Authorization": f"Basic {school.key}", "AuthorizationSource": "API"}
    put = live_api.http.put(
        "/graphql", json={"extensions": json.loads(EXTENSIONS)}, headers=headers
    )
    assert (put.status_code, put.headers["Allow"]) == (405, "GET, POST")

    with_a_file = live_api.http.post(
        "/graphql",
        data={"query": "{ __typename }"},
        files={"upload": ("big.bin", b"x" * 10_000, "application/octet-stream")},
        headers=headers,
    )
    assert with_a_file.status_code == 400
    assert with_a_file.json()["errors"][0]["message"] == (
        "A multipart body cannot carry files: the API takes none."
    )
    fields_only = live_api.http.post(
        "/graphql", files={"query": (None, "{ __typename }")}, headers=headers
    )
    assert (fields_only.status_code, fields_only.json()) == (200, {"data": {"__typename": "Query"}})
