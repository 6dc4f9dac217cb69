"""Idempotency-Key on GraphQL mutations (apikeys.idempotency): a retried mutation applies once
and answers the same; another request under the same key, a key in flight and a malformed key
are refused and change nothing; keys are per client and expire.

Runs on SQLite and PostgreSQL; the concurrent and dropped-connection cases are in
test_idempotency_postgres.py."""

import json
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apikeys import idempotency
from apikeys.models import IdempotencyKey
from enrollments.models import AccessChange, Enrollment
from tests.factories import EnrollmentFactory
from tests.graphql import conftest as graphql
from tests.graphql.conftest import error_codes

make_key, manager = graphql.make_key, graphql.manager  # the API tests' fixtures

EXTEND = """mutation Extend($u: String!, $c: String!, $days: Int) {
  extendStudentCourseAccess(userId: $u, courseId: $c, extensionDays: $days) {
    enrollment { endedAt }
    errors { code }
  }
}"""


@pytest.fixture(autouse=True)
def no_rate_limit(settings):
    settings.RATE_LIMIT = {**settings.RATE_LIMIT, "ENABLED": False}


@pytest.fixture
def enrollment(db):
    return EnrollmentFactory()


@pytest.fixture
def key(make_key, manager):
    return make_key(manager)


def variables(enrollment, days=30):
    return {"u": str(enrollment.user_id), "c": str(enrollment.course_id), "days": days}


def send(client, raw_key, idempotency_key, document=EXTEND, variables=None, **extra):
    """POSTs `document` with the API key and the Idempotency-Key (None: no header)."""
    if idempotency_key is not None:
        extra["HTTP_IDEMPOTENCY_KEY"] = idempotency_key
    if raw_key is not None:
        extra["HTTP_AUTHORIZATION"] = f"Bearer {raw_key}"
    body = {"query": document}
    if variables is not None:
        body["variables"] = variables
    return client.post("/graphql/", json.dumps(body), content_type="application/json", **extra)


def audit_rows(enrollment) -> int:
    return AccessChange.objects.filter(enrollment=enrollment).count()


