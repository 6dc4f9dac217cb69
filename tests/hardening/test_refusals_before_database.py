"""Refusals cost (almost) nothing: documents over the limits, pages over 100 rows, rate-limited
requests and bad keys are refused before any query reads enrollments, courses or users' data.
The only SQL they may run is the API key's own look-up (and the permission check for a page
size, which is a resolver argument)."""

import hmac
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apikeys import models as apikey_models
from apikeys.auth import InvalidAPIKey, authenticate_key
from apikeys.models import APIKey
from tests.graphql.conftest import error_codes

pytestmark = pytest.mark.django_db

DATA_TABLES = ("enrollments_", "lms_course", "lms_courseitem")


@pytest.fixture
def key(make_key, manager, api):
    raw = make_key(manager)
    api.post("{ __typename }", key=raw)  # records the key's use (written once a minute)
    return raw


def refused(api, key, document, **headers) -> tuple[int, list[str], list[str]]:
    with CaptureQueriesContext(connection) as queries:
        body = api.client.post(
            "/graphql/",
            json.dumps({"query": document}),
            content_type="application/json",
            **({"HTTP_AUTHORIZATION": f"Bearer {key}"} if key else {}),
            **headers,
        )
    statements = [query["sql"] for query in queries.captured_queries]
    return body.status_code, error_codes(body.json()), statements


def data_queries(statements: list[str]) -> list[str]:
    return [sql for sql in statements if any(table in sql for table in DATA_TABLES)]


@pytest.mark.parametrize(
    ("document", "code"),
    [
        (
            "{ courseMemberships { edges { node { course { items { id } } } } } }" + " " * 10_000,
            "QUERY_TOO_LARGE",
        ),
        (
            "{ " + " ".join(f"a{n}: courseMemberships {{ total_count }}" for n in range(16)) + " }",
            "TOO_MANY_ALIASES",
        ),
        (
            "{ __schema { types { fields { type { " + "ofType { " * 11 + "name" + " }" * 15 + " }",
            "QUERY_TOO_DEEP",
        ),
        ("{ courseMemberships { edges { node { nope } } } }", "GRAPHQL_VALIDATION_FAILED"),
        ("{ courseMemberships(", "GRAPHQL_PARSE_FAILED"),
    ],
)
def test_documents_over_the_limits_are_refused_before_any_data_query(api, key, document, code):
    status, codes, statements = refused(api, key, document)
    assert (status, codes) == (200, [code])
    assert len(statements) == 1 and "apikeys_apikey" in statements[0]  # the key's look-up


def test_a_page_over_100_rows_reads_no_data(api, key):
    document = "{ courseMemberships(first: 101) { nodes { id } } }"
    status, codes, statements = refused(api, key, document)
    assert (status, codes) == (200, ["BAD_USER_INPUT"])
    assert data_queries(statements) == []


def test_a_rate_limited_request_runs_only_the_key_look_up(api, key, settings):
    settings.RATE_LIMIT = {**settings.RATE_LIMIT, "QUERIES": 0, "KEY_PREFIX": "refusals"}
    status, codes, statements = refused(api, key, "{ courseMemberships { nodes { id } } }")
    assert (status, codes) == (429, ["TOO_MANY_REQUESTS"])
    assert len(statements) == 1 and "apikeys_apikey" in statements[0]


def test_a_bad_key_runs_one_look_up_by_prefix_and_nothing_else(api, key):
    prefix = key.split(".")[0]
    status, codes, statements = refused(api, f"{prefix}.wrong-secret", "{ __typename }")
    assert (status, codes) == (401, ["UNAUTHENTICATED"])
    assert len(statements) == 1 and "apikeys_apikey" in statements[0]
    status, codes, statements = refused(api, "malformed", "{ __typename }")
    assert (status, codes, statements) == (401, ["UNAUTHENTICATED"], [])


def test_keys_are_compared_with_a_constant_time_comparison(manager, monkeypatch):
    """The hash of the presented key is compared with hmac.compare_digest, whose time does not
    depend on where the first difference is (a timing test would be too noisy for CI)."""
    _, raw = APIKey.objects.create_key(user=manager)
    calls = []
    compare_digest = hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return compare_digest(a, b)

    monkeypatch.setattr(apikey_models.hmac, "compare_digest", spy)
    prefix = raw.split(".")[0]
    with pytest.raises(InvalidAPIKey):
        authenticate_key(f"{prefix}.{'x' * 43}")
    assert authenticate_key(raw).user == manager
    stored = APIKey.objects.get(prefix=prefix).hashed_key
    assert [a for a, _ in calls] == [stored, stored]
    assert raw not in {b for _, b in calls}  # the raw key is hashed before comparing
