"""Real-browser fixtures: Debian's Chromium driven by Playwright against pytest-django's
live_server.

Never `playwright install` (it downloads a browser): the tests use /usr/bin/chromium. Without it
they skip with the reason, except in CI (PLAYWRIGHT_REQUIRED=1, set by .ci/run), where a missing
browser fails them.

Playwright's sync API runs an event loop in this thread, and Django refuses ORM calls from a
thread with a running loop unless DJANGO_ALLOW_ASYNC_UNSAFE is set. The test and the live server
never run ORM code concurrently on one connection, so the flag is safe here; it is set only
while a browser module runs (see `playwright_browser`) and restored afterwards.
"""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission

from tests.factories import StaffFactory

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "pass-word-123"  # tests.factories.UserFactory's
#: axe-core from the npm registry, pinned in tests/browser/axe/package.json (and its lock);
#: `make browser-deps` (run by `make test` and .ci/run) installs it.
AXE_SCRIPT = Path(__file__).parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"
#: The success criteria checked: WCAG 2.0 and 2.1, levels A and AA.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def _unavailable(reason: str) -> None:
    if os.environ.get("PLAYWRIGHT_REQUIRED") == "1":
        pytest.fail(f"browser tests are required here (PLAYWRIGHT_REQUIRED=1) but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def playwright_browser() -> Iterator:
    if not os.access(CHROMIUM, os.X_OK):
        _unavailable(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - the dev extra installs it
        _unavailable("the playwright package is not installed (pip install -e '.[dev]')")
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(playwright_browser, live_server):
    """A fresh browser page (own cookies) on the live server, in the Europe/Berlin time zone:
    the time-zone page proposes the browser's zone, never the server's UTC (the operation
    forms start in the staff member's own zone: tests/browser/test_one_time_zone.py)."""
    context = playwright_browser.new_context(
        base_url=live_server.url,
        timezone_id="Europe/Berlin",
        locale="en-GB",
        viewport={"width": 1400, "height": 1000},
    )
    context.set_default_timeout(20_000)
    page = context.new_page()
    yield page
    context.close()


def staff_with(*codenames: str, **fields):
    """A staff member holding the enrollments permissions named (e.g. "extend_access")."""
    user = StaffFactory(**fields)
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="enrollments", codename__in=codenames)
    )
    return user


#: What a support member of staff holds (docs/admin.md "Permissions").
SUPPORT_PERMISSIONS = (
    "view_enrollment",
    "change_enrollment",
    "extend_access",
    "pause_enrollment",
    "view_accesschange",
)


@pytest.fixture
def support_staff(transactional_db):
    """A support member of staff (SUPPORT_PERMISSIONS) whose time zone is Europe/Berlin, the
    browser's (see `page`): the keyboard tests read and type their times there."""
    return staff_with(*SUPPORT_PERMISSIONS, time_zone="Europe/Berlin")


def log_in(page, user) -> None:
    page.goto("/admin/login/?next=/admin/")
    page.fill("#id_username", user.email)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#user-tools")


@pytest.fixture(scope="session")
def axe_script() -> Path:
    if not AXE_SCRIPT.is_file():
        _unavailable(f"axe-core is not installed at {AXE_SCRIPT} (run `make browser-deps`)")
    return AXE_SCRIPT


def axe_violations(page, axe_script: Path) -> list[str]:
    """Runs axe-core on the page as it is now; one line per violation and element.

    axe-core is evaluated through the DevTools protocol rather than added as a <script>: the
    pages' Content-Security-Policy refuses inline scripts (tests/browser/test_csp.py)."""
    page.evaluate(axe_script.read_text() + "\nundefined;")
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS
    )
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} at "
        f"{' '.join(node['target'])}: {node['failureSummary']}"
        for violation in result["violations"]
        for node in violation["nodes"]
    ]


def assert_accessible(page, axe_script: Path) -> None:
    violations = axe_violations(page, axe_script)
    assert not violations, f"axe-core on {page.url}:\n" + "\n".join(violations)