def test_the_same_mutation_sent_twice_with_one_key_applies_once_and_answers_the_same(
    client, key, enrollment
):
    before = enrollment.ended_at
    first = send(client, key, "retry-1", variables=variables(enrollment))
    second = send(client, key, "retry-1", variables=variables(enrollment))

    assert first.status_code == second.status_code == 200
    assert first.json()["data"]["extendStudentCourseAccess"]["errors"] == []
    assert second.content == first.content
    assert second["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    enrollment.refresh_from_db()
    assert enrollment.ended_at == before + timedelta(days=30)
    assert audit_rows(enrollment) == 1


def test_without_a_key_a_retry_applies_again(client, key, enrollment):
    """What the key is for: the same request without it is a second extension."""
    send(client, key, None, variables=variables(enrollment))
    send(client, key, None, variables=variables(enrollment))
    assert audit_rows(enrollment) == 2
    assert not IdempotencyKey.objects.exists()


def test_a_replay_reads_one_row_and_writes_nothing(client, key, enrollment):
    send(client, key, "k", variables=variables(enrollment))
    with CaptureQueriesContext(connection) as queries:
        replay = send(client, key, "k", variables=variables(enrollment))
    assert replay["Idempotent-Replayed"] == "true"
    statements = [q["sql"].split()[0].upper() for q in queries.captured_queries]
    # The API key's look-up, the reservation that conflicts (in its savepoint), the row read.
    assert "UPDATE" not in statements
    assert statements.count("INSERT") == 1
    assert audit_rows(enrollment) == 1


def test_layout_and_comments_do_not_make_another_request(client, key, enrollment):
    send(client, key, "k", variables=variables(enrollment))
    relaid = "# a comment\n" + " ".join(EXTEND.split())
    again = send(client, key, "k", document=relaid, variables=variables(enrollment))
    assert again["Idempotent-Replayed"] == "true"
    assert audit_rows(enrollment) == 1


@pytest.mark.parametrize(
    "change",
    [
        {"variables": {"days": 31}},
        {"document": EXTEND.replace("errors { code }", "errors { code message }")},
        {"operation_name": "Other"},
    ],
    ids=["variables", "document", "operation name"],
)
def test_the_same_key_with_another_request_is_refused_with_422(client, key, enrollment, change):
    send(client, key, "k", variables=variables(enrollment))
    other_variables = {**variables(enrollment), **change.get("variables", {})}
    document = change.get("document", EXTEND)
    if "operation_name" in change:
        document = document.replace("mutation Extend", "mutation Other")
    body = {"query": document, "variables": other_variables}
    if "operation_name" in change:
        body["operationName"] = "Other"
    response = client.post(
        "/graphql/",
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
        HTTP_IDEMPOTENCY_KEY="k",
    )
    assert response.status_code == 422
    assert error_codes(response.json()) == ["IDEMPOTENCY_KEY_REUSED"]
    assert "used for another request" in response.json()["errors"][0]["message"]
    assert audit_rows(enrollment) == 1


def post(client, raw_key, body: dict, query_string: dict | None = None):
    """POSTs `body` under one Idempotency-Key, with GraphQL parameters in the URL too."""
    path = "/graphql/" + (f"?{urlencode(query_string)}" if query_string else "")
    return client.post(
        path,
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {raw_key}",
        HTTP_IDEMPOTENCY_KEY="k",
    )


def test_operation_name_null_is_no_name_and_the_retry_applies_once(client, key, enrollment):
    """graphene-django reads operationName "null" as none; the key read it as a name that
    matched no operation, ignored the key, and the retry applied the extension again."""
    body = {"query": EXTEND, "operationName": "null", "variables": variables(enrollment)}
    first, second = post(client, key, body), post(client, key, body)
    assert first.json()["data"]["extendStudentCourseAccess"]["errors"] == []
    assert second["Idempotent-Replayed"] == "true"
    assert audit_rows(enrollment) == 1


def test_a_mutation_in_the_query_string_is_the_one_keyed(client, key, enrollment):
    """graphene-django runs the URL's `query` over the body's: a body holding a query was
    taken for an unkeyed request while the URL's mutation ran at each retry."""
    in_url = {"query": EXTEND, "variables": json.dumps(variables(enrollment))}
    body = {"query": "{ __typename }"}
    first, second = post(client, key, body, in_url), post(client, key, body, in_url)
    assert first.json()["data"]["extendStudentCourseAccess"]["errors"] == []
    assert second["Idempotent-Replayed"] == "true"
    assert audit_rows(enrollment) == 1


def test_variables_in_the_query_string_make_another_request(client, key, enrollment):
    """The URL's variables win over the body's: with the body alone in the fingerprint, a
    request for 400 days was answered with the replay of the one for 30."""
    body = {"query": EXTEND, "variables": variables(enrollment, days=1)}
    post(client, key, body, {"variables": json.dumps(variables(enrollment, days=30))})
    other = post(client, key, body, {"variables": json.dumps(variables(enrollment, days=400))})
    assert other.status_code == 422
    assert error_codes(other.json()) == ["IDEMPOTENCY_KEY_REUSED"]
    assert audit_rows(enrollment) == 1


def test_keys_are_per_credential(client, make_key, manager, key, enrollment):
    """The same key from another API key (even the same user's) or from the user's session is
    another key: each applies."""
    other_key = make_key(manager)
    send(client, key, "shared", variables=variables(enrollment))
    second = send(client, other_key, "shared", variables=variables(enrollment))
    assert "Idempotent-Replayed" not in second
    client.force_login(manager)
    session = send(client, None, "shared", variables=variables(enrollment))
    assert session.status_code == 200, session.content
    assert "Idempotent-Replayed" not in session
    assert audit_rows(enrollment) == 3
    assert IdempotencyKey.objects.filter(key="shared").count() == 3
    replay = send(client, None, "shared", variables=variables(enrollment))
    assert replay["Idempotent-Replayed"] == "true"
    assert audit_rows(enrollment) == 3


def test_an_expired_key_is_a_new_key_and_expired_rows_are_purged(client, key, enrollment, settings):
    settings.IDEMPOTENCY = {**settings.IDEMPOTENCY, "TTL_SECONDS": 3600}
    send(client, key, "old", variables=variables(enrollment))
    send(client, key, "older", variables=variables(enrollment, days=2))
    long_ago = timezone.now() - timedelta(hours=2)
    IdempotencyKey.objects.update(created_at=long_ago, reserved_at=long_ago)

    again = send(client, key, "old", variables=variables(enrollment))
    assert "Idempotent-Replayed" not in again
    assert audit_rows(enrollment) == 3
    # "older" expired and was purged when "old" was reserved anew.
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["old"]


@pytest.mark.parametrize(
    "bad_key",
    ["", "   ", '""', "x" * 256, "clé", "tab\there", "new\x01line"],
    ids=["empty", "blank", "empty quotes", "too long", "not ascii", "tab", "control"],
)
def test_malformed_keys_are_refused_with_400_and_change_nothing(client, key, enrollment, bad_key):
    response = send(client, key, bad_key, variables=variables(enrollment))
    assert response.status_code == 400
    assert error_codes(response.json()) == ["INVALID_IDEMPOTENCY_KEY"]
    assert "1 to 255 printable ASCII characters" in response.json()["errors"][0]["message"]
    assert audit_rows(enrollment) == 0
    assert not IdempotencyKey.objects.exists()


def test_the_longest_key_and_the_quoted_form_are_accepted(client, key, enrollment):
    longest = "k" * 255
    send(client, key, longest, variables=variables(enrollment))
    quoted = send(client, key, f'"{longest}"', variables=variables(enrollment))
    assert quoted["Idempotent-Replayed"] == "true"
    assert audit_rows(enrollment) == 1


def test_a_request_refused_before_execution_keeps_nothing(client, key, enrollment):
    invalid = send(client, key, "k", document="mutation { nope }")
    assert error_codes(invalid.json()) == ["GRAPHQL_VALIDATION_FAILED"]
    assert not IdempotencyKey.objects.exists()
    # The key is free: the corrected request runs under it.
    fixed = send(client, key, "k", variables=variables(enrollment))
    assert fixed.json()["data"]["extendStudentCourseAccess"]["errors"] == []
    assert audit_rows(enrollment) == 1


def test_a_rate_limited_keyed_mutation_keeps_nothing(client, key, enrollment, settings):
    settings.CACHES = {
        **settings.CACHES,
        "idem-ratelimit": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "idempotency-rate-limit",
        },
    }
    settings.RATE_LIMIT = {
        **settings.RATE_LIMIT,
        "ENABLED": True,
        "MUTATIONS": 1,
        "CACHE": "idem-ratelimit",
        "KEY_PREFIX": "idem",
    }
    send(client, key, "a", variables=variables(enrollment))
    limited = send(client, key, "b", variables=variables(enrollment))
    assert limited.status_code == 429
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["a"]
    assert audit_rows(enrollment) == 1


