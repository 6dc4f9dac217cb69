"""The GraphQL API's rate limit per API key and per signed-in user (apikeys.ratelimit), counted
in a local-memory cache of each test's own; tests/hardening/test_rate_limit_processes.py shows
it holding across processes with Redis."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.cache import caches
from graphql import parse

from apikeys import ratelimit
from apikeys.ratelimit import Kind, operation_cost
from enrollments.models import AccessChange, Enrollment
from tests.graphql.conftest import error_codes

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
QUERY = "{ courseMemberships(first: 1) { total_count } }"
PAUSE = (
    "mutation ($id: ID!) { pauseCourseMembership(input: {id: $id}) { courseMembership { id } } }"
)
WINDOW = 60
START = 1_800_000_000.0  # a window boundary: 1_800_000_000 is a multiple of 60


class Clock:
    def __init__(self) -> None:
        self.current = START + 10

    def __call__(self) -> float:
        return self.current


@pytest.fixture
def window_clock(monkeypatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(ratelimit, "now", clock)
    return clock


@pytest.fixture
def limited(rate_limit_in_own_cache, window_clock):
    """3 queries and 2 mutations a minute, counted in a fresh local-memory cache ("ratelimit")."""
    return rate_limit_in_own_cache(
        {
            "ENABLED": True,
            "QUERIES": 3,
            "MUTATIONS": 2,
            "WINDOW_SECONDS": WINDOW,
            "KEY_PREFIX": "test",
            "BREAKER_FAILURES": 3,
            "BREAKER_COOL_DOWN_SECONDS": 30.0,
        }
    )


@pytest.fixture
def key(make_key, manager):
    return make_key(manager)


def statuses(api, key, document=QUERY, times=1, variables=None) -> list[int]:
    result = []
    for _ in range(times):
        api.post(document, variables, key=key)
        result.append(api.last_response.status_code)
    return result


def test_queries_past_the_budget_get_429_with_retry_after(api, key, limited, window_clock):
    assert statuses(api, key, times=3) == [200, 200, 200]
    body = api.post(QUERY, key=key)
    response = api.last_response
    assert response.status_code == 429
    assert response["Retry-After"] == str(WINDOW - 10)
    assert response["Content-Type"] == "application/json"
    assert body == {
        "errors": [
            {
                # Healthie's code and message (its rate-limit guide): a client written
                # against Healthie recognises the refusal; the numbers are extensions.
                "message": "Too many requests. Please try again later.",
                "extensions": {
                    "code": "TOO_MANY_REQUESTS",
                    "detail": (
                        "at most 3 query operations per client every 60 seconds; retry in 50 "
                        "seconds"
                    ),
                    "retry_after": 50,
                    "limit": 3,
                    "kind": "query",
                },
            }
        ]
    }


def test_the_next_window_has_a_fresh_budget(api, key, limited, window_clock):
    assert statuses(api, key, times=4) == [200, 200, 200, 429]
    window_clock.current = START + WINDOW - 0.5
    api.post(QUERY, key=key)
    assert api.last_response.status_code == 429
    assert api.last_response["Retry-After"] == "1"  # rounded up, never 0
    window_clock.current = START + WINDOW
    assert statuses(api, key, times=4) == [200, 200, 200, 429]


def test_mutations_have_a_budget_of_their_own(api, key, limited, enrollment):
    assert statuses(api, key, times=4) == [200, 200, 200, 429]
    body = api.post(PAUSE, {"id": str(enrollment.pk)}, key=key)
    assert api.last_response.status_code == 200
    assert body["data"]["pauseCourseMembership"]["courseMembership"]["id"] == str(enrollment.pk)
    api.post(PAUSE, {"id": str(enrollment.pk)}, key=key)  # ALREADY_PAUSED: still counted
    body = api.post(PAUSE, {"id": str(enrollment.pk)}, key=key)
    assert api.last_response.status_code == 429
    assert body["errors"][0]["extensions"]["kind"] == "mutation"
    assert body["errors"][0]["extensions"]["limit"] == 2


def test_a_refused_mutation_runs_nothing_and_writes_no_audit_row(api, key, limited, enrollment):
    limited["MUTATIONS"] = 0
    before = (list(Enrollment.objects.values()), AccessChange.objects.count())
    body = api.post(PAUSE, {"id": str(enrollment.pk)}, key=key)
    assert api.last_response.status_code == 429
    assert error_codes(body) == ["TOO_MANY_REQUESTS"]
    assert "data" not in body
    assert (list(Enrollment.objects.values()), AccessChange.objects.count()) == before


def test_each_aliased_mutation_counts(api, key, limited, enrollment):
    two = (
        "mutation ($id: ID!) { a: pauseCourseMembership(input: {id: $id}) { __typename } "
        "b: resumeCourseMembership(input: {id: $id}) { __typename } }"
    )
    assert statuses(api, key, two, variables={"id": str(enrollment.pk)}) == [200]
    assert statuses(api, key, PAUSE, variables={"id": str(enrollment.pk)}) == [429]


def test_each_key_has_its_own_budget_and_so_has_each_session_user(
    api, client, make_key, manager, limited
):
    first, second = make_key(manager), make_key(manager)
    assert statuses(api, first, times=4) == [200, 200, 200, 429]
    assert statuses(api, second, times=1) == [200]
    client.force_login(manager)  # the same user's session: a budget of its own
    session = [
        client.post(
            "/graphql/", json.dumps({"query": QUERY}), content_type="application/json"
        ).status_code
        for _ in range(4)
    ]
    assert session == [200, 200, 200, 429]


def test_anonymous_requests_are_not_counted_without_an_anonymous_budget(client, limited):
    for _ in range(5):
        response = client.post(
            "/graphql/", json.dumps({"query": QUERY}), content_type="application/json"
        )
        assert response.status_code == 200
        assert error_codes(response.json()) == ["UNAUTHENTICATED"]


def test_refused_keys_are_refused_before_counting(api, limited, monkeypatch):
    cache, written = caches["ratelimit"], []
    for method in ("add", "incr", "set", "set_many"):
        original = getattr(cache, method)
        monkeypatch.setattr(
            cache,
            method,
            lambda *args, _original=original, **kw: written.append(args) or _original(*args, **kw),
        )
    for _ in range(5):
        api.post(QUERY, key="AAAAAAAA.not-a-key")
        assert api.last_response.status_code == 401
    assert written == []  # no counter was made or touched for them


def test_documents_that_fail_early_still_count_as_queries(api, key, limited, settings):
    settings.GRAPHQL_LIMITS = {**settings.GRAPHQL_LIMITS, "MAX_QUERY_LENGTH": 100}
    api.post("{ oops", key=key)
    assert api.last_response.status_code == 200
    api.post("{ " + "__typename " * 20 + "}", key=key)
    assert error_codes(api.last_response.json()) == ["QUERY_TOO_LARGE"]
    api.post("{ __typename }", key=key)
    assert api.last_response.status_code == 200
    api.post("mutation { __typename }", key=key)  # a mutation: the query budget is spent
    assert api.last_response.status_code == 200
    api.post("{ __typename }", key=key)
    assert api.last_response.status_code == 429


def test_the_limit_can_be_switched_off(api, key, limited, settings):
    assert statuses(api, key, times=1) == [200]  # the settings are read (and kept) ...
    settings.RATE_LIMIT = {**limited, "ENABLED": False}  # ... and read again when changed
    assert statuses(api, key, times=5) == [200] * 5


class BrokenCache:
    """A cache whose every call fails, as Redis does when it is down."""

    def __init__(self, *args, **kwargs):
        pass

    def __getattr__(self, name):
        def fail(*args, **kwargs):
            raise ConnectionError("cache down")

        return fail


def test_a_failing_cache_serves_requests_unlimited_and_logs(api, key, limited, monkeypatch, caplog):
    monkeypatch.setattr(ratelimit, "caches", {"ratelimit": BrokenCache()})
    assert statuses(api, key, times=5) == [200] * 5
    assert "Rate limit not applied" in caplog.text


@pytest.mark.parametrize(
    ("document", "operation_name", "expected"),
    [
        ("{ a b c }", None, (Kind.QUERY, 1)),
        ("mutation { a }", None, (Kind.MUTATION, 1)),
        ("mutation { a b: a c: a }", None, (Kind.MUTATION, 3)),
        ("mutation { __typename }", None, (Kind.MUTATION, 1)),
        ("mutation { ...F ... on Mutation { c } } fragment F on Mutation { a b }", None, 3),
        ("mutation { ...F } fragment F on Mutation { a ...F }", None, (Kind.MUTATION, 1)),
        ("query Q { a } mutation M { a b }", "Q", (Kind.QUERY, 1)),
        ("query Q { a } mutation M { a b }", "M", (Kind.MUTATION, 2)),
        ("query Q { a } mutation M { a b }", None, (Kind.QUERY, 1)),  # ambiguous: not run
        (None, None, (Kind.QUERY, 1)),
    ],
)
def test_operation_cost(document, operation_name, expected):
    cost = operation_cost(parse(document) if document else None, operation_name)
    if isinstance(expected, int):
        expected = (Kind.MUTATION, expected)
    assert cost == expected


def test_settings_come_from_the_environment():
    environment = {k: v for k, v in os.environ.items() if not k.startswith("RATE_LIMIT_")}
    # The app's settings, not the suite's (tests/settings.py switches the anonymous budget off).
    environment["DJANGO_SETTINGS_MODULE"] = "config.settings"
    script = "from django.conf import settings; import json; print(json.dumps(settings.RATE_LIMIT))"
    default = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert json.loads(default.stdout.splitlines()[-1]) == {
        "ENABLED": True,
        "QUERIES": 600,
        "MUTATIONS": 200,
        "ANONYMOUS": 60,
        "WINDOW_SECONDS": 60,
        "CACHE": "default",
        "KEY_PREFIX": "ratelimit",
        "BREAKER_FAILURES": 3,
        "BREAKER_COOL_DOWN_SECONDS": 30.0,
    }
    configured = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=ROOT,
        env={
            **environment,
            "RATE_LIMIT_QUERIES": "1000",
            "RATE_LIMIT_MUTATIONS": "50",
            "RATE_LIMIT_ANONYMOUS": "7",
            "RATE_LIMIT_WINDOW_SECONDS": "10",
            "RATE_LIMIT_ENABLED": "false",
            "RATE_LIMIT_KEY_PREFIX": "api",
            "RATE_LIMIT_BREAKER_FAILURES": "5",
            "RATE_LIMIT_BREAKER_COOL_DOWN_SECONDS": "2.5",
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert json.loads(configured.stdout.splitlines()[-1]) == {
        "ENABLED": False,
        "QUERIES": 1000,
        "MUTATIONS": 50,
        "ANONYMOUS": 7,
        "WINDOW_SECONDS": 10,
        "CACHE": "default",
        "KEY_PREFIX": "api",
        "BREAKER_FAILURES": 5,
        "BREAKER_COOL_DOWN_SECONDS": 2.5,
    }
