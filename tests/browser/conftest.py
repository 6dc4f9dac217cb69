"""Real-browser fixtures: Debian's Chromium driven by Playwright against pytest-django's
live_server.

Never `playwright install` (it downloads a browser): the tests use /usr/bin/chromium. Without it
they skip with the reason, except in CI (PLAYWRIGHT_REQUIRED=1, set by .ci/run), where a missing
browser fails them.

One Chromium serves a worker's consecutive browser tests, across modules (`_SharedBrowser`);
each test still gets a fresh context (its own cookies, storage and cache). Launching Playwright's
driver and Chromium cost about a second of CPU and two of wall time, once per module before.

Playwright's sync API runs an event loop in this thread while it is started, and Django refuses
ORM calls from a thread with a running loop unless DJANGO_ALLOW_ASYNC_UNSAFE is set. The test and
the live server never run ORM code concurrently on one connection, so the flag is safe here. The
loop and the flag must not outlive the browser tests: a test elsewhere would run with Django's
async-safety check off and with a running loop in its thread (asyncio.run and async_to_sync
refuse that). So Playwright is stopped, and the flag restored, as soon as the next test of the
worker is not a browser test (`pytest_runtest_teardown` below) or the session ends; only a run
of browser tests shares it.
"""

import functools
import os
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.test import Client

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


class _SharedBrowser:
    """Playwright and one Chromium, started by the first browser test of a run of them and
    stopped by `stop` (the module docstring says when), with DJANGO_ALLOW_ASYNC_UNSAFE set in
    between."""

    def __init__(self) -> None:
        self.playwright = None
        self.browser = None
        self.previous_flag: str | None = None
        self.flag_set = False

    def get(self):
        if self.browser is not None and not self.browser.is_connected():
            self.stop()  # it crashed or was closed: the next tests get a new one
        if self.browser is None:
            self._start()
        return self.browser

    def _start(self) -> None:
        if not os.access(CHROMIUM, os.X_OK):
            _unavailable(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
        try:
            from playwright.sync_api import sync_playwright
        except ImportError:  # pragma: no cover - the dev extra installs it
            _unavailable("the playwright package is not installed (pip install -e '.[dev]')")
        self.previous_flag = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
        self.flag_set = True
        try:
            self.playwright = sync_playwright().start()
            self.browser = self.playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        if not self.flag_set:
            return
        try:
            if self.browser is not None:
                self.browser.close()
        finally:
            try:
                if self.playwright is not None:
                    self.playwright.stop()
            finally:
                self._forget()

    def _forget(self) -> None:
        """Restores DJANGO_ALLOW_ASYNC_UNSAFE, even when closing the browser failed."""
        self.browser = self.playwright = None
        self.flag_set = False
        if self.previous_flag is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = self.previous_flag


_shared = _SharedBrowser()


@pytest.fixture
def playwright_browser():
    """The worker's Chromium (started on first use); a test opens its own context on it."""
    return _shared.get()


def is_browser_test(item) -> bool:
    return "playwright_browser" in getattr(item, "fixturenames", ())


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """After the test's own fixtures (its context) are torn down: stops Playwright unless the
    worker's next test is a browser test too (pytest-xdist knows its next test: it takes it
    from the queue before running this one, so work stealing cannot change it)."""
    try:
        return (yield)
    finally:
        if nextitem is None or not is_browser_test(nextitem):
            _shared.stop()


def live_context(browser, live_server, **options):
    """A new context on the live server, its base URL kept for `log_in_directly`."""
    context = browser.new_context(base_url=live_server.url, **options)
    context.set_default_timeout(20_000)
    context.live_server_url = live_server.url
    return context


@pytest.fixture
def page(playwright_browser, live_server):
    """A fresh browser page (own cookies) on the live server, in the Europe/Berlin time zone:
    the time-zone page proposes the browser's zone, never the server's UTC (the operation
    forms start in the staff member's own zone: tests/browser/test_one_time_zone.py)."""
    context = live_context(
        playwright_browser,
        live_server,
        timezone_id="Europe/Berlin",
        locale="en-GB",
        viewport={"width": 1400, "height": 1000},
    )
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
    """Logs in through the admin's log-in form, as a person does (three page loads: the form,
    its POST, the admin's home). For the tests about logging in or about the log-in page; the
    others use `log_in_directly`."""
    page.goto("/admin/login/?next=/admin/")
    submit_log_in_form(page, user)


def submit_log_in_form(page, user) -> None:
    """Fills in and sends the log-in form the page shows."""
    page.fill("#id_username", user.email)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#user-tools")


def log_in_directly(page, user) -> None:
    """Gives the page's context the session cookie of `user`, the session made server-side by
    Django's test client (force_login): the test's first page is then the admin as that user,
    with no page loaded to log in (the form's three loads took about a second of each test).

    The session names the backend a log-in through the form records: the first that answers
    users (django-axes' backend comes first but only refuses locked-out log-ins). The staff
    member's language and time zone come from the user on every request
    (lms.language.UserLanguageMiddleware, enrollments.admin.time_zone), not from the log-in."""
    backends = settings.AUTHENTICATION_BACKENDS
    backend = next(path for path in backends if not path.startswith("axes."))
    client = Client()
    client.force_login(user, backend=backend)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": cookie.value,
                "url": page.context.live_server_url,
            }
        ]
    )


@pytest.fixture(scope="session")
def axe_script() -> Path:
    if not AXE_SCRIPT.is_file():
        _unavailable(f"axe-core is not installed at {AXE_SCRIPT} (run `make browser-deps`)")
    return AXE_SCRIPT


#: Runs axe-core with the WCAG tags and answers one line per violation and element. Only the
#: violations are collected in full (`resultTypes`): axe-core then skips building selectors for
#: every passing and inapplicable node, most of its time on these pages (a run took 0.5-0.8 s,
#: 0.2 s so), and the answer sent back through Playwright is the few lines, not every result.
AXE_RUN = """async tags => {
  const result = await axe.run(document, {
    runOnly: {type: "tag", values: tags},
    resultTypes: ["violations"],
  });
  return result.violations.flatMap(violation => violation.nodes.map(node =>
    `${violation.id} (${violation.impact}): ${violation.help} at ` +
    `${node.target.join(" ")}: ${node.failureSummary}`));
}"""


@functools.cache
def _axe_source(axe_script: Path) -> str:
    return axe_script.read_text() + "\nundefined;"


def axe_violations(page, axe_script: Path) -> list[str]:
    """Runs axe-core on the page as it is now; one line per violation and element.

    axe-core is evaluated through the DevTools protocol rather than added as a <script>: the
    pages' Content-Security-Policy refuses inline scripts (tests/browser/test_csp.py). It is
    evaluated once per document (650 kB: 0.1-0.4 s each time)."""
    if page.evaluate("typeof window.axe === 'undefined'"):
        page.evaluate(_axe_source(axe_script))
    return page.evaluate(AXE_RUN, AXE_TAGS)


def assert_accessible(page, axe_script: Path) -> None:
    violations = axe_violations(page, axe_script)
    assert not violations, f"axe-core on {page.url}:\n" + "\n".join(violations)
