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

# A curl example: the key variable it uses, then the document in a heredoc.
EXAMPLE = re.compile(
    r'-H "Authorization: Bearer \$(?P<key>\w+)".*?<<\'EOF\'\n(?P<document>.*?)\nEOF\n', re.S
)


def documented_codes() -> set[str]:
    return set(re.findall(r"^\| `([A-Z_]+)` \|", DOC, re.M))


def test_every_error_code_is_documented():
    assert documented_codes() == {error.code for error in ALL_ERRORS} | set(API_ERROR_CODES)


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
    assert len(examples) == 9
    for example in examples:
        response = api.client.post(
            "/graphql/",
            example["document"],
            content_type="application/graphql",
            HTTP_AUTHORIZATION=f"Bearer {keys[example['key']]}",
        )
        body = response.json()
        assert "errors" not in body, (example["document"], body)
        assert all(value is not None for value in body["data"].values())
