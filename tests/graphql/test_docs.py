"""docs/api.md stays true: every error code is in its table, the contract's examples are in it
verbatim, and every curl example runs without error against the demo data."""

import re
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from enrollments.errors import ALL_ERRORS
from enrollments.graphql.errors import API_ERROR_CODES
from tests.graphql import contract

DOC = (Path(__file__).resolve().parents[2] / "docs" / "api.md").read_text()

# A curl example: its path, the header carrying the key variable (any of the three styles),
# the content type, then the body in a heredoc.
EXAMPLE = re.compile(
    r"curl -s http://127\.0\.0\.1:8000(?P<path>/graphql/?) "
    r'-H "(?P<header>Authorization: Bearer |Authorization: Basic |X-Teachify-API-Key: )'
    r'\$(?P<key>\w+)"(?P<options>.*?)<<\'EOF\'\n(?P<document>.*?)\nEOF\n',
    re.S,
)
HEADER_META = {
    "Authorization: Bearer ": ("HTTP_AUTHORIZATION", "Bearer "),
    "Authorization: Basic ": ("HTTP_AUTHORIZATION", "Basic "),
    "X-Teachify-API-Key: ": ("HTTP_X_TEACHIFY_API_KEY", ""),
}


def documented_codes() -> set[str]:
    return set(re.findall(r"^\| `([A-Z_]+)` \|", DOC, re.M))


def test_every_error_code_is_documented():
    assert documented_codes() == {error.code for error in ALL_ERRORS} | set(API_ERROR_CODES)


def test_each_error_code_has_one_row():
    """One row per code in the error table (its messages and where it arrives in that row),
    so a reader never finds two different answers for one code."""
    rows = re.findall(r"^\| `([A-Z_]+)` \|", DOC, re.M)
    assert sorted(rows) == sorted(set(rows))


def test_the_contract_examples_are_in_the_docs_verbatim():
    documents = [match["document"] for match in EXAMPLE.finditer(DOC)]
    for example in contract.example_documents():
        assert example in documents


@pytest.mark.django_db
def test_every_curl_example_runs_against_the_demo_data(api, clock):
    call_command("seed_demo", force=True, verbosity=0)
    keys = {}
    for name, email in (("KEY", "admin@example.com"), ("STUDENT_KEY", "student@example.com")):
        out = StringIO()
        call_command("create_api_key", email, stdout=out)
        keys[name] = out.getvalue().splitlines()[-1]
    examples = list(EXAMPLE.finditer(DOC))
    assert len(examples) == 18
    assert {example["header"] for example in examples} == set(HEADER_META)
    for example in examples:
        meta, scheme = HEADER_META[example["header"]]
        content_type = re.search(r"-H 'Content-Type: ([^']+)'", example["options"])[1]
        extra = {meta: scheme + keys[example["key"]]}
        if "AuthorizationSource: API" in example["options"]:
            extra["HTTP_AUTHORIZATIONSOURCE"] = "API"
        response = api.client.post(
            example["path"], example["document"], content_type=content_type, **extra
        )
        body = response.json()
        assert "errors" not in body, (example["document"], body)
        assert all(value is not None for value in body["data"].values())
