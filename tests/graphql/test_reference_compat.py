"""Clients of the two real APIs behind the contract keep working: graphql-core's
find_breaking_changes(reference, schema) reports exactly the committed allow-list
(tests/reference/allowed-differences.txt), every entry of which docs/api.md explains.

"schema" is the served schema as its SDL (print_schema, the same text as schema.graphql):
graphene's scalar classes are subclasses of graphql-core's, which find_breaking_changes would
report as a scalar "changed from a Scalar type to a Scalar type"; a client sees only the SDL.
"""

from pathlib import Path

import pytest
from graphql import build_schema, find_breaking_changes, print_schema

from config.schema import schema
from tests.graphql import reference

SERVED = build_schema(print_schema(schema.graphql_schema))
API_DOC = (Path(__file__).resolve().parents[2] / "docs" / "api.md").read_text()
REFERENCES = {"healthie": reference.healthie_schema, "teachify": reference.teachify_schema}


def _breaking(name: str) -> set[tuple[str, str, str]]:
    return {
        (name, change.type.name, change.description)
        for change in find_breaking_changes(REFERENCES[name](), SERVED)
    }


@pytest.mark.parametrize("name", REFERENCES)
def test_breaking_changes_are_exactly_the_allow_list(name):
    allowed = {row for row in reference.allowed_differences() if row[0] == name}
    assert _breaking(name) == allowed


def test_the_allow_list_has_no_duplicates_and_only_removals():
    rows = reference.allowed_differences()
    assert len(rows) == len(set(rows)) == 16
    # Teachify's sibling mutations are all built: only Healthie fields not served are left.
    assert {change_type for _, change_type, _ in rows} == {"FIELD_REMOVED"}


@pytest.mark.parametrize(
    "row", reference.allowed_differences(), ids=lambda row: reference.named_element(row[2])
)
def test_every_allowed_difference_is_documented(row):
    element = reference.named_element(row[2])
    section = API_DOC[API_DOC.index("### Reference fields not supported") :]
    assert f"`{element}`" in section, f"docs/api.md does not explain {element}"


def test_the_contract_types_lose_nothing_against_the_references():
    """The contract's own types (CourseMembership, its connection, StudentCourseShip and the
    mutation's arguments) are not on the allow-list at all."""
    elements = {reference.named_element(row[2]) for row in reference.allowed_differences()}
    assert not {
        e
        for e in elements
        if e.split(".")[0] in {"CourseMembership", "StudentCourseShip", "PageInfo", "Query"}
    }
    assert "Mutation.extendStudentCourseAccess" not in elements
