"""A malformed or unknown key in any header style: the same UNAUTHENTICATED answer, and no data
read (a malformed key reaches no table; an unknown one reads its key row and nothing else)."""

import json

import pytest

from tests.graphql.conftest import error_codes

pytestmark = pytest.mark.django_db

QUERY = "{ courseMemberships { nodes { id } } }"
STYLES = {
    "bearer": lambda key: {"HTTP_AUTHORIZATION": f"Bearer {key}"},
    "healthie": lambda key: {
        "HTTP_AUTHORIZATION": f"Basic {key}",
        "HTTP_AUTHORIZATIONSOURCE": "API",
    },
    "teachify": lambda key: {"HTTP_X_TEACHIFY_API_KEY": key},
}


def post(client, path, headers):
    return client.post(
        path, json.dumps({"query": QUERY}), content_type="application/json", **headers
    )


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize(("kind", "queries"), [("malformed", 0), ("unknown", 1)])
def test_bad_keys_read_no_data(
    client, make_key, viewer, style, kind, queries, django_assert_num_queries
):
    key = make_key(viewer)
    bad = "not a key" if kind == "malformed" else key[:-4] + "AAAA"
    path = "/graphql" if style == "healthie" else "/graphql/"
    with django_assert_num_queries(queries):
        response = post(client, path, STYLES[style](bad))
    assert response.status_code == 401
    assert error_codes(response.json()) == ["UNAUTHENTICATED"]
    assert "data" not in response.json()


def test_anonymous_requests_are_told_the_three_styles(api):
    body = api.post(QUERY)
    assert error_codes(body) == ["UNAUTHENTICATED"]
    message = body["errors"][0]["message"]
    for header in (
        "Authorization: Bearer <key>",
        "Authorization: Basic <key>",
        "X-Teachify-API-Key: <key>",
    ):
        assert header in message
