"""Limits: document length, depth, aliases, batching off, introspection for signed-in clients,
and errors that never leak internals."""

import json
import time

import pytest
from graphql import get_introspection_query

from enrollments.graphql.limits import limits
from tests.graphql.conftest import error_codes

pytestmark = pytest.mark.django_db


@pytest.fixture
def key(make_key, viewer) -> str:
    return make_key(viewer)


def test_a_document_longer_than_the_limit_is_refused(api, key, settings):
    settings.GRAPHQL_LIMITS = {**settings.GRAPHQL_LIMITS, "MAX_QUERY_LENGTH": 100}
    body = api.post("{ __typename }" + " " * 100, key=key)
    assert error_codes(body) == ["QUERY_TOO_LARGE"]
    assert api.last_response.status_code == 200  # application/json: a well-formed request
    assert "errors" not in api.post("{ __typename }", key=key)


def test_depth_is_limited(api, key, settings):
    settings.GRAPHQL_LIMITS = {**settings.GRAPHQL_LIMITS, "MAX_DEPTH": 4}
    # courseMemberships > edges > node > id: four levels (the leaf counts), allowed.
    assert "errors" not in api.post("{ courseMemberships { edges { node { id } } } }", key=key)
    body = api.post("{ courseMemberships { edges { node { course { id } } } } }", key=key)
    assert error_codes(body) == ["QUERY_TOO_DEEP"]
    assert body["errors"][0]["message"] == "The query is 5 levels deep; the limit is 4"


def test_depth_counts_through_fragments(api, key, settings):
    settings.GRAPHQL_LIMITS = {**settings.GRAPHQL_LIMITS, "MAX_DEPTH": 4}
    body = api.post(
        """
        query { courseMemberships { ...Page } }
        fragment Page on CourseMembershipPaginationConnection {
          edges { ... on CourseMembershipEdge { node { course { id } } } } }
        """,
        key=key,
    )
    assert error_codes(body) == ["QUERY_TOO_DEEP"]


def test_graphiqls_introspection_query_fits_the_default_limits(api, key):
    body = api.post(get_introspection_query(descriptions=True), key=key)
    assert "errors" not in body
    assert body["data"]["__schema"]["queryType"]["name"] == "Query"


def test_aliases_are_limited(api, key, settings):
    settings.GRAPHQL_LIMITS = {**settings.GRAPHQL_LIMITS, "MAX_ALIASES": 2}
    two = "{ a: courseMemberships { total_count } b: courseMemberships { total_count } }"
    assert "errors" not in api.post(two, key=key)
    body = api.post("{ a: __typename b: __typename c: __typename }", key=key)
    assert error_codes(body) == ["TOO_MANY_ALIASES"]
    assert body["errors"][0]["message"] == "The query uses 3 aliases; the limit is 2"


def test_aliases_count_once_per_place_in_the_answer(api, key, settings):
    """As graphql-core executes them (document_walk): a fragment spread twice into one
    selection is collected once, so its aliases count once; spread under two fields, twice."""
    settings.GRAPHQL_LIMITS = {**settings.GRAPHQL_LIMITS, "MAX_ALIASES": 3}
    once = """
        query { ...Two ...Two }
        fragment Two on Query { a: __typename b: __typename }
        """
    assert api.post(once, key=key) == {"data": {"a": "Query", "b": "Query"}}
    body = api.post(
        """
        query { x: courseMemberships { ...Two } y: courseMemberships { ...Two } }
        fragment Two on CourseMembershipPaginationConnection { a: __typename b: __typename }
        """,
        key=key,
    )
    assert error_codes(body) == ["TOO_MANY_ALIASES"]
    assert body["errors"][0]["message"] == "The query uses 6 aliases; the limit is 3"


def test_a_fragment_cycle_is_a_validation_error_not_a_crash(api, key):
    body = api.post(
        """
        query { ...A }
        fragment A on Query { ...B }
        fragment B on Query { ...A }
        """,
        key=key,
    )
    assert "GRAPHQL_VALIDATION_FAILED" in error_codes(body)
    assert api.last_response.status_code == 200


