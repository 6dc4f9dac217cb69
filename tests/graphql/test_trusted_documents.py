"""Trusted documents (enrollments/graphql/persisted.py, GRAPHQL_TRUSTED_DOCUMENTS): with the
switch on only the manifest's documents run (by hash or by text), others are refused with a
clear code before they are parsed; the manifest's documents are parsed once when it is read and
validated once per API version and rules (a spy on graphql-core's parse and validate), still
limited, priced and counted; with the switch off the manifest's hashes are a shortcut; a broken
manifest is a configuration error naming the fault."""

import json
from urllib.parse import urlencode

import pytest
from django.core.cache import caches
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from enrollments.graphql import execution, persisted
from enrollments.graphql.persisted import load_manifest, sha256_of
from enrollments.graphql.persisted_checks import check_persisted_query_manifest
from tests.graphql.conftest import error_codes

COUNT = "query Count { courseMemberships(first: 1) { total_count } }"
COMPLETED = "query Completed { courseMemberships(course_status: COMPLETED) { total_count } }"
ALIASES = "{ " + " ".join(f"a{n}: courseMemberships {{ total_count }}" for n in range(16)) + " }"
OTHER = "query Other { courseMemberships(first: 2) { total_count } }"
VERSION = "HTTP_HEALTHIE_GRAPHQL_API_VERSION"


def manifest(*bodies: str) -> dict:
    return {
        "format": "apollo-persisted-query-manifest",
        "version": 1,
        "operations": [
            {"id": sha256_of(body), "name": f"Op{n}", "type": "query", "body": body}
            for n, body in enumerate(bodies)
        ],
    }


@pytest.fixture
def write_manifest(tmp_path, settings):
    def write(content, *, trusted: bool = True) -> str:
        path = tmp_path / "persisted-query-manifest.json"
        path.write_text(content if isinstance(content, str) else json.dumps(content))
        settings.GRAPHQL_PERSISTED_QUERIES = {
            **settings.GRAPHQL_PERSISTED_QUERIES,
            "TRUSTED_DOCUMENTS": trusted,
            "MANIFEST": str(path),
        }
        return str(path)

    yield write
    persisted.trusted_documents.cache_clear()
    execution.pin({})


@pytest.fixture(autouse=True)
def empty_caches():
    caches["default"].clear()
    execution.clear_caches()


@pytest.fixture
def key(viewer, make_key) -> str:
    return make_key(viewer)


def post(client, key, *, query=None, sha256=None, **headers):
    body = {}
    if query is not None:
        body["query"] = query
    if sha256 is not None:
        body["extensions"] = {"persistedQuery": {"version": 1, "sha256Hash": sha256}}
    return client.post(
        "/graphql/",
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
        **headers,
    )


COUNTED = {"data": {"courseMemberships": {"total_count": 0}}}


def test_registered_documents_run_by_hash_by_get_and_by_text(client, key, write_manifest):
    write_manifest(manifest(COUNT))
    assert post(client, key, sha256=sha256_of(COUNT)).json() == COUNTED
    assert post(client, key, query=COUNT).json() == COUNTED
    assert post(client, key, query=COUNT, sha256=sha256_of(COUNT)).json() == COUNTED
    extensions = json.dumps({"persistedQuery": {"version": 1, "sha256Hash": sha256_of(COUNT)}})
    response = client.get(
        f"/graphql/?{urlencode({'extensions': extensions})}",
        HTTP_AUTHORIZATION=f"Bearer {key}",
        CONTENT_TYPE="application/json",
    )
    assert response.json() == COUNTED


def test_other_documents_are_refused_before_they_are_parsed(
    client, key, write_manifest, monkeypatch
):
    write_manifest(manifest(COUNT))
    persisted.trusted_documents()
    parses = []
    monkeypatch.setattr(execution, "parse", lambda *args, **kw: parses.append(args))
    unknown_hash = post(client, key, sha256=sha256_of(OTHER))
    assert unknown_hash.status_code == 403
    assert unknown_hash.json() == {
        "errors": [
            {
                "message": f"Persisted query '{sha256_of(OTHER)}' is not in this server's list "
                "of trusted documents.",
                "extensions": {"code": "PERSISTED_QUERY_NOT_IN_LIST"},
            }
        ]
    }
    text = post(client, key, query=OTHER)
    assert (text.status_code, error_codes(text.json())) == (403, ["DOCUMENT_NOT_TRUSTED"])
    assert "trusted" in text.json()["errors"][0]["message"]
    registering = post(client, key, query=OTHER, sha256=sha256_of(OTHER))
    assert error_codes(registering.json()) == ["PERSISTED_QUERY_NOT_IN_LIST"]
    assert parses == []
    assert caches["default"].get(f"apq:{sha256_of(OTHER)}") is None  # nothing stored


