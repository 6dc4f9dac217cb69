"""CORS in Chromium (issue 27 item 3): a page served from one origin (a tiny http.server on
127.0.0.1) calls the live server on another (localhost) with an API key, as a platform's web
app on its own domain does. Listed in CORS_ALLOWED_ORIGINS, the browser sends the preflight,
then the request, and lets the page read the answer and the exposed headers; not listed, the
browser refuses it (the page sees a network error). tests/config/test_cors.py checks the
headers themselves."""

import http.server
import threading
from collections.abc import Iterator

import pytest

from apikeys.models import APIKey
from enrollments.models import Enrollment
from tests.factories import EnrollmentFactory, UserFactory

pytestmark = pytest.mark.browser

PAGE = b"<!doctype html><title>Another origin</title><p>A platform's web app</p>"

#: The page's call: every header a client of the two APIs sends (Healthie's key style with its
#: AuthorizationSource and version header, an Idempotency-Key), so the preflight must allow
#: them all. Answers what the page could read, or the browser's error.
CALL = """async ([url, key]) => {
  try {
    const answer = await fetch(url, {
      method: "POST",
      headers: {
        "Authorization": "Basic " + key,
        "AuthorizationSource": "API",
        "Healthie-GraphQL-API-Version": "2025-01-01",
        "Idempotency-Key": "browser-test-1",
        "Content-Type": "application/json",
      },
      body: JSON.stringify({query: "{ courseMemberships { nodes { id } } }"}),
    });
    return {status: answer.status, data: (await answer.json()).data,
            contentType: answer.headers.get("Content-Type")};
  } catch (error) {
    return {error: String(error)};
  }
}"""


class _Page(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(PAGE)))
        self.end_headers()
        self.wfile.write(PAGE)

    def log_message(self, *args) -> None:  # quiet
        pass


@pytest.fixture(scope="module")
def other_origin() -> Iterator[str]:
    """The origin of the calling page: 127.0.0.1 on a port of its own (the live server is
    `localhost` on another port, so another origin on the same machine)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def learner_key(transactional_db) -> tuple[str, Enrollment]:
    enrollment = EnrollmentFactory(user=UserFactory())
    return APIKey.objects.create_key(user=enrollment.user)[1], enrollment


@pytest.fixture
def app_page(playwright_browser, other_origin):
    context = playwright_browser.new_context()
    context.set_default_timeout(20_000)
    page = context.new_page()
    page.goto(other_origin + "/")
    yield page
    context.close()


def test_a_page_on_a_listed_origin_reads_the_answer(
    app_page, live_server, other_origin, learner_key, settings
):
    settings.CORS_ALLOWED_ORIGINS = [other_origin]
    key, enrollment = learner_key
    result = app_page.evaluate(CALL, [live_server.url + "/graphql", key])
    assert result == {
        "status": 200,
        "data": {"courseMemberships": {"nodes": [{"id": str(enrollment.pk)}]}},
        "contentType": "application/json",
    }


def test_a_page_on_an_origin_not_listed_is_refused_by_the_browser(
    app_page, live_server, other_origin, learner_key, settings
):
    settings.CORS_ALLOWED_ORIGINS = ["https://app.example.com"]
    key, _enrollment = learner_key
    result = app_page.evaluate(CALL, [live_server.url + "/graphql/", key])
    assert result == {"error": "TypeError: Failed to fetch"}
