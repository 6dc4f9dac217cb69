"""Gzipped request bodies (enrollments/graphql/request_encoding.py): inflated and run; a body that
inflates past the limit (a zip bomb) is HTTP 413 with nothing run; other codings 415; a corrupt
or cut stream 400."""

import gzip
import json
import zlib
from datetime import timedelta

import pytest
from django.test import override_settings

from enrollments.graphql import request_encoding
from tests.graphql.conftest import error_codes
from tests.graphql.documents import EXTEND

QUERY = "{ courseMemberships(first: 1) { total_count } }"


@pytest.fixture
def key(manager, make_key) -> str:
    return make_key(manager)


def post(client, body: bytes, key: str, encoding: str | None = "gzip"):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    if encoding is not None:
        headers["HTTP_CONTENT_ENCODING"] = encoding
    return client.post("/graphql/", body, content_type="application/json", **headers)


def test_a_gzipped_json_body_runs(client, key):
    body = gzip.compress(json.dumps({"query": QUERY}).encode())
    response = post(client, body, key)
    assert response.status_code == 200
    assert response.json() == {"data": {"courseMemberships": {"total_count": 0}}}


def test_x_gzip_identity_and_a_gzipped_graphql_body(client, key):
    assert post(client, gzip.compress(QUERY.encode()), key, "x-gzip").status_code == 400
    response = client.post(
        "/graphql/",
        gzip.compress(QUERY.encode()),
        content_type="application/graphql",
        HTTP_CONTENT_ENCODING="x-gzip",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    assert response.json() == {"data": {"courseMemberships": {"total_count": 0}}}
    plain = post(client, json.dumps({"query": QUERY}).encode(), key, "identity")
    assert plain.json() == {"data": {"courseMemberships": {"total_count": 0}}}


def test_a_zip_bomb_is_413_and_its_mutation_never_runs(client, key, enrollment):
    """The same gzipped extension runs; padded with 10 MB of blanks in its variables (10 KB
    gzipped) it is refused before it is decoded, and nothing changes."""
    variables = {
        "userId": str(enrollment.user_id),
        "courseId": str(enrollment.course_id),
        "extensionDays": 5,
    }
    ended_at = enrollment.ended_at

    def gzipped(padding: str) -> bytes:
        body = json.dumps({"query": EXTEND, "variables": {**variables, "reason": padding}})
        return gzip.compress(body.encode(), compresslevel=9)

    bomb = gzipped(" " * 10_000_000)
    assert len(bomb) < 20_000
    response = post(client, bomb, key)
    assert response.status_code == 413
    assert response.json() == {
        "errors": [
            {
                "message": "The request body inflates to more than 2621440 bytes.",
                "extensions": {"code": "BAD_REQUEST"},
            }
        ]
    }
    enrollment.refresh_from_db()
    assert enrollment.ended_at == ended_at
    extended = post(client, gzipped("renewal"), key).json()
    assert extended["data"]["extendStudentCourseAccess"]["enrollment"] is not None
    enrollment.refresh_from_db()
    assert enrollment.ended_at == ended_at + timedelta(days=5)


@pytest.mark.parametrize("encoding", ["br", "deflate", "gzip, gzip", "zstd"])
def test_other_codings_are_415(client, key, encoding):
    response = post(client, gzip.compress(b"{}"), key, encoding)
    assert response.status_code == 415
    assert error_codes(response.json()) == ["BAD_REQUEST"]
    assert repr(encoding) in response.json()["errors"][0]["message"]


@pytest.mark.parametrize(
    "body",
    [
        b'{"query": "{ __typename }"}',  # not compressed at all
        gzip.compress(b'{"query": "{ __typename }"}')[:-6],  # cut before its trailer
        b"",
    ],
    ids=["plain", "cut", "empty"],
)
def test_a_body_that_is_not_gzip_is_400(client, key, body):
    response = post(client, body, key)
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"] == "The request body is not valid gzip data."


def test_several_gzip_members_are_one_body(client, key):
    text = json.dumps({"query": QUERY}).encode()
    body = gzip.compress(text[:10]) + gzip.compress(text[10:])
    assert post(client, body, key).json() == {"data": {"courseMemberships": {"total_count": 0}}}


def test_multipart_with_an_encoding_is_415(client, key):
    response = client.post(
        "/graphql/",
        {"query": QUERY},
        HTTP_CONTENT_ENCODING="gzip",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    assert response.status_code == 415


def test_inflating_stops_at_the_bound():
    """The bound holds inside zlib: past it the inflater is not asked for more."""
    bomb = zlib.compress(b"\0" * 10_000_000, wbits=16 + zlib.MAX_WBITS)
    with pytest.raises(request_encoding.InflatedTooLarge):
        request_encoding.inflate_gzip(bomb, limit=1000)
    assert request_encoding.inflate_gzip(gzip.compress(b"x" * 1000), limit=1000) == b"x" * 1000


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=100)
def test_the_bound_is_djangos_upload_limit(client, key):
    body = gzip.compress(json.dumps({"query": QUERY + " " * 200}).encode())
    assert post(client, body, key).status_code == 413
