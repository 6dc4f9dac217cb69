"""No private name of Django, graphql-core, graphene, graphene-django or psycopg outside the
fast-path home (issue 22): the house rule "never touch a dependency's private API outside
enrollments/fastpaths/", pinned.

Every Python file of the project (the apps, config, bench, tools, the tests) but the fast-path
home and its own tests is parsed, and fails the test when it:

- imports a module or a name with a leading underscore from one of those packages
  (`from psycopg_binary._psycopg import ...`, `from django.x import _y`, `import django._x`);
- uses or overrides one of the undocumented internals without an underscore the project once
  reached into (INTERNALS: `Query.alias_refcount`, graphql-core's `execute_fields`, ...);
- reads or writes an attribute with a leading underscore (`obj._x`, or `getattr(obj, "_x")`,
  `hasattr`, `setattr`, `delattr`) that is one of those packages' names (it occurs in their
  source) and is not the project's own (a function, class, module-level name, or attribute of
  `self` / `cls` the project defines), unless Django documents it (ALLOWED).

So `request._new_api_key`, a name the project made up, passes; `user._perm_cache` (ModelBackend's)
or `self._get_permissions` in a ModelBackend subclass fails.
"""

import ast
import importlib.util
import re
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCANNED = ("config", "enrollments", "lms", "apikeys", "bench", "tools", "tests", "manage.py")
#: The fast-path home and its tests: where private names are allowed (and checked at ready).
HOME = ("enrollments/fastpaths/", "tests/fastpaths/")
DEPENDENCIES = ("django", "graphql", "graphene", "graphene_django", "psycopg", "psycopg_binary")

#: Underscore names Django documents as public API.
ALLOWED = {
    # Model._meta, the Options API (docs: "Model _meta API").
    "_meta",
    # instance._state.adding / .db (docs: Model instance reference, "Customizing model loading"
    # and "Model state": `_state` is documented).
    "_state",
    # Model._default_manager / _base_manager (docs: "Managers", default and base managers).
    "_default_manager",
    "_base_manager",
    # Manager._db, the alias a custom manager saves with (docs: "Customizing authentication",
    # the custom user manager's `user.save(using=self._db)`).
    "_db",
    # The named tuple API (Python's docs: collections.namedtuple), e.g. a urlparse result.
    "_replace",
    "_asdict",
    "_fields",
    "_make",
}

#: Undocumented internals without a leading underscore that the project once reached into
#: (issue 22): using or overriding them outside the fast-path home fails too.
INTERNALS = {
    "alias_refcount",  # django.db.models.sql.Query's join bookkeeping
    "execute_fields",  # graphql-core's ExecutionContext, changed in 3.3
    "execute_field",
    "handle_field_error",
}

#: Files that still break the rule, each with the issue that removes it. Empty once done.
PENDING: dict[str, str] = {}

GETATTR_FAMILY = {"getattr", "hasattr", "setattr", "delattr"}


def _is_private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def project_files() -> list[Path]:
    files: list[Path] = []
    for entry in SCANNED:
        path = ROOT / entry
        files += [path] if path.is_file() else sorted(path.rglob("*.py"))
    return [
        path
        for path in files
        if ".venv" not in path.parts
        and not path.relative_to(ROOT).as_posix().startswith(HOME)
        and "migrations" not in path.parts[-2:-1]
    ]


@cache
def dependency_names() -> frozenset[str]:
    """Every identifier with a leading underscore in the dependencies' source."""
    pattern = re.compile(rb"\b_[A-Za-z0-9]\w*")
    names: set[bytes] = set()
    for package in DEPENDENCIES:
        spec = importlib.util.find_spec(package)
        if spec is None or spec.origin is None:
            continue
        root = Path(spec.origin).parent
        for path in [*root.rglob("*.py"), *root.rglob("*.pyi")]:
            names.update(pattern.findall(path.read_bytes()))
    return frozenset(name.decode() for name in names)


@cache
def parsed() -> dict[Path, ast.Module]:
    return {path: ast.parse(path.read_text(), filename=str(path)) for path in project_files()}


@cache
def own_names() -> frozenset[str]:
    """Names the project defines: functions, classes, module-level and class-level names,
    parameters, import aliases, attributes assigned on `self` or `cls`."""
    own: set[str] = set()
    for tree in parsed().values():
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                own.add(node.name)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                own.add(node.id)
            elif isinstance(node, ast.arg):
                own.add(node.arg)
            elif isinstance(node, ast.alias) and node.asname:
                own.add(node.asname)
            elif (
                isinstance(node, ast.Attribute)
                and isinstance(node.ctx, ast.Store)
                and isinstance(node.value, ast.Name)
                and node.value.id in ("self", "cls")
            ):
                own.add(node.attr)
    return frozenset(own)


def _from_dependency(module: str) -> bool:
    return module.split(".")[0] in DEPENDENCIES


