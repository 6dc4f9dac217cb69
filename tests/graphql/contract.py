"""Reads the contract copies in tests/graphql/contract/: the CourseMembership SDL (000) and the
extendStudentCourseAccess tables and examples (003), exactly as written there."""

import re
from dataclasses import dataclass
from pathlib import Path

from graphql import ObjectTypeDefinitionNode, parse, print_ast

CONTRACT = Path(__file__).parent / "contract"
MEMBERSHIP_DOC = (CONTRACT / "000_982fe60c5f5d9752.txt").read_text()
EXTEND_DOC = (CONTRACT / "003_eb7043eae3d3b25e.txt").read_text()


@dataclass(frozen=True)
class ContractField:
    name: str
    type: str
    description: str


def membership_type() -> tuple[str, list[ContractField]]:
    """(type description, fields) of the SDL under "Definition" in 000."""
    sdl = MEMBERSHIP_DOC[MEMBERSHIP_DOC.index("Definition") + len("Definition") :].strip()
    definition = parse(sdl).definitions[0]
    assert isinstance(definition, ObjectTypeDefinitionNode)
    assert definition.name.value == "CourseMembership"
    fields = [
        ContractField(field.name.value, print_ast(field.type), field.description.value)
        for field in definition.fields
    ]
    return definition.description.value, fields


# A table row of 003 is "<name><type><description>" run together (a scraped page).
_ROW = re.compile(
    r"^(?P<name>[a-z][A-Za-z]*?)"
    r"(?P<type>AdminCourse!|AdminUser!|String!|Int!|Int|Float|Boolean)"
    r"(?P<description>\S.*)$"
)


def _table(after: str, until: str) -> list[ContractField]:
    start = EXTEND_DOC.index("FieldTypeDescription\n", EXTEND_DOC.index(after))
    block = EXTEND_DOC[start + len("FieldTypeDescription\n") : EXTEND_DOC.index(until, start)]
    rows = []
    for line in block.strip().splitlines():
        match = _ROW.match(line)
        assert match, f"unreadable contract row: {line!r}"
        rows.append(ContractField(match["name"], match["type"], match["description"]))
    return rows


def mutation_arguments() -> list[ContractField]:
    return _table("Input Parameters", "\n\nReturn Fields")


def student_course_ship_fields() -> list[ContractField]:
    return _table("Return Fields", "\ntype ExtendStudentCourseAccessPayload")


def example_documents() -> list[str]:
    """The two example mutations, verbatim."""
    first = EXTEND_DOC.index("Example\n\n") + len("Example\n\n")
    second_title = "Example with Indefinite Access\n\n"
    middle = EXTEND_DOC.index(second_title)
    end = EXTEND_DOC.index("\n\nSample Response")
    return [
        EXTEND_DOC[first:middle].strip(),
        EXTEND_DOC[middle + len(second_title) : end].strip(),
    ]
