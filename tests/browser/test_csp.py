"""The Content-Security-Policy in Chromium: the admin's pages and GraphiQL run under it with no
violation reported (no `securitypolicyviolation` event, no "Refused to ..." console message),
and GraphiQL still runs a query. A script injected inline is refused, so the listener does see
violations when there are some."""

import pytest

from tests.browser.conftest import log_in, log_in_directly
from tests.factories import (
    AccessChangeFactory,
    CourseFactory,
    CourseItemFactory,
    EnrollmentFactory,
    UserFactory,
)

pytestmark = pytest.mark.browser

#: Runs before any of the page's own scripts (Playwright's init scripts are not the page's, so
#: the policy does not apply to them) and records every violation the page reports.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__cspViolations.push(
    event.violatedDirective + " blocked " + (event.blockedURI || "inline") + " at " +
    event.sourceFile + ":" + event.lineNumber
  );
});
"""


@pytest.fixture
def superuser(transactional_db):
    course = CourseFactory(title="Python Basics", slug="python-basics")
    CourseItemFactory(course=course, position=1)
    AccessChangeFactory(enrollment=EnrollmentFactory(course=course))
    return UserFactory(is_staff=True, is_superuser=True, time_zone="Europe/Berlin")


@pytest.fixture
def watched(page):
    """The page, recording policy violations and the console's refusals."""
    page.add_init_script(RECORD_VIOLATIONS)
    refusals: list[str] = []
    page.on(
        "console",
        lambda message: (
            refusals.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    page.refusals = refusals
    return page


def visit(page, path: str) -> None:
    response = page.goto(path)
    assert response.status == 200, path
    assert "script-src 'self'" in response.headers["content-security-policy"], path
    page.wait_for_load_state("load")


def violations(page) -> list[str]:
    return page.evaluate("window.__cspViolations") + page.refusals


def test_admin_pages_run_without_a_violation(watched, superuser, live_server):
    log_in(watched, superuser)  # through the form: the log-in page runs under the watch too
    enrollment_list = "/admin/enrollments/enrollment/"
    for path in (
        "/admin/",
        enrollment_list,
        "/admin/enrollments/accesschange/",
        "/admin/enrollments/enrollment/enroll/",
        "/admin/lms/course/add/",  # prepopulated slug
        f"/admin/lms/user/{superuser.pk}/change/",  # the permissions' two-list widgets
        "/admin/apikeys/apikey/add/",  # autocomplete (select2)
    ):
        visit(watched, path)
        assert violations(watched) == [], path

    # The list's scripts at work: select a row, run "Extend access…", see its page.
    visit(watched, enrollment_list)
    watched.check("input.action-select")
    watched.select_option("select[name=action]", "extend_access")
    watched.click("button[name=index]")
    watched.wait_for_selector("#extend-access-form, form[id$=-form]")
    assert violations(watched) == []

    # The prepopulated slug is filled by Django's script (a data attribute, no inline code).
    visit(watched, "/admin/lms/course/add/")
    watched.locator("#id_title").press_sequentially("Content Security")
    assert watched.input_value("#id_slug") == "content-security"
    assert violations(watched) == []


def test_graphiql_runs_a_query_without_a_violation(watched, superuser, live_server):
    log_in(watched, superuser)
    visit(watched, "/graphql/#query=%7B%20__typename%20%7D")
    watched.wait_for_selector(".graphiql-execute-button")

    watched.click(".graphiql-execute-button")

    watched.wait_for_function(
        "() => (document.querySelector('.result-window') || {}).textContent?.includes('\"Query\"')"
    )
    assert violations(watched) == []


def test_an_inline_script_is_refused_and_reported(watched, superuser, live_server):
    log_in_directly(watched, superuser)
    visit(watched, "/admin/")

    ran = watched.evaluate(
        """() => {
            window.__inlineRan = false;
            const script = document.createElement("script");
            script.textContent = "window.__inlineRan = true";
            document.body.appendChild(script);
            return new Promise(resolve => setTimeout(() => resolve(window.__inlineRan), 200));
        }"""
    )

    assert ran is False
    assert any("script-src" in violation for violation in violations(watched))
