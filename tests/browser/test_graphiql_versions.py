"""GraphiQL picks the API version (docs/api.md "Versions"): its Headers tab sends
`Healthie-GraphQL-API-Version` with every request, so a member of staff sees the 2026-01-01
schema's answer (course_status as the enum) in the browser, under the page's CSP, and a
re-fetch of the schema introspects that version."""

import urllib.parse

import pytest

from tests.browser.conftest import log_in_directly
from tests.factories import CourseFactory, CourseItemFactory, EnrollmentFactory, UserFactory

pytestmark = pytest.mark.browser

QUERY = "{ courseMemberships(first: 1) { nodes { course_status } } }"


@pytest.fixture
def superuser(transactional_db):
    course = CourseFactory()
    CourseItemFactory(course=course)
    EnrollmentFactory(course=course)
    return UserFactory(is_staff=True, is_superuser=True)


def run(page, expected: str) -> None:
    """Runs the query and waits for `expected` in the result (fails on the timeout)."""
    page.click(".graphiql-execute-button")
    page.wait_for_function(
        "expected => (document.querySelector('.result-window') || {})"
        ".textContent?.includes(expected)",
        arg=expected,
    )


def test_the_headers_tab_selects_the_version(page, superuser, live_server):
    log_in_directly(page, superuser)
    page.goto("/graphql/#query=" + urllib.parse.quote(QUERY))
    page.wait_for_selector(".graphiql-execute-button")
    run(page, '"not_started"')  # no header: the contract's 2025-01-01

    page.get_by_role("button", name="Headers").click()
    editor = page.locator(".graphiql-editor-tool .graphiql-editor:visible").last
    editor.click()
    page.keyboard.type('{"Healthie-GraphQL-API-Version": "2026-01-01"')
    assert "2026-01-01" in editor.inner_text()
    run(page, '"NOT_STARTED"')
    assert "not_started" not in page.inner_text(".result-window")

    # Re-fetching the schema introspects with the header: the explorer shows 2026-01-01.
    with page.expect_request(
        lambda request: (
            request.method == "POST" and "IntrospectionQuery" in (request.post_data or "")
        )
    ) as introspection:
        page.get_by_role("button", name="Re-fetch GraphQL schema").click()
    assert introspection.value.headers.get("healthie-graphql-api-version") == "2026-01-01"
