"""Each API version against its reference (docs/api.md "Versions", "Reference fields not
supported"): the committed SDL file of 2026-01-01 is current; graphql-core's
find_breaking_changes(reference, served) reports exactly the version's committed allow-list
(tests/reference/allowed-differences-2026-01-01.txt; the contract's own list is checked by
test_reference_compat.py); Teachify's side is the same in both versions; and docs/api.md's
table of unsupported fields is exactly what the references hold and a version does not serve,
with the versions it is missing from."""

import re
from pathlib import Path

import pytest
from graphql import (
    GraphQLSchema,
    build_schema,
    find_breaking_changes,
    get_nullable_type,
    is_input_object_type,
    is_input_type,
    is_list_type,
    is_object_type,
    parse,
    print_schema,
    print_type,
)

from config.schema import schema as contract_schema
from enrollments.graphql import versions
from enrollments.graphql.cost import LIST_BOUNDS, price
from enrollments.graphql.limits import limits
from tests.graphql import reference

ROOT = Path(__file__).resolve().parents[2]
API_DOC = (ROOT / "docs" / "api.md").read_text()
#: What a client sees of each version: its SDL (see test_reference_compat.py for why).
SERVED = {
    "2025-01-01": build_schema(print_schema(contract_schema.graphql_schema)),
    "2026-01-01": build_schema(print_schema(versions.schema_2026_01_01.graphql_schema)),
}


def breaking(ref: GraphQLSchema, served: GraphQLSchema, name: str) -> set[tuple[str, str, str]]:
    return {
        (name, change.type.name, change.description)
        for change in find_breaking_changes(ref, served)
    }


def test_the_committed_sdl_file_of_2026_01_01_is_current():
    committed = (ROOT / "schema-2026-01-01.graphql").read_text()
    assert committed.strip() == print_schema(versions.schema_2026_01_01.graphql_schema).strip()


def test_2026_01_01_breaking_changes_are_exactly_its_allow_list():
    allowed = set(reference.allowed_differences(reference.ALLOWED_2026))
    found = breaking(reference.healthie_2026_schema(), SERVED["2026-01-01"], "healthie-2026-01-01")
    assert found == allowed
    # Only what is not served: no field of a served type changes its type or nullability.
    assert {change_type for _, change_type, _ in allowed} == {"FIELD_REMOVED", "TYPE_REMOVED"}


def test_2026_01_01_serves_every_course_membership_field_of_its_reference():
    elements = {
        reference.named_element(row[2])
        for row in reference.allowed_differences(reference.ALLOWED_2026)
    }
    assert not {e for e in elements if e.split(".")[0] in {"CourseMembership", "Query"}}
    ref = reference.healthie_2026_schema().get_type("CourseMembership")
    served = SERVED["2026-01-01"].get_type("CourseMembership")
    for name, field in ref.fields.items():
        assert str(served.fields[name].type) == str(field.type), name


def test_teachify_is_the_same_in_both_versions():
    for version, served in SERVED.items():
        assert breaking(reference.teachify_schema(), served, "teachify") == {
            row for row in reference.allowed_differences() if row[0] == "teachify"
        }, version


def test_the_two_versions_differ_only_where_2026_01_01_does():
    """2025-01-01's reference against 2026-01-01: its cursor removed, course_status's type
    changed; nothing else besides the contract's allow-list."""
    found = breaking(reference.healthie_schema(), SERVED["2026-01-01"], "healthie")
    contract = {row for row in reference.allowed_differences() if row[0] == "healthie"}
    assert found - contract == {
        ("healthie", "FIELD_REMOVED", "CourseMembership.cursor was removed."),
        (
            "healthie",
            "FIELD_CHANGED_KIND",
            "CourseMembership.course_status changed type from String! to CourseMembershipStatus!.",
        ),
    }


def _unserved(ref: GraphQLSchema, served: GraphQLSchema) -> set[str]:
    """`Type.field` for each field of the reference's object types that `served` lacks, and
    `Type` for each object or input type of the reference that `served` lacks entirely (its
    enums and scalars are reached only through fields, listed themselves)."""
    missing: set[str] = set()
    for name, ref_type in ref.type_map.items():
        if name.startswith("__") or not (is_object_type(ref_type) or is_input_type(ref_type)):
            continue
        served_type = served.get_type(name)
        if served_type is None:
            if is_object_type(ref_type) or is_input_object_type(ref_type):
                missing.add(name)
            continue
        if is_object_type(ref_type):
            missing.update(
                f"{name}.{field}" for field in ref_type.fields if field not in served_type.fields
            )
    return missing


