"""The generated schema matches the contract field by field: names, types (with nullability)
and descriptions, for CourseMembership, StudentCourseShip and extendStudentCourseAccess's
arguments. The contract is read from the verbatim copy in tests/graphql/contract/."""

import pytest
from graphql import GraphQLObjectType

from config.schema import schema
from tests.graphql import contract

GRAPHQL_SCHEMA = schema.graphql_schema


def _object_type(name: str) -> GraphQLObjectType:
    graphql_type = GRAPHQL_SCHEMA.get_type(name)
    assert isinstance(graphql_type, GraphQLObjectType), f"{name} is missing from the schema"
    return graphql_type


MEMBERSHIP_DESCRIPTION, MEMBERSHIP_FIELDS = contract.membership_type()


def test_the_contract_copy_reads_as_expected():
    # Guards the parsing helpers: the contract has 15 membership fields, 5 arguments, 7 return
    # fields, and two examples.
    assert len(MEMBERSHIP_FIELDS) == 15
    assert [f.name for f in contract.mutation_arguments()] == [
        "userId",
        "courseId",
        "extensionDays",
        "newEndedAt",
        "indefinite",
    ]
    assert [f.name for f in contract.student_course_ship_fields()] == [
        "id",
        "completionRate",
        "course",
        "user",
        "updatedAt",
        "createdAt",
        "endedAt",
    ]
    assert all(doc.startswith("mutation {") for doc in contract.example_documents())


def test_course_membership_type_description_is_the_contracts():
    assert _object_type("CourseMembership").description == MEMBERSHIP_DESCRIPTION
    assert MEMBERSHIP_DESCRIPTION == "Relationship between a user and a course"


@pytest.mark.parametrize("expected", MEMBERSHIP_FIELDS, ids=lambda f: f.name)
def test_course_membership_field_matches_the_contract(expected):
    fields = _object_type("CourseMembership").fields
    assert expected.name in fields, f"CourseMembership.{expected.name} is missing"
    field = fields[expected.name]
    assert str(field.type) == expected.type
    assert field.description == expected.description


@pytest.mark.parametrize("expected", contract.student_course_ship_fields(), ids=lambda f: f.name)
def test_student_course_ship_field_matches_the_contract(expected):
    fields = _object_type("StudentCourseShip").fields
    assert expected.name in fields, f"StudentCourseShip.{expected.name} is missing"
    assert str(fields[expected.name].type) == expected.type
    assert fields[expected.name].description == expected.description


@pytest.mark.parametrize("expected", contract.mutation_arguments(), ids=lambda f: f.name)
def test_extend_mutation_argument_matches_the_contract(expected):
    mutation = GRAPHQL_SCHEMA.mutation_type.fields["extendStudentCourseAccess"]
    assert expected.name in mutation.args, f"argument {expected.name} is missing"
    argument = mutation.args[expected.name]
    assert str(argument.type) == expected.type
    assert argument.description == expected.description


def test_extend_mutation_returns_the_payload_with_enrollment():
    mutation = GRAPHQL_SCHEMA.mutation_type.fields["extendStudentCourseAccess"]
    assert str(mutation.type) == "ExtendStudentCourseAccessPayload"
    assert str(mutation.type.fields["enrollment"].type) == "StudentCourseShip"
    # The extra arguments are optional, so the contract's calls stay valid.
    extra = set(mutation.args) - {f.name for f in contract.mutation_arguments()}
    assert extra == {"reason", "fromToday"}
    assert not any(str(mutation.args[name].type).endswith("!") for name in extra)


def test_custom_scalars_exist():
    assert str(GRAPHQL_SCHEMA.get_type("ISO8601DateTime")) == "ISO8601DateTime"
    assert str(GRAPHQL_SCHEMA.get_type("Cursor")) == "Cursor"


def test_committed_schema_file_is_current():
    # make schema-check does the same in CI; this catches it in a plain `make test` run too.
    from pathlib import Path

    from graphql import print_schema

    committed = (Path(__file__).resolve().parents[2] / "schema.graphql").read_text()
    assert committed.strip() == print_schema(GRAPHQL_SCHEMA).strip()


def test_extend_mutation_description_is_the_contract_pages_two_sentences():
    page = contract.EXTEND_DOC
    start = page.index("The extendStudentCourseAccess mutation allows")
    sentences = page[start : page.index("\n", start)]
    assert sentences.endswith(
        "This is useful when you want to grant additional time for course completion."
    )
    mutation = GRAPHQL_SCHEMA.mutation_type.fields["extendStudentCourseAccess"]
    assert mutation.description == sentences


def _reference_fields():
    from tests.graphql import reference

    healthie = reference.healthie_schema()
    unsupported = {reference.named_element(row[2]) for row in reference.allowed_differences()}
    for type_name in (
        "Course",
        "CourseItem",
        "User",
        "FieldError",
        "CourseMembershipPaginationConnection",
    ):
        for name, field in healthie.get_type(type_name).fields.items():
            if f"{type_name}.{name}" not in unsupported:
                yield type_name, name, field


@pytest.mark.parametrize(
    ("type_name", "name", "field"),
    list(_reference_fields()),
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_supported_reference_fields_keep_the_references_name_and_description(
    type_name, name, field
):
    """Healthie's nested fields that are served carry the reference's description (their types
    are checked by find_breaking_changes, tests/graphql/test_reference_compat.py)."""
    ours = _object_type(type_name).fields
    assert name in ours, f"{type_name}.{name} is missing"
    if type_name != "CourseMembershipPaginationConnection":  # the connection keeps our wording
        assert ours[name].description == field.description
