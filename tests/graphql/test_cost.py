"""The query cost model (enrollments.graphql.cost; issue 14, finding 5): counted fields,
aliases and the course_status filter spend a budget, and a document over it is refused with
QUERY_TOO_COSTLY before any data is read."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from graphql import parse

from config.schema import schema
from enrollments.graphql.cost import document_cost
from enrollments.graphql.limits import limits

pytestmark = pytest.mark.django_db


def aliased_counts(n: int, arguments: str = "") -> str:
    fields = "\n".join(f"c{i}: courseMemberships{arguments} {{ total_count }}" for i in range(n))
    return "{\n" + fields + "\n}"


@pytest.fixture
def key(make_key, viewer, api) -> str:
    raw_key = make_key(viewer)
    api.post("{ __typename }", key=raw_key)  # the key's first use is recorded (one UPDATE)
    return raw_key


def test_fifteen_aliased_counts_by_course_status_are_refused_before_any_data_query(api, key):
    with CaptureQueriesContext(connection) as queries:
        body = api.post(aliased_counts(15, '(course_status: "completed")'), key=key)
    assert api.last_response.status_code == 200  # application/json: see views.graphql_status
    assert body["errors"] == [
        {
            "message": "The query costs 450; the limit is 100",
            "extensions": {"code": "QUERY_TOO_COSTLY", "cost": 450, "limit": 100},
        }
    ]
    assert "data" not in body
    tables = " ".join(query["sql"] for query in queries.captured_queries)
    assert "enrollments_enrollment" not in tables  # only the key and its permissions


def test_fifteen_aliased_plain_counts_fit_the_budget(api, key):
    body = api.post(aliased_counts(15), key=key)
    assert "errors" not in body
    assert body["data"]["c14"] == {"total_count": 0}


def test_three_counts_by_course_status_fit_and_four_do_not(api, key):
    assert "errors" not in api.post(aliased_counts(3, '(course_status: "completed")'), key=key)
    body = api.post(aliased_counts(4, '(course_status: "completed")'), key=key)
    assert body["errors"][0]["extensions"]["code"] == "QUERY_TOO_COSTLY"


def test_the_budget_and_weights_come_from_settings(settings, api, key):
    settings.GRAPHQL_LIMITS = {**settings.GRAPHQL_LIMITS, "MAX_COST": 5}
    body = api.post(aliased_counts(1), key=key)  # 1 + 5
    assert body["errors"][0]["extensions"] == {"code": "QUERY_TOO_COSTLY", "cost": 6, "limit": 5}
    settings.GRAPHQL_LIMITS = {**settings.GRAPHQL_LIMITS, "MAX_COST": 5, "COST_COUNT": 4}
    assert "errors" not in api.post(aliased_counts(1), key=key)


def test_anonymous_clients_are_priced_too(api):
    body = api.post(aliased_counts(15, '(course_status: "completed")'))
    assert body["errors"][0]["extensions"]["code"] == "QUERY_TOO_COSTLY"


@pytest.mark.parametrize(
    ("document", "cost"),
    [
        # Every value of the answer costs 1/1000 of a point, rounded up (cost.py).
        ("{ __typename }", 1),
        ("{ __schema { types { name } } }", 0),  # introspection is free
        # A page of 20 (the default): 1 for the read, 41 values.
        ("{ courseMemberships { edges { node { id } } } }", 2),
        ("{ courseMemberships { total_count edges { node { id } } } }", 7),
        ('{ courseMemberships(course_status: "completed") { total_count } }', 30),
        ('{ courseMemberships(course_status: "completed") { page_info { has_next_page } } }', 6),
        # A variable may hold the filter: priced as if it did (no variables here).
        (
            "query ($s: String) { courseMemberships(course_status: $s) { total_count } }",
            30,
        ),
        # Counted twice under two response keys, once under one (executed once).
        ("{ courseMemberships { a: total_count b: total_count } }", 11),
        ("{ courseMemberships { total_count total_count } }", 6),
        # Fragments: counts inside them count; a fragment spread twice into one selection is
        # executed once (graphql-core's field collection), so it costs once.
        (
            "{ ...F ...F } fragment F on Query { x: courseMemberships { ...C } }"
            " fragment C on CourseMembershipPaginationConnection { total_count }",
            6,
        ),
        (
            "{ x: courseMemberships { ...C } y: courseMemberships { ...C } }"
            " fragment C on CourseMembershipPaginationConnection { total_count }",
            12,
        ),
        (
            "{ courseMemberships { ... on CourseMembershipPaginationConnection { total_count } } }",
            6,
        ),
        ('{ courseMembership(id: "x") { id } }', 2),
        # fetch_all reads up to ten pages of rows, and its page holds up to 1,000 of them (each
        # edge and each node an object: COST_OBJECT_VALUES); a literal false is a page.
        ("{ courseMemberships(fetch_all: true) { edges { node { id } } } }", 21),
        ("{ courseMemberships(fetch_all: true) { total_count } }", 15),
        ("{ courseMemberships(fetch_all: false) { edges { node { id } } } }", 2),
        ("query ($f: Boolean) { courseMemberships(fetch_all: $f) { total_count } }", 15),
        (
            'mutation { a: pauseCourseMembership(input: {id: "x"}) { __typename }'
            ' b: pauseCourseMembership(input: {id: "y"}) { __typename } }',
            3,
        ),
        # A fragment cycle is refused by the standard rules; it costs nothing here.
        ("{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }", 0),
    ],
)
def test_document_costs(document, cost):
    assert document_cost(parse(document), limits(), schema.graphql_schema) == cost


def test_a_fragment_bomb_is_priced_quickly():
    """Each level spreads the previous one twice: 2^30 expansions if walked naively, one
    field once collected as graphql-core executes it."""
    fragments = ["fragment F0 on Query { courseMemberships { total_count } }"]
    fragments += [f"fragment F{i} on Query {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, 31)]
    document = parse("{ ...F30 } " + " ".join(fragments))
    assert document_cost(document, limits(), schema.graphql_schema) == 6
