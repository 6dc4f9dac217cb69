"""The README's table of error codes lists every domain error with its exact message."""

from pathlib import Path

from enrollments.errors import ALL_ERRORS

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_every_domain_error_is_in_the_readme_table():
    for error in ALL_ERRORS:
        row = f"| `{error.code}` | {error.message}"
        assert row in README, f"README error table lacks: {row}"
