"""The suite's own layout (tests/README.md): every folder of tests is described there, and test
modules share code through conftest.py or helper modules, never by importing each other (a test
module imported elsewhere runs its module-level code twice and ties two test files together)."""

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_no_module_imports_a_test_module():
    offenders = [
        f"{path.relative_to(TESTS.parent)} imports {name}"
        for path in sorted(TESTS.rglob("*.py"))
        for name in sorted(_imported_modules(path))
        if name.startswith("tests.") and name.rsplit(".", 1)[-1].startswith("test_")
    ]
    assert offenders == []


def test_the_readme_describes_every_folder_of_tests():
    readme = (TESTS / "README.md").read_text(encoding="utf-8")
    folders = sorted(
        {
            path.parent.relative_to(TESTS).as_posix()
            for path in TESTS.rglob("test_*.py")
            if path.parent != TESTS
        }
    )
    assert folders, "no folder of tests found"
    assert [folder for folder in folders if f"`{folder}/`" not in readme] == []
