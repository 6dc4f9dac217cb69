"""Apollo's transports (enrollments/graphql/persisted.py, request_body.py): GET with a JSON
Content-Type, automatic persisted queries by POST and by GET, the hash check, the store's
bounds, and that a stored document still goes through the limits, the cost model and the rate
limiter."""

import json
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.core.cache import caches

from enrollments.graphql import execution
from enrollments.graphql.persisted import sha256_of
from tests.graphql.conftest import error_codes
from tests.graphql.documents import EXTEND

QUERY = "query Count { courseMemberships(first: 1) { total_count } }"
MUTATION = 'mutation Ping { sendTestWebhook(input: {id: "x"}) { messages { message } } }'
JSON = "application/json"


@pytest.fixture(autouse=True)
def empty_store():
    caches["default"].clear()
    execution.clear_caches()


@pytest.fixture
def key(viewer, make_key) -> str:
    return make_key(viewer)


def extensions(document: str, sha256: str | None = None) -> dict:
    return {"persistedQuery": {"version": 1, "sha256Hash": sha256 or sha256_of(document)}}


def post(client, body, key=None, **headers):
    if key is not None:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {key}"
    return client.post("/graphql/", json.dumps(body), content_type=JSON, **headers)


def get(client, params, key=None, **headers):
    """A GET as Apollo Client sends it: JSON-encoded variables and extensions in the query
    string, and `Content-Type: application/json` although there is no body."""
    encoded = {
        name: json.dumps(value) if isinstance(value, dict) else value
        for name, value in params.items()
    }
    if key is not None:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {key}"
    return client.get(f"/graphql/?{urlencode(encoded)}", CONTENT_TYPE=JSON, **headers)


def test_a_get_with_a_json_content_type_runs_its_query(client, key):
    response = get(client, {"query": QUERY, "operationName": "Count"}, key)
    assert response.status_code == 200, response.content
    assert response.json() == {"data": {"courseMemberships": {"total_count": 0}}}


def test_a_get_with_variables_as_apollo_encodes_them(client, key):
    document = "query Page($n: Int) { courseMemberships(first: $n) { total_count } }"
    response = get(client, {"query": document, "variables": {"n": 2}}, key)
    assert response.json() == {"data": {"courseMemberships": {"total_count": 0}}}


def test_a_mutation_over_get_is_405_with_allow_post(client, key):
    response = get(client, {"query": MUTATION}, key)
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert "mutation operation from a POST request" in response.json()["errors"][0]["message"]


def test_an_unknown_hash_answers_persisted_query_not_found_as_apollo_server(client, key):
    response = post(client, {"extensions": extensions(QUERY)}, key)
    assert response.status_code == 200
    assert response.json() == {
        "errors": [
            {
                "message": "PersistedQueryNotFound",
                "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"},
            }
        ]
    }
    assert response["Cache-Control"] == "private, no-cache, must-revalidate"


def test_graphql_response_json_answers_the_miss_400_like_any_error_before_execution(client, key):
    response = post(
        client,
        {"extensions": extensions(QUERY)},
        key,
        HTTP_ACCEPT="application/graphql-response+json, application/json;q=0.9",
    )
    assert response.status_code == 400
    assert response["Content-Type"] == "application/graphql-response+json"
    assert error_codes(response.json()) == ["PERSISTED_QUERY_NOT_FOUND"]


def test_apollo_round_trip_by_post_miss_register_then_hash_only(client, key):
    """Apollo Client's sequence: the hash alone (miss), the text with the hash (runs, stored),
    then the hash alone again (answered from the store)."""
    first = post(client, {"extensions": extensions(QUERY), "operationName": "Count"}, key)
    assert error_codes(first.json()) == ["PERSISTED_QUERY_NOT_FOUND"]
    second = post(client, {"query": QUERY, "extensions": extensions(QUERY)}, key)
    assert second.json() == {"data": {"courseMemberships": {"total_count": 0}}}
    assert caches["default"].get(f"apq:{sha256_of(QUERY)}") == QUERY
    third = post(client, {"extensions": extensions(QUERY), "operationName": "Count"}, key)
    assert third.json() == {"data": {"courseMemberships": {"total_count": 0}}}