def expected_table() -> dict[str, set[str]]:
    """{element: versions not serving it}. 2026-01-01 against its own reference; 2025-01-01
    against its subset and the 2026-01-01 file (complete Course and CourseItem, the other
    types and operations a 2025 client may use too, by accretion or cut from the subset); what
    2026-01-01 changed on purpose (CourseMembership.cursor) is not in the 2026 file at all."""
    healthie_2025, healthie_2026 = reference.healthie_schema(), reference.healthie_2026_schema()
    by_version = {
        "2025-01-01": _unserved(healthie_2025, SERVED["2025-01-01"])
        | _unserved(healthie_2026, SERVED["2025-01-01"]),
        "2026-01-01": _unserved(healthie_2026, SERVED["2026-01-01"]),
    }
    table: dict[str, set[str]] = {}
    for version, elements in by_version.items():
        for element in elements:
            table.setdefault(element, set()).add(version)
    return table


def documented_table() -> dict[str, set[str]]:
    section = API_DOC[API_DOC.index("### Reference fields not supported") :]
    section = section[: section.index("\n\n", section.index("| --- |"))]
    rows = re.findall(r"^\| `([^`]+)` \| ([^|]+) \|", section, re.M)
    assert rows, "the table was not found"
    table = {}
    for element, versions_cell in rows:
        assert element not in table, f"{element} twice"
        cell = versions_cell.strip()
        table[element] = {"2025-01-01", "2026-01-01"} if cell == "both" else {cell}
    return table


def test_the_docs_list_every_unserved_reference_field_with_its_versions():
    assert documented_table() == expected_table()


@pytest.mark.parametrize("element", ["Course.course_type", "Course.course_memberships_count"])
def test_fields_the_issue_named_are_listed(element):
    assert element in documented_table()


def test_every_allow_list_entry_is_in_the_docs_table():
    table = documented_table()
    for path, version in (
        (reference.ALLOWED, "2025-01-01"),
        (reference.ALLOWED_2026, "2026-01-01"),
    ):
        for row in reference.allowed_differences(path):
            if row[0] == "teachify":
                continue
            element = reference.named_element(row[2])
            assert version in table[element], element


def test_every_list_field_of_each_version_has_a_cost_bound():
    """The cost model prices by type and field names, the same in every version: each
    version's list fields are all in cost.LIST_BOUNDS (test_cost_model checks the contract's)."""
    for version, served in versions.SCHEMAS.items():
        lists = {
            (type_.name, name)
            for type_ in served.graphql_schema.type_map.values()
            if is_object_type(type_) and not type_.name.startswith("__")
            for name, field in type_.fields.items()
            if is_list_type(get_nullable_type(field.type))
        }
        assert lists <= set(LIST_BOUNDS), version


def test_a_document_costs_the_same_in_both_versions():
    template = (
        "{ courseMemberships(first: 50, course_status: %s) { total_count nodes { id "
        "course_status course { course_items { id next_item { id } } } } } }"
    )
    prices = [
        price(parse(template % status), limits(), schema=served.graphql_schema).values
        for status, served in (
            ('"completed"', contract_schema),
            ("COMPLETED", versions.schema_2026_01_01),
        )
    ]
    assert prices[0] == prices[1] > 0


def test_the_versions_differ_only_in_the_types_2026_01_01_changes():
    """Accretion: whatever the API gains (a query such as auditLog, webhook management, a
    field) is in both versions; only the types versions.CHANGES_2026_01_01 names differ, plus
    the two enums 2026-01-01 adds."""
    contract, newer = SERVED["2025-01-01"], SERVED["2026-01-01"]
    assert set(newer.type_map) - set(contract.type_map) == {"CourseMembershipStatus", "CourseType"}
    assert set(contract.type_map) <= set(newer.type_map)
    differing = {
        name
        for name, type_ in contract.type_map.items()
        if not name.startswith("__") and print_type(type_) != print_type(newer.type_map[name])
    }
    assert differing == set(versions.CHANGES_2026_01_01) == {"CourseMembership", "Course", "Query"}
    # In Query, only courseMemberships' course_status filter (the enum in 2026-01-01).
    assert set(contract.query_type.fields) == set(newer.query_type.fields)
    for name, field in contract.query_type.fields.items():
        other = newer.query_type.fields[name]
        signature = [(arg, str(a.type)) for arg, a in field.args.items()]
        other_signature = [(arg, str(a.type)) for arg, a in other.args.items()]
        changed = [
            pair for pair in zip(signature, other_signature, strict=True) if pair[0] != pair[1]
        ]
        assert str(field.type) == str(other.type), name
        expected = [(("course_status", "String"), ("course_status", "CourseMembershipStatus"))]
        assert changed == (expected if name == "courseMemberships" else []), name
