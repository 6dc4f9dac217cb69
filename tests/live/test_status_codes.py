"""The GraphQL-over-HTTP specification's status codes, for both media types, over real HTTP.

- `application/json` (and no Accept, `*/*`): every well-formed GraphQL request answers 200,
  parse and validation errors included;
- `application/graphql-response+json`: that media type; 400 when the request fails before
  execution (no `data`), 200 once execution started (field errors included);
- either way: a malformed HTTP request 400, a mutation over GET 405, a bad key 401, a spent
  budget 429.
"""

import pytest

from apikeys.models import APIKey
from tests.factories import StaffFactory
from tests.graphql.conftest import grant

pytestmark = pytest.mark.django_db(transaction=True)

JSON = "application/json"
GRAPHQL_JSON = "application/graphql-response+json"


@pytest.fixture
def key(transactional_db, fresh_rate_limits) -> str:
    user = StaffFactory()
    grant(user, "view")
    _api_key, raw_key = APIKey.objects.create_key(user=user)
    return raw_key


def post(live_api, key, query, accept: str | None, **kwargs):
    headers = {"Authorization": f"Bearer {key}"}
    if accept is not None:
        headers["Accept"] = accept
    return live_api.http.post("/graphql", json={"query": query}, headers=headers, **kwargs)


def codes(response) -> list[str]:
    return [error["extensions"]["code"] for error in response.json().get("errors", [])]


# (document, code of its error or None, whether execution starts)
DOCUMENTS = {
    "success": ("{ __typename }", None, True),
    "parse-error": ("{ courseMemberships(", "GRAPHQL_PARSE_FAILED", False),
    "validation-error": ("{ courseMemberships { nope } }", "GRAPHQL_VALIDATION_FAILED", False),
    "variable-type-error": (
        "query ($after: Cursor) { courseMemberships(after: $after) { total_count } }",
        "GRAPHQL_VALIDATION_FAILED",
        False,
    ),
    "field-error": (
        '{ courseMembership(id: "00000000-0000-0000-0000-000000000000") { id } }',
        "NOT_FOUND",
        True,
    ),
    "argument-error": (
        "{ courseMemberships(first: 1000) { total_count } }",
        "BAD_USER_INPUT",
        True,
    ),
}


@pytest.mark.parametrize("accept", [None, "*/*", JSON, f"{JSON}, {GRAPHQL_JSON};q=0.5"])
@pytest.mark.parametrize("name", DOCUMENTS)
def test_application_json_answers_200_to_every_well_formed_request(live_api, key, accept, name):
    document, code, _executes = DOCUMENTS[name]
    response = post(live_api, key, document, accept)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == JSON
    assert codes(response) == ([code] if code else [])


@pytest.mark.parametrize("accept", [GRAPHQL_JSON, f"{GRAPHQL_JSON}, {JSON};q=0.9"])
@pytest.mark.parametrize("name", DOCUMENTS)
def test_graphql_response_json_uses_its_status_codes(live_api, key, accept, name):
    document, code, executes = DOCUMENTS[name]
    response = post(live_api, key, document, accept)
    assert response.headers["Content-Type"] == GRAPHQL_JSON
    assert response.status_code == (200 if executes else 400)
    assert ("data" in response.json()) is executes
    assert codes(response) == ([code] if code else [])


def test_limits_are_request_errors(live_api, key, settings):
    settings.GRAPHQL_LIMITS = {**settings.GRAPHQL_LIMITS, "MAX_QUERY_LENGTH": 20}
    document = "{ __typename " + " " * 20 + "}"
    as_json = post(live_api, key, document, JSON)
    as_graphql = post(live_api, key, document, GRAPHQL_JSON)
    assert (as_json.status_code, codes(as_json)) == (200, ["QUERY_TOO_LARGE"])
    assert (as_graphql.status_code, codes(as_graphql)) == (400, ["QUERY_TOO_LARGE"])


@pytest.mark.parametrize("accept", [JSON, GRAPHQL_JSON])
def test_what_is_refused_before_graphql_keeps_its_status(live_api, key, accept, settings):
    broken = live_api.http.post(
        "/graphql",
        content=b'{"query": ',
        headers={"Authorization": f"Bearer {key}", "Content-Type": JSON, "Accept": accept},
    )
    assert (broken.status_code, codes(broken)) == (400, ["BAD_REQUEST"])
    assert broken.headers["Content-Type"] == accept
    over_get = live_api.http.get(
        "/graphql",
        params={"query": "mutation { __typename }"},
        headers={"Authorization": f"Bearer {key}", "Accept": accept},
    )
    assert over_get.status_code == 405
    bad_key = post(live_api, "nope.nope", "{ __typename }", accept)
    assert (bad_key.status_code, codes(bad_key)) == (401, ["UNAUTHENTICATED"])
    assert bad_key.headers["Content-Type"] == accept
    # One window for both requests (a minute's boundary between them would reset the budget).
    settings.RATE_LIMIT = {**settings.RATE_LIMIT, "QUERIES": 1, "WINDOW_SECONDS": 10**9}
    post(live_api, key, "{ __typename }", accept)
    spent = post(live_api, key, "{ __typename }", accept)
    assert (spent.status_code, codes(spent)) == (429, ["TOO_MANY_REQUESTS"])
    # Healthie's words (its rate-limit guide), which its clients may show or match.
    assert spent.json()["errors"][0]["message"] == "Too many requests. Please try again later."
    assert spent.headers["Content-Type"] == accept