def test_apollo_round_trip_by_get_with_use_get_for_hashed_queries(client, key):
    params = {"operationName": "Count", "extensions": extensions(QUERY)}
    miss = get(client, params, key)
    assert (miss.status_code, error_codes(miss.json())) == (200, ["PERSISTED_QUERY_NOT_FOUND"])
    registered = get(client, {**params, "query": QUERY}, key)
    assert registered.json() == {"data": {"courseMemberships": {"total_count": 0}}}
    hit = get(client, params, key)
    assert hit.status_code == 200
    assert hit.json() == {"data": {"courseMemberships": {"total_count": 0}}}


def test_a_hash_that_is_not_the_texts_is_refused_and_nothing_is_stored(client, key):
    other = sha256_of("{ __typename }")
    response = post(client, {"query": QUERY, "extensions": extensions(QUERY, other)}, key)
    assert response.status_code == 400
    assert response.json() == {
        "errors": [
            {
                "message": "provided sha does not match query",
                "extensions": {"code": "BAD_REQUEST"},
            }
        ]
    }
    assert caches["default"].get(f"apq:{other}") is None


@pytest.mark.parametrize(
    ("persisted", "message"),
    [
        ({"version": 2, "sha256Hash": "0" * 64}, "Unsupported persisted query version"),
        ("abc", "Unsupported persisted query version"),
        (
            {"version": 1, "sha256Hash": "ABC"},
            "persistedQuery.sha256Hash must be 64 lower-case hex digits.",
        ),
    ],
)
def test_a_malformed_persisted_query_is_400(client, key, persisted, message):
    response = post(client, {"extensions": {"persistedQuery": persisted}}, key)
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"message": message, "extensions": {"code": "BAD_REQUEST"}}
    ]