def test_a_business_error_is_an_answer_and_is_replayed(client, key, enrollment):
    first = send(client, key, "k", variables=variables(enrollment, days=-1))
    codes = first.json()["data"]["extendStudentCourseAccess"]["errors"]
    assert codes == [{"code": "INVALID_EXTENSION_PERIOD"}]
    again = send(client, key, "k", variables=variables(enrollment, days=-1))
    assert again.content == first.content
    assert again["Idempotent-Replayed"] == "true"
    assert audit_rows(enrollment) == 0


def test_queries_and_anonymous_requests_ignore_the_key(client, key, enrollment):
    query = "{ courseMemberships(first: 1) { total_count } }"
    for _ in range(2):
        response = send(client, key, "k", document=query)
        assert response.status_code == 200
        assert "Idempotent-Replayed" not in response
    anonymous = send(client, None, "k", variables=variables(enrollment))
    assert error_codes(anonymous.json()) == ["UNAUTHENTICATED"]
    assert not IdempotencyKey.objects.exists()


def test_a_key_in_flight_is_refused_with_409_and_retry_after(client, key, enrollment):
    """A reservation without an answer, taken a moment ago: its request is still running (the
    real race, with two threads, is in test_idempotency_postgres.py)."""
    send(client, key, "k", variables=variables(enrollment))
    IdempotencyKey.objects.update(response_body=None, response_status=None)
    response = send(client, key, "k", variables=variables(enrollment))
    assert response.status_code == 409
    assert error_codes(response.json()) == ["IDEMPOTENCY_KEY_IN_USE"]
    assert 1 <= int(response["Retry-After"]) <= 60
    assert audit_rows(enrollment) == 1


def test_an_abandoned_reservation_is_taken_over_after_the_in_flight_time(
    client, key, enrollment, settings
):
    """A worker killed after reserving leaves a row with no answer: after IN_FLIGHT_SECONDS a
    retry runs the request (the killed one committed nothing)."""
    send(client, key, "k", variables=variables(enrollment))
    AccessChange.objects.all().delete()  # as if the first run had rolled back
    stale = timezone.now() - timedelta(seconds=61)
    IdempotencyKey.objects.update(response_body=None, response_status=None, reserved_at=stale)
    response = send(client, key, "k", variables=variables(enrollment))
    assert response.status_code == 200
    assert "Idempotent-Replayed" not in response
    assert audit_rows(enrollment) == 1
    assert IdempotencyKey.objects.get().response_body == response.content.decode()


def test_an_owner_whose_reservation_was_taken_over_runs_nothing(enrollment):
    """An owner that finds its reservation taken over (it stalled past the in-flight time)
    runs nothing and is refused as a duplicate."""
    reservation = idempotency._reserve(client="c", key="k", fingerprint="f")
    IdempotencyKey.objects.filter(pk=reservation.pk).update(token=idempotency.uuid.uuid4())

    def respond():
        Enrollment.objects.filter(pk=enrollment.pk).update(ended_at=None)
        raise AssertionError("must not run")  # pragma: no cover

    with pytest.raises(idempotency.Refused) as refused:
        idempotency.run_once(client="c", key="k", fingerprint="f", respond=respond)
    assert refused.value.status == 409
    enrollment.refresh_from_db()
    assert enrollment.ended_at is not None