@pytest.mark.parametrize(
    ("leaf", "expected"),
    [
        # Each fragment is collected once per selection, as graphql-core executes it: the
        # bomb is one field, answered at once.
        ("__typename", {"data": {"__typename": "Query"}}),
        ("a: __typename", {"data": {"a": "Query"}}),
    ],
    ids=["harmless", "aliased"],
)
def test_a_fragment_bomb_is_measured_quickly(api, key, leaf, expected):
    # Each fragment spreads the next twice: 2**40 expansions if walked naively.
    fragments = "\n".join(
        f"fragment F{n} on Query {{ ...F{n + 1} ...F{n + 1} }}" for n in range(40)
    )
    started = time.perf_counter()
    body = api.post(f"query {{ ...F0 }}\n{fragments}\nfragment F40 on Query {{ {leaf} }}", key=key)
    elapsed = time.perf_counter() - started
    assert (api.last_response.status_code, body) == (200, expected)
    # A hang guard, not a speed figure: walked naively the bomb is 2**40 expansions (hours);
    # collected once per selection it is milliseconds. The bound is loose enough for a loaded
    # CI machine (it once took 2.3 s beside the PostgreSQL suite).
    assert elapsed < 30, f"{elapsed:.2f} s"


def test_an_aliased_bomb_is_counted_exactly(api, key):
    """Each fragment selects the next under two aliases: the answer's shape doubles at each
    level, and every place of an alias in it counts."""
    fragments = "\n".join(
        f"fragment F{n} on Course {{ a: course_items {{ course {{ ...F{n + 1} }} }}"
        f" b: course_items {{ course {{ ...F{n + 1} }} }} }}"
        for n in range(6)
    )
    body = api.post(
        '{ courseMembership(id: "x") { course { ...F0 } } }\n'
        f"{fragments}\nfragment F6 on Course {{ id }}",
        key=key,
    )
    # 2 + 4 + ... + 2**6 aliased places in the answer's shape.
    assert body["errors"] == [
        {
            "message": "The query uses 126 aliases; the limit is 15",
            "extensions": {"code": "TOO_MANY_ALIASES"},
        }
    ]


def test_batching_is_off(api, key):
    response = api.client.post(
        "/graphql/",
        json.dumps([{"query": "{ __typename }"}, {"query": "{ __typename }"}]),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    assert response.status_code == 400
    assert "not a valid JSON query" in response.json()["errors"][0]["message"]
    assert response.json()["errors"][0]["extensions"] == {"code": "BAD_REQUEST"}


def test_introspection_needs_a_signed_in_client(api, key):
    anonymous = api.post("{ __schema { queryType { name } } }")
    assert error_codes(anonymous) == ["INTROSPECTION_DISABLED"]
    assert error_codes(api.post('{ __type(name: "CourseMembership") { name } }')) == [
        "INTROSPECTION_DISABLED"
    ]
    # __typename is not introspection of the schema.
    assert api.post("{ __typename }") == {"data": {"__typename": "Query"}}
    signed_in = api.post("{ __schema { queryType { name } } }", key=key)
    assert signed_in == {"data": {"__schema": {"queryType": {"name": "Query"}}}}


def test_syntax_and_schema_errors_have_codes(api, key):
    assert error_codes(api.post("{ courseMemberships {", key=key)) == ["GRAPHQL_PARSE_FAILED"]
    assert error_codes(api.post("{ nothing }", key=key)) == ["GRAPHQL_VALIDATION_FAILED"]


def test_an_unexpected_failure_is_hidden_and_logged(api, key, monkeypatch, caplog):
    def explode(*args, **kwargs):
        raise RuntimeError("secret database detail")

    monkeypatch.setattr("enrollments.graphql.queries.KeysetPage", explode)
    body = api.post("{ courseMemberships { total_count } }", key=key)
    assert error_codes(body) == ["INTERNAL_SERVER_ERROR"]
    assert body["errors"][0]["message"] == "Internal server error"
    assert "secret" not in json.dumps(body)
    assert "secret database detail" in caplog.text


def test_the_limits_are_read_once_and_again_when_the_setting_changes(settings):
    assert limits() is limits()
    settings.GRAPHQL_LIMITS = {**settings.GRAPHQL_LIMITS, "MAX_DEPTH": 7}
    assert limits().max_depth == 7
    assert limits() is limits()
