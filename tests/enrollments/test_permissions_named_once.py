"""Permissions are named once, in enrollments.permissions: no other module of the app spells a
permission's name (`enrollments.extend_access`), calls `has_perm` with a string or asks a
template's `perms.enrollments.*`. The doors, the admin's `has_*_permission`, the commands'
`--actor` check and the schema's descriptions read the `Permission` objects instead."""

import re
from pathlib import Path

from enrollments import permissions

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "enrollments"
ALLOWED = {APP / "permissions.py"}

EVERY = [value for value in vars(permissions).values() if isinstance(value, permissions.Permission)]
NAMES = re.compile("|".join(re.escape(p.name) for p in EVERY))


def sources():
    for path in sorted(APP.rglob("*")):
        if path.suffix not in {".py", ".html", ".js"} or path in ALLOWED:
            continue
        if "migrations" in path.parts or "graphiql" in path.parts:
            continue
        yield path, path.read_text()


def test_no_module_but_permissions_spells_a_permission():
    found = [
        f"{path.relative_to(ROOT)}:{text.count(chr(10), 0, match.start()) + 1}: {match.group()}"
        for path, text in sources()
        for match in NAMES.finditer(text)
    ]
    assert found == []


def test_no_has_perm_with_a_string_and_no_template_perms():
    found = [
        f"{path.relative_to(ROOT)}: {match.group()}"
        for path, text in sources()
        for match in re.finditer(r"has_perm\(\s*[\"']|perms\.enrollments\b", text)
    ]
    assert found == []


def test_each_mutations_description_names_its_operations_permission():
    """Read from the Permission (an f-string), so renaming one renames it here too.
    extendStudentCourseAccess keeps the contract's description word for word."""
    from config.schema import schema
    from enrollments.operations import Enroll, Expire, Pause, Remove, Resume, Undo

    fields = schema.graphql_schema.mutation_type.fields
    for name, operation in {
        "enrollStudentToCourse": Enroll,
        "expireStudentCourseAccess": Expire,
        "removeStudentFromCourse": Remove,
        "pauseCourseMembership": Pause,
        "resumeCourseMembership": Resume,
        "undoAccessChangeBatch": Undo,
    }.items():
        assert str(operation.permission) in fields[name].description, name