def test_extensions_that_are_not_json_in_a_get_are_400(client, key):
    response = client.get("/graphql/?extensions=%7Bnope", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.status_code == 400
    assert error_codes(response.json()) == ["BAD_REQUEST"]


def test_an_anonymous_client_cannot_fill_the_store(client):
    response = post(client, {"query": QUERY, "extensions": extensions(QUERY)})
    assert error_codes(response.json()) == ["UNAUTHENTICATED"]
    assert caches["default"].get(f"apq:{sha256_of(QUERY)}") is None


def test_documents_over_the_length_limit_or_that_do_not_parse_are_not_stored(client, key, settings):
    settings.GRAPHQL_LIMITS = {**settings.GRAPHQL_LIMITS, "MAX_QUERY_LENGTH": 40}
    response = post(client, {"query": QUERY, "extensions": extensions(QUERY)}, key)
    assert error_codes(response.json()) == ["QUERY_TOO_LARGE"]
    broken = "{ courseMemberships("
    response = post(client, {"query": broken, "extensions": extensions(broken)}, key)
    assert error_codes(response.json()) == ["GRAPHQL_PARSE_FAILED"]
    assert caches["default"].get(f"apq:{sha256_of(QUERY)}") is None
    assert caches["default"].get(f"apq:{sha256_of(broken)}") is None


def test_a_stored_mutation_is_still_refused_over_get(client, key):
    caches["default"].set(f"apq:{sha256_of(MUTATION)}", MUTATION)
    response = get(client, {"extensions": extensions(MUTATION)}, key)
    assert response.status_code == 405
    assert response["Allow"] == "POST"


def test_a_stored_document_is_still_priced_and_limited(client, key, settings):
    """The store holds text, which then runs as if sent: the depth, alias and cost limits
    apply to it, whoever stored it (here: put in the cache directly)."""
    aliases = (
        "{ " + " ".join(f"a{n}: courseMemberships {{ total_count }}" for n in range(16)) + " }"
    )
    caches["default"].set(f"apq:{sha256_of(aliases)}", aliases)
    response = post(client, {"extensions": extensions(aliases)}, key)
    assert error_codes(response.json()) == ["TOO_MANY_ALIASES"]
    settings.GRAPHQL_LIMITS = {**settings.GRAPHQL_LIMITS, "MAX_COST": 1}
    caches["default"].set(f"apq:{sha256_of(QUERY)}", QUERY)
    response = post(client, {"extensions": extensions(QUERY)}, key)
    assert error_codes(response.json()) == ["QUERY_TOO_COSTLY"]


def test_a_stored_document_counts_against_the_rate_limit(client, key, settings):
    # One window for both requests (a minute's boundary between them would reset the budget).
    settings.RATE_LIMIT = {
        **settings.RATE_LIMIT,
        "QUERIES": 1,
        "KEY_PREFIX": "apq-test",
        "WINDOW_SECONDS": 10**9,
    }
    caches["default"].set(f"apq:{sha256_of(QUERY)}", QUERY)
    assert "data" in post(client, {"extensions": extensions(QUERY)}, key).json()
    spent = post(client, {"extensions": extensions(QUERY)}, key)
    assert (spent.status_code, error_codes(spent.json())) == (429, ["TOO_MANY_REQUESTS"])


def test_a_failing_cache_is_a_miss_and_the_text_still_runs(client, key, monkeypatch, settings):
    """A miss, then the text runs unstored; after BREAKER_FAILURES failures in a row the
    breaker stops asking the cache (a hung Redis would cost every request its timeout)."""
    settings.RATE_LIMIT = {**settings.RATE_LIMIT, "BREAKER_FAILURES": 3}
    calls = []

    class Broken:
        def get(self, *args, **_kwargs):
            calls.append(args[0])
            raise ConnectionError("down")

        set = get

    monkeypatch.setattr("enrollments.graphql.persisted.caches", {"default": Broken()})
    miss = post(client, {"extensions": extensions(QUERY)}, key)
    assert error_codes(miss.json()) == ["PERSISTED_QUERY_NOT_FOUND"]
    sent = post(client, {"query": QUERY, "extensions": extensions(QUERY)}, key)
    assert sent.json() == {"data": {"courseMemberships": {"total_count": 0}}}
    assert len(calls) == 2
    post(client, {"extensions": extensions(QUERY)}, key)  # the third failure opens it
    for _ in range(3):
        again = post(client, {"extensions": extensions(QUERY)}, key)
        assert error_codes(again.json()) == ["PERSISTED_QUERY_NOT_FOUND"]
        sent = post(client, {"query": QUERY, "extensions": extensions(QUERY)}, key)
        assert sent.json() == {"data": {"courseMemberships": {"total_count": 0}}}
    assert len(calls) == 3


def test_a_persisted_mutation_keeps_its_idempotency_key(client, manager, make_key, enrollment):
    """The fingerprint is the document's, not the hash's: the text with its hash, then the hash
    alone with the same Idempotency-Key, is one request (replayed, extended once); the same key
    with other variables is refused."""
    key = make_key(manager)
    variables = {
        "userId": str(enrollment.user_id),
        "courseId": str(enrollment.course_id),
        "extensionDays": 5,
    }
    ended_at = enrollment.ended_at
    headers = {"HTTP_IDEMPOTENCY_KEY": "renewal-1"}
    body = {"query": EXTEND, "variables": variables, "extensions": extensions(EXTEND)}
    first = post(client, body, key, **headers)
    assert first.json()["data"]["extendStudentCourseAccess"]["enrollment"] is not None
    hash_only = {"variables": variables, "extensions": extensions(EXTEND)}
    again = post(client, hash_only, key, **headers)
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    enrollment.refresh_from_db()
    assert enrollment.ended_at == ended_at + timedelta(days=5)
    other = post(
        client, {**hash_only, "variables": {**variables, "extensionDays": 6}}, key, **headers
    )
    assert (other.status_code, error_codes(other.json())) == (422, ["IDEMPOTENCY_KEY_REUSED"])
