"""Anonymous GraphQL requests are rate-limited per client address, before their body is decoded
or their document parsed (issue 21: four anonymous clients sending documents that cost 0.4 s of
validation each raised everyone's latency from 6 ms to 459 ms)."""

import json

import pytest

from apikeys import ratelimit
from enrollments.graphql import execution
from tests.graphql import conftest as graphql
from tests.graphql.conftest import error_codes

make_key, manager = graphql.make_key, graphql.manager  # the API tests' fixtures

BUDGET = 3
QUERY = "{ courseMemberships(first: 1) { total_count } }"


#: The limiter's clock in these tests: 30 seconds into a minute window, so no burst crosses a
#: window's boundary (a fresh budget) whenever the suite runs.
FROZEN_NOW = 1_800_000_030.0


@pytest.fixture
def anonymous_budget(rate_limit_in_own_cache, settings, db, monkeypatch):
    monkeypatch.setattr(ratelimit, "now", lambda: FROZEN_NOW)
    rate_limit_in_own_cache(
        {
            **settings.RATE_LIMIT,
            "ENABLED": True,
            "QUERIES": 100,
            "ANONYMOUS": BUDGET,
            "KEY_PREFIX": "anonymous-test",
        }
    )


@pytest.fixture
def parses(monkeypatch):
    """Counts the documents the API parses (execution.parsed, its one parse)."""
    seen = []
    parsed = execution.parsed

    def counting(query):
        seen.append(query)
        return parsed(query)

    execution.clear_caches()
    monkeypatch.setattr(execution, "parsed", counting)
    return seen


def post(client, query=QUERY, **extra):
    return client.post(
        "/graphql/", json.dumps({"query": query}), content_type="application/json", **extra
    )


def test_an_anonymous_burst_gets_429_before_its_document_is_parsed(
    client, anonymous_budget, parses
):
    answers = [post(client, "{ oops", REMOTE_ADDR="203.0.113.7") for _ in range(BUDGET)]
    assert [error_codes(a.json()) for a in answers] == [["GRAPHQL_PARSE_FAILED"]] * BUDGET
    assert parses  # the budget's requests were parsed
    parsed_before = len(parses)
    refused = post(client, "{ oops", REMOTE_ADDR="203.0.113.7")
    assert refused.status_code == 429
    assert error_codes(refused.json()) == ["TOO_MANY_REQUESTS"]
    assert refused.json()["errors"][0]["extensions"]["kind"] == "anonymous"
    assert refused["Retry-After"] == "30"  # the rest of the minute window
    assert len(parses) == parsed_before  # the refused document was never parsed
    # Nor is a malformed body decoded: the refusal comes first.
    malformed = client.post(
        "/graphql/", "{not json", content_type="application/json", REMOTE_ADDR="203.0.113.7"
    )
    assert malformed.status_code == 429


def test_each_address_has_its_own_budget(client, anonymous_budget):
    for _ in range(BUDGET):
        post(client, REMOTE_ADDR="203.0.113.7")
    assert post(client, REMOTE_ADDR="203.0.113.7").status_code == 429
    other = post(client, REMOTE_ADDR="203.0.113.8")
    assert other.status_code == 200
    assert error_codes(other.json()) == ["UNAUTHENTICATED"]


def test_keyed_and_signed_in_requests_do_not_spend_the_anonymous_budget(
    client, anonymous_budget, make_key, manager
):
    for _ in range(BUDGET):
        post(client, REMOTE_ADDR="203.0.113.7")
    key = make_key(manager)
    for _ in range(BUDGET + 2):
        keyed = post(client, REMOTE_ADDR="203.0.113.7", HTTP_AUTHORIZATION=f"Bearer {key}")
        assert keyed.status_code == 200
        assert "errors" not in keyed.json()
    client.force_login(manager)
    session = post(client, REMOTE_ADDR="203.0.113.7")
    assert session.status_code == 200
    assert "errors" not in session.json()


def test_x_forwarded_for_is_ignored_unless_a_proxy_is_configured(
    client, anonymous_budget, settings
):
    """Without TRUSTED_PROXY_COUNT a client cannot escape its budget by writing the header."""
    for index in range(BUDGET):
        post(client, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=f"198.51.100.{index}")
    spoofed = post(client, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.99")
    assert spoofed.status_code == 429


def test_behind_the_configured_proxies_the_forwarded_address_is_the_client(
    client, anonymous_budget, settings
):
    """One proxy (nginx's $proxy_add_x_forwarded_for): the last entry is the address nginx saw;
    what the client wrote before it is not believed."""
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = "10.0.0.1"  # every request comes from the proxy
    for index in range(BUDGET):
        post(client, REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR=f"forged-{index}, 203.0.113.7")
    assert (
        post(client, REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="forged, 203.0.113.7").status_code
        == 429
    )
    assert post(client, REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="203.0.113.8").status_code == 200


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "198.51.100.1", "10.0.0.1"),
        (1, "198.51.100.1", "198.51.100.1"),
        (1, "forged, 198.51.100.1", "198.51.100.1"),
        (2, "forged, 198.51.100.1, 10.0.0.2", "198.51.100.1"),
        (2, "198.51.100.1", "10.0.0.1"),  # fewer entries than proxies: not through them all
        (1, "", "10.0.0.1"),
    ],
)
def test_client_address(rf, settings, proxies, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    request = rf.post("/graphql/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)
    assert ratelimit.client_address(request) == expected


def test_the_anonymous_limit_is_off_with_the_rate_limit(client, anonymous_budget, settings):
    settings.RATE_LIMIT = {**settings.RATE_LIMIT, "ENABLED": False}
    for _ in range(BUDGET + 2):
        assert post(client, REMOTE_ADDR="203.0.113.7").status_code == 200
