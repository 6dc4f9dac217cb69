"""The checks of CI's API fuzz run (.ci/fuzz_api_checks.py) fire on what they are meant to
catch, so that a green fuzz run means something."""

import importlib.util
import json
import types
from pathlib import Path

import pytest

HOOKS = Path(__file__).resolve().parents[2] / ".ci" / "fuzz_api_checks.py"
INTERNAL = "INTERNAL_SERVER_ERROR"
PAUSE = 'mutation { pauseCourseMembership(input: {id: "x"}) { messages { code } } }'


@pytest.fixture(scope="module")
def checks():
    spec = importlib.util.spec_from_file_location("fuzz_api_checks_under_test", HOOKS)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def response(body, *, status=200, content_type="application/json"):
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return types.SimpleNamespace(
        status_code=status, headers={"content-type": [content_type]}, content=content
    )


def run_write_check(checks, monkeypatch, document, body, states):
    monkeypatch.setattr(checks, "_state", iter(states).__next__)
    monkeypatch.setattr(checks, "_with_real_ids", lambda document: document)
    case = types.SimpleNamespace(body=document)
    checks.before_call(None, case, {})
    checks.no_write_on_error(None, response(body), case)


def test_a_write_behind_a_business_error_fails(checks, monkeypatch):
    body = {"data": {"pauseCourseMembership": {"messages": [{"code": "NOT_FOUND"}]}}}
    with pytest.raises(AssertionError, match="database changed"):
        run_write_check(checks, monkeypatch, PAUSE, body, ["before", "after"])


def test_a_write_by_a_query_fails(checks, monkeypatch):
    body = {"data": {"courseMemberships": {"total_count": 0}}}
    with pytest.raises(AssertionError, match="database changed"):
        run_write_check(
            checks, monkeypatch, "{ courseMemberships { total_count } }", body, ["a", "b"]
        )


def test_a_successful_mutation_may_write(checks, monkeypatch):
    body = {"data": {"pauseCourseMembership": {"messages": []}}}
    run_write_check(checks, monkeypatch, PAUSE, body, ["before", "after"])


def test_an_unchanged_database_passes(checks, monkeypatch):
    body = {"errors": [{"message": "x", "extensions": {"code": "FORBIDDEN"}}]}
    run_write_check(checks, monkeypatch, PAUSE, body, ["same", "same"])


@pytest.mark.parametrize(
    ("check", "answer"),
    [
        ("no_5xx", response({"data": None}, status=502)),
        ("graphql_json", response(b"<html>", content_type="text/html")),
        ("graphql_json", response({"other": 1})),
        ("graphql_json", response({"errors": []})),
        ("graphql_json", response({"errors": [{"message": "no code"}]})),
        (
            "no_internal_server_error",
            response(
                {"errors": [{"message": "x", "extensions": {"code": "INTERNAL_SERVER_ERROR"}}]}
            ),
        ),
    ],
)
def test_the_response_checks_fire(checks, check, answer):
    with pytest.raises(AssertionError):
        getattr(checks, check)(None, answer, types.SimpleNamespace(body="{ __typename }"))


def test_a_good_answer_passes_every_response_check(checks):
    answer = response({"data": {"__typename": "Query"}}, content_type="application/json")
    case = types.SimpleNamespace(body="{ __typename }")
    for check in ("no_5xx", "graphql_json", "no_internal_server_error"):
        getattr(checks, check)(None, answer, case)
