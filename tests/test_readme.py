"""The README's tables stay true: every domain error with its exact message, every variable the
settings read; and so does what it says of the demo data."""

import re
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from enrollments.errors import ALL_ERRORS
from enrollments.models import Enrollment
from enrollments.permissions import CUSTOM, VIEW_ENROLLMENT
from lms.models import Course

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


@pytest.mark.django_db
def test_the_demo_data_is_what_the_readme_says():
    """`make demo`'s seed_demo makes the number of enrollments the README states (and prints)."""
    stated = re.findall(
        r"The demo data shows\s+every documented feature: (\d+) enrollments", README
    )
    assert len(stated) == 1, "the README states the demo's enrollment count once"
    out = StringIO()
    call_command("seed_demo", force=True, stdout=out)  # the tests run with DEBUG off
    assert Enrollment.objects.count() == int(stated[0])
    assert Course.objects.count() == 4
    assert f"Demo data ready: 4 courses, {stated[0]} enrollments." in out.getvalue()
