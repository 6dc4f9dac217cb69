"""Reads the reference copies in tests/reference/ (Healthie's 2025-01-01 subset and its 2026-01-01
course types, Teachify's Admin API around the contract's mutation) as graphql-core schemas."""

import re
from pathlib import Path

from graphql import GraphQLSchema, build_schema

REFERENCE = Path(__file__).resolve().parents[1] / "reference"
HEALTHIE_SDL = (REFERENCE / "healthie-2025-01-01.graphql").read_text()
TEACHIFY_SDL = (REFERENCE / "teachify-admin.graphql").read_text()
HEALTHIE_2026_SDL = (REFERENCE / "healthie-2026-01-01-course.graphql").read_text()
ALLOWED = REFERENCE / "allowed-differences.txt"
#: The allow-list of API version 2026-01-01 (ALLOWED is the contract's, 2025-01-01).
ALLOWED_2026 = REFERENCE / "allowed-differences-2026-01-01.txt"

#: Teachify publishes no SDL; the reconstructed file names this payload without defining it.
#: Defined like its siblings' payloads, so the file builds.
_REMOVE_PAYLOAD = "type RemoveStudentFromCoursePayload { enrollment: StudentCourseShip }\n"


def healthie_schema() -> GraphQLSchema:
    return build_schema(HEALTHIE_SDL)


def healthie_2026_schema() -> GraphQLSchema:
    return build_schema(HEALTHIE_2026_SDL)


def teachify_schema() -> GraphQLSchema:
    """The file has two `type Mutation` blocks (the contract's mutation, then its siblings):
    the second is read as `extend type Mutation`."""
    first = TEACHIFY_SDL.index("type Mutation {")
    second = TEACHIFY_SDL.index("type Mutation {", first + 1)
    sdl = TEACHIFY_SDL[:second] + "extend " + TEACHIFY_SDL[second:] + _REMOVE_PAYLOAD
    return build_schema(sdl)


def allowed_differences(path: Path = ALLOWED) -> list[tuple[str, str, str]]:
    """(reference, change type, description) of every committed allowed difference (of the
    contract's version; `path=ALLOWED_2026` for 2026-01-01's)."""
    rows = []
    for line in path.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            reference, change_type, description = line.split(" ", 2)
            rows.append((reference, change_type, description))
    return rows


def named_element(description: str) -> str:
    """`Course.active` from "Course.active was removed."."""
    match = re.fullmatch(r"(\S+) was removed\.", description)
    assert match, description
    return match[1]