def test_a_trusted_document_is_never_parsed_again_and_validated_once_per_version(
    client, key, write_manifest, monkeypatch
):
    """Parsed when the manifest is read; validated on its first request in each API version,
    then never again, even once the LRU caches of sent documents have moved on."""
    write_manifest(manifest(COUNT))
    persisted.trusted_documents()
    parsed, validated = [], []
    real_parse, real_validate = execution.parse, execution.validate

    def spy_parse(*args, **kwargs):
        parsed.append(args[0])
        return real_parse(*args, **kwargs)

    def spy_validate(schema, document, *args, **kwargs):
        validated.append(schema)
        return real_validate(schema, document, *args, **kwargs)

    monkeypatch.setattr(execution, "parse", spy_parse)
    monkeypatch.setattr(execution, "validate", spy_validate)
    for _ in range(3):
        assert post(client, key, sha256=sha256_of(COUNT)).json() == COUNTED
    assert (parsed, len(validated)) == ([], 1)
    for n in range(execution.DOCUMENT_CACHE_SIZE + 1):  # the LRU's every entry replaced
        execution.parsed(f"query Q{n} {{ __typename }}")
    parsed.clear()
    assert post(client, key, query=COUNT).json() == COUNTED
    assert post(client, key, sha256=sha256_of(COUNT), **{VERSION: "2026-01-01"}).json() == COUNTED
    assert post(client, key, sha256=sha256_of(COUNT), **{VERSION: "2026-01-01"}).json() == COUNTED
    assert parsed == []
    assert len(validated) == 2  # once more, for the 2026-01-01 schema
    assert validated[0] is not validated[1]


def test_validation_is_per_version(client, key, write_manifest):
    """COURSE_STATUS as an enum literal is valid in 2026-01-01 only (a String before)."""
    write_manifest(manifest(COMPLETED))
    newest = post(client, key, sha256=sha256_of(COMPLETED), **{VERSION: "2026-01-01"})
    assert newest.json() == COUNTED
    contract = post(client, key, sha256=sha256_of(COMPLETED))
    assert error_codes(contract.json()) == ["GRAPHQL_VALIDATION_FAILED"]


def test_trusted_documents_are_still_limited_priced_and_counted(
    client, key, write_manifest, settings
):
    write_manifest(manifest(ALIASES, COUNT))
    assert error_codes(post(client, key, sha256=sha256_of(ALIASES)).json()) == ["TOO_MANY_ALIASES"]
    settings.GRAPHQL_LIMITS = {**settings.GRAPHQL_LIMITS, "MAX_COST": 1}
    costly = post(client, key, sha256=sha256_of(COUNT))
    assert error_codes(costly.json()) == ["QUERY_TOO_COSTLY"]
    settings.GRAPHQL_LIMITS = {**settings.GRAPHQL_LIMITS, "MAX_COST": 100}
    # One window for both requests (a minute's boundary between them would reset the budget).
    settings.RATE_LIMIT = {
        **settings.RATE_LIMIT,
        "QUERIES": 1,
        "KEY_PREFIX": "trusted-test",
        "WINDOW_SECONDS": 10**9,
    }
    assert post(client, key, sha256=sha256_of(COUNT)).json() == COUNTED
    spent = post(client, key, sha256=sha256_of(COUNT))
    assert (spent.status_code, error_codes(spent.json())) == (429, ["TOO_MANY_REQUESTS"])


def test_switch_off_the_manifest_is_a_shortcut_and_anything_runs(client, key, write_manifest):
    write_manifest(manifest(COUNT), trusted=False)
    assert post(client, key, sha256=sha256_of(COUNT)).json() == COUNTED
    assert "data" in post(client, key, query=OTHER).json()
    assert error_codes(post(client, key, sha256=sha256_of(OTHER + " ")).json()) == [
        "PERSISTED_QUERY_NOT_FOUND"
    ]


def test_without_the_switch_and_manifest_nothing_is_trusted(client, key):
    assert persisted.trusted_documents() == {}
    assert post(client, key, query=OTHER).json() == {
        "data": {"courseMemberships": {"total_count": 0}}
    }


@pytest.mark.parametrize(
    ("content", "fault"),
    [
        ("{nope", "Expecting property name"),
        ({"format": "something-else", "version": 1, "operations": []}, "not an apollo-"),
        (
            {
                "format": "apollo-persisted-query-manifest",
                "version": 1,
                "operations": [{"id": "abc", "body": COUNT}],
            },
            "operation 0 has no body, or its id is not the SHA-256 of its body",
        ),
        (manifest("{ courseMemberships("), "operation 0 does not parse"),
    ],
)
def test_a_broken_manifest_is_a_configuration_error(tmp_path, content, fault):
    path = tmp_path / "manifest.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    with pytest.raises(ImproperlyConfigured, match=fault) as raised:
        load_manifest(str(path))
    assert str(path) in str(raised.value)


def test_a_missing_manifest_is_a_configuration_error(tmp_path):
    with pytest.raises(ImproperlyConfigured, match="No such file"):
        load_manifest(str(tmp_path / "absent.json"))


def test_manage_py_check_reports_the_switch_without_a_manifest_and_a_broken_one(
    settings, tmp_path, write_manifest
):
    settings.GRAPHQL_PERSISTED_QUERIES = {
        **settings.GRAPHQL_PERSISTED_QUERIES,
        "TRUSTED_DOCUMENTS": True,
        "MANIFEST": "",
    }
    assert [error.id for error in check_persisted_query_manifest()] == ["enrollments.E101"]
    write_manifest({"format": "apollo-persisted-query-manifest", "version": 2, "operations": []})
    errors = check_persisted_query_manifest()
    assert [error.id for error in errors] == ["enrollments.E102"]
    assert "not an apollo-persisted-query-manifest of version 1" in errors[0].msg
    write_manifest(manifest(COUNT))
    assert check_persisted_query_manifest() == []
    with pytest.raises(SystemCheckError, match="enrollments.E102"):
        write_manifest("{")
        call_command("check")
