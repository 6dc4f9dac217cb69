"""One decoder for every way of sending a GraphQL request (enrollments.graphql.request_body;
issue 14, finding 2): bodies that are not UTF-8, or too large, in any content type and in the
query string, are the API's JSON BAD_REQUEST (HTTP 400), never Django's HTML 500 or 400; and
every content type still serves a good request."""

import json
from urllib.parse import quote

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

LIMIT = 1_000


def refused(response, needle: str) -> None:
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    body = json.loads(response.content)
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_REQUEST"]
    assert needle in body["errors"][0]["message"]


@pytest.fixture(params=["anonymous", "key"])
def client(request, make_key, viewer):
    if request.param == "anonymous":
        return Client(raise_request_exception=False)
    return Client(raise_request_exception=False, HTTP_AUTHORIZATION=f"Bearer {make_key(viewer)}")


@pytest.mark.parametrize(
    "content_type",
    ["application/graphql", "application/json", "application/x-www-form-urlencoded"],
)
def test_a_body_that_is_not_utf8_is_bad_request(client, content_type):
    body = {
        "application/graphql": b"{__typename}\xff",
        "application/json": b'{"query": "{__typename}\xff"}',
        "application/x-www-form-urlencoded": b"query=%7B__typename%7D\xff",
    }[content_type]
    refused(client.post("/graphql/", body, content_type=content_type), "not UTF-8")


def test_percent_escapes_that_are_not_utf8_are_bad_request(client):
    refused(
        client.post(
            "/graphql/",
            "query=%7B__typename%7D%FF",
            content_type="application/x-www-form-urlencoded",
        ),
        "not UTF-8",
    )
    refused(client.get("/graphql/?query=%7B__typename%7D%FF"), "not UTF-8")
    refused(
        client.post("/graphql/?query=%ED%A0%80", b"{}", content_type="application/json"),
        "not UTF-8",
    )


@pytest.mark.parametrize(
    "content_type",
    [
        "application/graphql",
        "application/json",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=BoUnDaRy",
    ],
)
def test_a_body_over_the_upload_limit_is_the_apis_json_error(settings, client, content_type):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = LIMIT
    padding = "#" + "x" * LIMIT + "\n"
    body = {
        "application/graphql": padding + "{__typename}",
        "application/json": json.dumps({"query": padding + "{__typename}"}),
        "application/x-www-form-urlencoded": "query=" + quote(padding + "{__typename}"),
        "multipart/form-data; boundary=BoUnDaRy": (
            '--BoUnDaRy\r\nContent-Disposition: form-data; name="query"\r\n\r\n'
            + padding
            + "{__typename}\r\n--BoUnDaRy--\r\n"
        ),
    }[content_type]
    refused(
        client.post("/graphql/", body, content_type=content_type),
        f"larger than {LIMIT} bytes",
    )


def test_a_signed_in_session_over_the_limit_gets_json_too(settings, staff):
    """The CSRF check reads form bodies itself: the decoder runs first."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = LIMIT
    client = Client(raise_request_exception=False)
    client.force_login(staff)
    response = client.post(
        "/graphql/",
        "query=" + "x" * 2 * LIMIT,
        content_type="application/x-www-form-urlencoded",
    )
    refused(response, f"larger than {LIMIT} bytes")


def test_too_many_form_fields_are_bad_request(settings, client):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    body = "&".join(f"f{i}=1" for i in range(20)) + "&query=%7B__typename%7D"
    refused(
        client.post("/graphql/", body, content_type="application/x-www-form-urlencoded"),
        "More than 10 parameters",
    )


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (b"{", "invalid JSON"),
        (b"[1]", "not a valid JSON query"),
        (b'"text"', "not a valid JSON query"),
    ],
)
def test_json_that_is_not_one_query_is_bad_request(client, body, needle):
    refused(client.post("/graphql/", body, content_type="application/json"), needle)


def test_every_content_type_serves_a_good_request(client):
    document = "{ __typename }"
    responses = [
        client.get("/graphql/", {"query": document}, HTTP_ACCEPT="application/json"),
        client.post("/graphql/", document, content_type="application/graphql"),
        client.post("/graphql/", json.dumps({"query": document}), content_type="application/json"),
        client.post(
            "/graphql/",
            "query=" + quote(document),
            content_type="application/x-www-form-urlencoded",
        ),
        client.post("/graphql/", {"query": document}),  # multipart, the test client's default
        client.post("/graphql/?query=" + quote(document), b"", content_type="text/plain"),
    ]
    for response in responses:
        assert response.status_code == 200, response.content
        assert json.loads(response.content) == {"data": {"__typename": "Query"}}


def test_unicode_in_a_form_body_and_query_string_is_read_as_utf8(client):
    document = "{ __typename } # ünïcödé 😀"
    for response in (
        client.get("/graphql/?query=" + quote(document), HTTP_ACCEPT="application/json"),
        client.post(
            "/graphql/",
            "query=" + quote(document),
            content_type="application/x-www-form-urlencoded",
        ),
        client.post("/graphql/", document.encode(), content_type="application/graphql"),
    ):
        assert response.status_code == 200, response.content
