"""GraphiQL comes from the app's own static files: the page names no other host, and every
vendored asset is byte for byte the file graphene-django pins (its SRI hashes). The production
smoke (.ci/run) loads it in Chromium and counts the requests to other hosts: zero."""

import base64
import hashlib
import re
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from graphene_django.views import GraphQLView

ASSETS = Path(__file__).resolve().parents[2] / "enrollments/static/enrollments/graphiql"
PINNED = {
    "fetch.umd.js": GraphQLView.whatwg_fetch_sri,
    "react.production.min.js": GraphQLView.react_sri,
    "react-dom.production.min.js": GraphQLView.react_dom_sri,
    "graphiql.min.js": GraphQLView.graphiql_sri,
    "graphiql.min.css": GraphQLView.graphiql_css_sri,
    "graphql-ws.min.js": GraphQLView.subscriptions_transport_ws_sri,
    "graphiql-plugin-explorer.umd.js": GraphQLView.graphiql_plugin_explorer_sri,
    "graphiql-plugin-explorer.css": GraphQLView.graphiql_plugin_explorer_css_sri,
}


@pytest.mark.parametrize(("name", "sri"), PINNED.items())
def test_each_vendored_asset_is_the_one_graphene_django_pins(name, sri):
    digest = hashlib.sha256((ASSETS / name).read_bytes()).digest()
    assert "sha256-" + base64.b64encode(digest).decode() == sri


def test_the_page_loads_only_from_this_server(client, viewer):
    client.force_login(viewer)
    page = client.get("/graphql/", HTTP_ACCEPT="text/html")
    assert page.status_code == 200
    html = page.content.decode()
    urls = re.findall(r'(?:src|href)="([^"]+)"', html)
    # 2 stylesheets, 6 libraries, the settings script and graphene-django's bootstrap script
    assert len(urls) == 10
    for url in urls:
        assert url.startswith("/static/"), url
        assert finders.find(url.removeprefix("/static/")), url
    assert "cdn" not in html.lower()
    assert "https://" not in html and "http://" not in html