def violations(tree: ast.Module) -> list[str]:
    """`line: what` for every private name of a dependency `tree` uses."""
    found = []
    dependency, own = dependency_names(), own_names()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if _from_dependency(alias.name) and any(
                    _is_private(part) for part in alias.name.split(".")
                ):
                    found.append(f"{node.lineno}: import {alias.name}")
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if not _from_dependency(node.module):
                continue
            private = [a.name for a in node.names if _is_private(a.name)]
            if private or any(_is_private(part) for part in node.module.split(".")):
                names = ", ".join(a.name for a in node.names)
                found.append(f"{node.lineno}: from {node.module} import {names}")
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name in INTERNALS:
            found.append(f"{node.lineno}: def {node.name}")
        else:
            if isinstance(node, ast.Attribute):
                name = node.attr
                if name in INTERNALS:
                    found.append(f"{node.lineno}: .{name}")
                    continue
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in GETATTR_FAMILY
                and len(node.args) >= 2
                and isinstance(node.args[1], ast.Constant)
                and isinstance(node.args[1].value, str)
            ):
                name = node.args[1].value
            else:
                continue
            if _is_private(name) and name not in ALLOWED and name in dependency and name not in own:
                found.append(f"{node.lineno}: .{name}")
    return found


def test_no_private_name_of_a_dependency_outside_the_fast_path_home():
    offenders = {
        path.relative_to(ROOT).as_posix(): found
        for path, tree in parsed().items()
        if (found := violations(tree)) and path.relative_to(ROOT).as_posix() not in PENDING
    }
    assert offenders == {}


@cache
def graphql_core_private_steps() -> frozenset[str]:
    """The steps of graphql-core's ExecutionContext its documentation marks private
    (`:meta private:`), though their names carry no underscore."""
    from graphql import ExecutionContext

    return frozenset(
        name
        for name in vars(ExecutionContext)
        if ":meta private:" in (getattr(getattr(ExecutionContext, name), "__doc__", None) or "")
    )


def execution_steps(tree: ast.Module) -> set[str]:
    """The private steps of graphql-core's ExecutionContext that the module's subclasses of it
    override or call."""
    steps, found = graphql_core_private_steps(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and any(
            (base.id if isinstance(base, ast.Name) else getattr(base, "attr", "")).endswith(
                "ExecutionContext"
            )
            for base in node.bases
        ):
            for inner in ast.walk(node):
                if isinstance(inner, ast.FunctionDef) and inner.name in steps:
                    found.add(inner.name)
                elif isinstance(inner, ast.Attribute) and inner.attr in steps:
                    found.add(inner.attr)
    return found


def test_graphql_core_private_steps_outside_the_home_are_the_ones_checked_at_start_up():
    """Outside the fast-path home, only the response-size limit leans on graphql-core's private
    execution steps (it cannot be switched off, so it is not a fast path), and exactly on those
    its start-up check pins (enrollments/graphql/response_limit_check.py)."""
    from enrollments.graphql.response_limit_check import STEPS

    assert {"complete_list_value", "collect_subfields"} <= graphql_core_private_steps()
    used = {
        path.relative_to(ROOT).as_posix(): found
        for path, tree in parsed().items()
        if (found := execution_steps(tree))
    }
    assert used == {"enrollments/graphql/execution.py": set(STEPS)}


def documented_private_imports(tree: ast.Module) -> list[str]:
    """Names imported from graphql-core whose docstring marks them `:meta private:` (graphql-core
    keeps some internals without an underscore, public by name only)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "graphql":
            module = importlib.import_module(node.module)
            for alias in node.names:
                doc = getattr(getattr(module, alias.name, None), "__doc__", None) or ""
                if ":meta private:" in doc:
                    found.append(f"{node.lineno}: {node.module}.{alias.name}")
    return found


def test_no_documented_private_graphql_core_function_outside_the_home_and_its_mirror_tests():
    """graphql-core's field collection (`collect_fields`, `collect_sub_fields`) is marked
    `:meta private:`: the project collects fields with its own DocumentWalk (the payload errors'
    "is the errors field selected" included); only the test comparing the walk with graphql-core
    imports them."""
    comparing = {"tests/graphql/test_cost_model.py"}
    used = {
        path.relative_to(ROOT).as_posix(): found
        for path, tree in parsed().items()
        if (found := documented_private_imports(tree))
    }
    assert set(used) == comparing, used


def test_every_pending_exception_is_still_needed():
    """An exception whose file no longer breaks the rule (or no longer exists) must go."""
    still_needed = {
        name for name in PENDING if (ROOT / name).exists() and violations(parsed()[ROOT / name])
    }
    assert still_needed == set(PENDING)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from psycopg_binary._psycopg import TimestamptzLoader", ["1: from psycopg_binary."]),
        ("from django.db.models.query import _filter_prefetch_queryset", ["1: from django."]),
        ("import django.utils._os", ["1: import django.utils._os"]),
        ("user._perm_cache = set()", ["1: ._perm_cache"]),
        ("getattr(backend, '_get_permissions')(user, None, 'user')", ["1: ._get_permissions"]),
        ("hasattr(user, '_perm_cache')", ["1: ._perm_cache"]),
        ("opts = Enrollment._meta; adding = obj._state.adding", []),
        ("request._new_api_key = 'a name the project made up'", []),
        ("from enrollments.operations.core import _read_rows", []),
        ("import _thread", []),
        ("joins = query.alias_refcount", ["1: .alias_refcount"]),
        ("class C:\n    def execute_fields(self): ...", ["2: def execute_fields"]),
    ],
    ids=[
        "c-extension-module",
        "private-function",
        "private-module",
        "private-attribute",
        "getattr-string",
        "hasattr-string",
        "documented-names",
        "project-own-name",
        "project-private-import",
        "stdlib",
        "undocumented-internal",
        "overridden-internal",
    ],
)
def test_the_check_finds_what_it_should(source, expected):
    found = violations(ast.parse(source))
    assert len(found) == len(expected)
    for line, start in zip(found, expected, strict=True):
        assert line.startswith(start), line
