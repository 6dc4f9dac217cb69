"""The Content-Security-Policy of the admin and GraphiQL (config/settings.py).

The header is on every page, and its script policy holds without 'unsafe-inline' or
'unsafe-eval' because no page runs inline script: every <script> of every admin page reached
from the index (and of GraphiQL, the new API key's page, an action's preview) has a `src` or is
a data block, and no element carries an event-handler attribute or a `javascript:` URL.
tests/browser/test_csp.py checks the same in Chromium: no violation reported, GraphiQL works.
"""

from collections import deque
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from django.urls import reverse

from tests.factories import (
    AccessChangeFactory,
    CourseFactory,
    CourseItemFactory,
    EnrollmentFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

#: Script types a browser does not run (data blocks, JSON for scripts to read).
DATA_BLOCK_TYPES = {"application/json", "application/ld+json", "text/template"}


def directives(response) -> dict[str, list[str]]:
    header = response.headers["Content-Security-Policy"]
    parsed = {}
    for part in header.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


class Markup(HTMLParser):
    """The inline scripts, event-handler attributes, `javascript:` URLs and links of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.inline_scripts: list[str] = []
        self.handlers: list[str] = []
        self.script_urls: list[str] = []
        self.links: list[str] = []
        self._in_inline_script = False
        self._script_text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        for name, value in attrs:
            if name.startswith("on"):
                self.handlers.append(f"<{tag} {name}={value!r}>")
            if value and value.strip().lower().startswith("javascript:"):
                self.handlers.append(f"<{tag} {name}={value!r}>")
        if tag == "a" and attributes.get("href"):
            self.links.append(attributes["href"])
        if tag != "script":
            return
        if attributes.get("src"):
            self.script_urls.append(attributes["src"])
        elif (attributes.get("type") or "").lower() not in DATA_BLOCK_TYPES and not attributes.get(
            "nonce"
        ):
            self._in_inline_script = True
            self._script_text = []

    def handle_data(self, data):
        if self._in_inline_script:
            self._script_text.append(data)

    def handle_endtag(self, tag):
        if tag == "script" and self._in_inline_script:
            self.inline_scripts.append("".join(self._script_text).strip()[:200])
            self._in_inline_script = False


def markup(response) -> Markup:
    parser = Markup()
    parser.feed(response.content.decode())
    return parser


def assert_no_inline_script(response, where: str) -> None:
    page = markup(response)
    assert page.inline_scripts == [], f"inline <script> on {where}"
    assert page.handlers == [], f"event handler or javascript: URL on {where}"


def assert_strict_script_policy(response, where: str) -> None:
    policy = directives(response)
    assert policy["script-src"] == ["'self'"], where
    assert policy["default-src"] == ["'self'"], where
    assert policy["object-src"] == ["'none'"], where
    assert policy["frame-ancestors"] == ["'none'"], where
    assert policy["base-uri"] == ["'none'"], where
    assert policy["form-action"] == ["'self'"], where
    for values in policy.values():
        assert "'unsafe-eval'" not in values, where
    assert "'unsafe-inline'" not in policy["script-src"], where


@pytest.fixture
def everything(clock):
    """One row of every model the admin lists, so that each list and change page has content
    (autocomplete widgets, inlines, prepopulated fields, history)."""
    course = CourseFactory(title="Python Basics", slug="python-basics")
    CourseItemFactory(course=course, position=1)
    enrollment = EnrollmentFactory(course=course)
    AccessChangeFactory(enrollment=enrollment)
    return enrollment


@pytest.fixture
def superuser_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def crawl(client, start: str, limit: int = 80) -> dict[str, object]:
    """GETs every admin page reachable from `start` by links (one query string per path),
    logging out excepted; the responses by URL."""
    seen_paths: set[str] = set()
    pages: dict[str, object] = {}
    queue = deque([start])
    while queue and len(pages) < limit:
        url = queue.popleft()
        path = urlsplit(url).path
        if path in seen_paths or not path.startswith("/admin/") or "logout" in path:
            continue
        seen_paths.add(path)
        response = client.get(url)
        if response.status_code != 200 or "text/html" not in response.headers["Content-Type"]:
            continue
        pages[url] = response
        for link in markup(response).links:
            target = urljoin(url, link)
            if urlsplit(target).netloc in ("", "testserver"):
                queue.append(urlsplit(target)._replace(scheme="", netloc="").geturl())
    return pages


def test_every_admin_page_has_the_policy_and_no_inline_script(superuser_client, everything):
    pages = crawl(superuser_client, reverse("admin:index"))

    # The crawl reaches every kind of page: lists, change and add forms, history, the
    # enrollment's own pages (extend, enroll), the time-zone page, the password form.
    reached = " ".join(pages)
    for fragment in (
        "/admin/enrollments/enrollment/",
        "/admin/enrollments/accesschange/",
        "/admin/apikeys/apikey/add/",
        "/admin/lms/course/add/",
        "/admin/lms/user/",
        "/password/",
        "/history/",
        "/admin/enrollments/enrollment/enroll/",
        "/change/",
    ):
        assert fragment in reached, fragment
    assert len(pages) >= 25
    for url, response in pages.items():
        assert_strict_script_policy(response, url)
        assert_no_inline_script(response, url)
        assert markup(response).script_urls, f"no script at all on {url}?"


def test_the_log_in_page_and_the_new_api_key_page(client, superuser_client):
    login = client.get(reverse("admin:login"))
    assert_strict_script_policy(login, "log-in")
    assert_no_inline_script(login, "log-in")

    created = superuser_client.post(
        reverse("admin:apikeys_apikey_add"), {"user": str(UserFactory().pk), "name": "csp"}
    )
    assert created.templates[0].name == "admin/apikeys/apikey/created.html"
    assert_strict_script_policy(created, "the new key's page")
    assert_no_inline_script(created, "the new key's page")
    assert "data-select-on-focus" in created.content.decode()


def test_an_actions_preview_page(superuser_client, everything):
    """The "Extend access…" action answers its form page to the changelist's POST."""
    response = superuser_client.post(
        reverse("admin:enrollments_enrollment_changelist"),
        {
            "action": "extend_access",
            "index": "0",
            "select_across": "0",
            "_selected_action": [str(everything.pk)],
        },
        follow=True,
    )
    assert response.status_code == 200
    assert response.templates[0].name.endswith("extend_access.html")
    assert_strict_script_policy(response, "extend access")
    assert_no_inline_script(response, "extend access")


def test_graphiql_has_the_policy_and_no_inline_script(superuser_client):
    page = superuser_client.get("/graphql/", HTTP_ACCEPT="text/html")

    assert page.status_code == 200
    assert_strict_script_policy(page, "GraphiQL")
    assert_no_inline_script(page, "GraphiQL")
    assert directives(page)["connect-src"] == ["'self'"]
    html = page.content.decode()
    # The settings graphene-django's bootstrap reads come as data attributes.
    assert 'data-header-editor-enabled="true"' in html
    assert "window.GRAPHENE_SETTINGS" not in html


def test_the_api_answers_carry_the_policy_too(client):
    response = client.post(
        "/graphql/", {"query": "{ __typename }"}, content_type="application/json"
    )
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_styles_allow_inline_ones_without_a_nonce(superuser_client):
    """docs/reliability.md: Django's admin and its widgets write `style` attributes; a nonce in
    style-src would make browsers ignore 'unsafe-inline', so there is none."""
    policy = directives(superuser_client.get(reverse("admin:index")))
    assert policy["style-src"] == ["'self'", "'unsafe-inline'"]
    assert not [value for values in policy.values() for value in values if "nonce-" in value]
