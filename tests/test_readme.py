"""The README's tables stay true: every domain error with its exact message, every variable the
settings read."""

import re
from pathlib import Path

from enrollments.errors import ALL_ERRORS
from enrollments.permissions import CUSTOM, VIEW_ENROLLMENT

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_every_domain_error_is_in_the_readme_table():
    for error in ALL_ERRORS:
        row = f"| `{error.code}` | {error.message}"
        assert row in README, f"README error table lacks: {row}"


def test_every_environment_variable_of_the_settings_is_in_the_configuration_table():
    settings_source = (ROOT / "config" / "settings.py").read_text()
    read = set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z][A-Z0-9_]+)"', settings_source))
    assert {"DEBUG", "EMAIL_URL", "SECURE_PROXY_SSL_HEADER", "LOG_REQUESTS"} <= read
    table = README[README.index("## Configuration") : README.index("## Architecture")]
    documented = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", table))
    assert read - documented == set()


def test_every_permission_is_in_the_readme_table():
    table = README[README.index("### Permissions") : README.index("## Error codes")]
    listed = set(re.findall(r"^\| `(enrollments\.\w+)` \|", table, re.M))
    assert listed == {permission.name for permission in (*CUSTOM, VIEW_ENROLLMENT)}
