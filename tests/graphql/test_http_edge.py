"""The HTTP edge of the GraphQL endpoint: a multipart body read as strictly as the others
(whole, within the size limit, UTF-8, no file), another method answered 405 before a persisted
query's hash is looked at, and `__typename` beside sendTestWebhook under an Idempotency-Key."""

import json
import uuid

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

LIMIT = 1_000
BOUNDARY = "BoUnDaRy"


def multipart(*parts: tuple[str, bytes, str | None]) -> bytes:
    """A multipart/form-data body of (name, value, filename or None) parts."""
    body = b""
    for name, value, filename in parts:
        disposition = f'form-data; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
        body += (
            f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n".encode()
            + (b"Content-Type: application/octet-stream\r\n" if filename else b"")
            + b"\r\n"
            + value
            + b"\r\n"
        )
    return body + f"--{BOUNDARY}--\r\n".encode()


def post_multipart(body: bytes):
    return Client(raise_request_exception=False).post(
        "/graphql/", body, content_type=f"multipart/form-data; boundary={BOUNDARY}"
    )


def refused(response) -> str:
    assert response.status_code == 400, (response.status_code, response.content[:200])
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "BAD_REQUEST"
    return error["message"]


def test_a_multipart_body_over_the_limit_is_refused_whatever_its_parts(settings):
    """Django's DATA_UPLOAD_MAX_MEMORY_SIZE leaves a multipart body's file parts out (spooled
    to disk, any size): a body of 20 times the limit was read and answered 200."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = LIMIT
    body = multipart(("query", b"{__typename}", None), ("padding", b"x" * 20 * LIMIT, "p.bin"))
    assert refused(post_multipart(body)) == f"The request body is larger than {LIMIT} bytes."


def test_a_multipart_body_with_a_file_is_refused():
    body = multipart(("query", b"{__typename}", None), ("file", b"tiny", "a.txt"))
    assert refused(post_multipart(body)) == (
        "A multipart body cannot carry files: the API takes none."
    )


def test_a_multipart_field_that_is_not_utf8_is_refused_not_repaired():
    """Django's parser replaced the invalid byte with U+FFFD and the document ran."""
    body = multipart(("query", b"# \xff\n{__typename}", None))
    assert "not UTF-8" in refused(post_multipart(body))


def test_a_multipart_body_of_fields_runs():
    response = post_multipart(multipart(("query", "{ __typename } # é".encode(), None)))
    assert (response.status_code, response.json()) == (200, {"data": {"__typename": "Query"}})


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_another_method_with_a_persisted_query_hash_is_405(method, make_key, viewer):
    """A PUT carrying an unknown persisted query's hash was answered 200
    PERSISTED_QUERY_NOT_FOUND, which tells Apollo Client to send the text again by the same
    method; docs/api.md's status table answers another method 405."""
    client = Client(raise_request_exception=False, HTTP_AUTHORIZATION=f"Bearer {make_key(viewer)}")
    body = json.dumps({"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "a" * 64}}})
    response = getattr(client, method)("/graphql/", body, content_type="application/json")
    assert response.status_code == 405, (response.status_code, response.content[:200])
    assert response["Allow"] == "GET, POST"


def test_typename_beside_send_test_webhook_is_not_another_mutation(make_key, viewer):
    """A document with sendTestWebhook ignores its Idempotency-Key, and is refused 422 only
    beside another mutation; `__typename` runs nothing, and was counted as one."""
    client = Client(raise_request_exception=False, HTTP_AUTHORIZATION=f"Bearer {make_key(viewer)}")
    document = (
        'mutation { sendTestWebhook(input: {id: "00000000-0000-0000-0000-000000000000"}) '
        "{ sent } __typename }"
    )
    response = client.post(
        "/graphql/",
        json.dumps({"query": document}),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
    )
    assert response.status_code == 200, (response.status_code, response.content[:300])
    assert response.json()["data"]["__typename"] == "Mutation"
