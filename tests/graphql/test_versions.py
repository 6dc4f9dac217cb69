"""Healthie's API versions (enrollments/graphql/versions.py, docs/api.md "Versions"): the
`Healthie-GraphQL-API-Version` header selects the schema; no header is the contract's
2025-01-01, answered as before (no warning); 2026-01-01 has `course_status` as the
`CourseMembershipStatus` enum and no `CourseMembership.cursor`; anything else is refused with
Healthie's UNSUPPORTED_API_VERSION before anything runs; a deprecated version named in the
header carries API_VERSION_SUNSET_WARNING in `extensions.warnings`, on the frozen clock.
Every test runs with the fast paths on and off."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from graphql import print_schema

from config.schema import schema as contract_schema
from enrollments.graphql import versions
from enrollments.models import Enrollment
from tests.factories import (
    CourseFactory,
    CourseItemFactory,
    EnrollmentFactory,
    ItemCompletionFactory,
)
from tests.graphql.conftest import error_codes
from tests.graphql.documents import EXTEND, PAUSE

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_paths")]

HEADER = "HTTP_HEALTHIE_GRAPHQL_API_VERSION"

LIST = """
query ($status: %s) {
  courseMemberships(course_status: $status, first: 10) {
    nodes { id course_status }
    edges { cursor node { id } }
    page_info { end_cursor }
  }
}
"""

WITH_CURSOR = "{ courseMemberships(first: 5) { nodes { id cursor } } }"


@pytest.fixture
def key(make_key, manager):
    return make_key(manager)


@pytest.fixture
def statuses(clock):
    """Three memberships of one two-item course: not started, in progress, completed."""
    course = CourseFactory()
    first, second = CourseItemFactory(course=course), CourseItemFactory(course=course)
    start = clock.current - timedelta(days=5)
    untouched, halfway, done = (
        EnrollmentFactory(course=course, start_at=start + timedelta(seconds=n)) for n in range(3)
    )
    for enrollment, items in ((halfway, [first]), (done, [first, second])):
        for item in items:
            ItemCompletionFactory(enrollment=enrollment, item=item, completed_at=clock.current)
    return {"NOT_STARTED": untouched, "IN_PROGRESS": halfway, "COMPLETED": done}


def post(api, key, query, variables=None, version=None, **extra):
    if version is not None:
        extra[HEADER] = version
    return api.post(query, variables, key=key, **extra)


def by_id(body):
    return {
        node["id"]: node["course_status"] for node in body["data"]["courseMemberships"]["nodes"]
    }


def test_without_the_header_the_contract_is_served_unchanged(api, key, statuses):
    body = post(api, key, LIST % "String")
    assert set(body) == {"data"}  # no extensions: the contract's answer, byte for byte
    assert by_id(body) == {
        str(statuses["NOT_STARTED"].pk): "not_started",
        str(statuses["IN_PROGRESS"].pk): "in_progress",
        str(statuses["COMPLETED"].pk): "completed",
    }
    assert "cursor" in post(api, key, WITH_CURSOR)["data"]["courseMemberships"]["nodes"][0]


def test_2025_01_01_named_is_the_same_answer_as_no_header(api, key, statuses):
    plain = api.client.post(
        "/graphql",
        json.dumps({"query": WITH_CURSOR}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    named = api.client.post(
        "/graphql",
        json.dumps({"query": WITH_CURSOR}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
        **{HEADER: "2025-01-01"},
    )
    assert plain.status_code == named.status_code == 200
    assert plain.content == named.content  # before the deprecation date: no warning either


def test_2026_01_01_course_status_is_the_enum(api, key, statuses):
    body = post(api, key, LIST % "CourseMembershipStatus", version="2026-01-01")
    assert set(body) == {"data"}
    assert by_id(body) == {str(e.pk): name for name, e in statuses.items()}
    for name, enrollment in statuses.items():
        filtered = post(
            api, key, LIST % "CourseMembershipStatus", {"status": name}, version="2026-01-01"
        )
        assert by_id(filtered) == {str(enrollment.pk): name}


def test_2026_01_01_filter_refuses_the_2025_spelling(api, key, statuses):
    body = post(
        api, key, LIST % "CourseMembershipStatus", {"status": "in_progress"}, version="2026-01-01"
    )
    assert error_codes(body) == ["GRAPHQL_VALIDATION_FAILED"]
    assert body["errors"][0]["message"].startswith(
        "Variable '$status' got invalid value 'in_progress'; Value 'in_progress' does not "
        "exist in 'CourseMembershipStatus' enum."
    )
    assert "data" not in body
    # And 2025's filter does not take the enum's names.
    body = post(api, key, LIST % "String", {"status": "IN_PROGRESS"})
    assert error_codes(body) == ["BAD_USER_INPUT"]


def test_2026_01_01_has_no_membership_cursor(api, key, statuses):
    body = post(api, key, WITH_CURSOR, version="2026-01-01")
    assert error_codes(body) == ["GRAPHQL_VALIDATION_FAILED"]
    assert body["errors"][0]["message"].startswith(
        "Cannot query field 'cursor' on type 'CourseMembership'."
    )
    # The page's cursors are the same in both versions.
    cursors = [
        post(api, key, LIST % status, version=version)["data"]["courseMemberships"]["edges"]
        for version, status in (("2025-01-01", "String"), ("2026-01-01", "CourseMembershipStatus"))
    ]
    assert cursors[0] == cursors[1]
    assert len(cursors[0]) == 3


def test_the_validation_cache_keeps_versions_apart(api, key, statuses):
    """One document text, valid in one version and not the other, in both orders: the caches
    (validation, cost) are per schema."""
    for version, valid in (("2025-01-01", True), ("2026-01-01", False), (None, True)):
        body = post(api, key, WITH_CURSOR, version=version)
        assert ("data" in body) is valid, version
    enum_document = "{ courseMemberships(course_status: COMPLETED) { nodes { id } } }"
    for version, valid in (("2026-01-01", True), ("2025-01-01", False)):
        body = post(api, key, enum_document, version=version)
        assert ("data" in body) is valid, version


def test_2026_01_01_course_type(api, key, statuses):
    document = "{ courseMemberships(first: 1) { nodes { course { course_type } } } }"
    body = post(api, key, document, version="2026-01-01")
    assert body == {
        "data": {"courseMemberships": {"nodes": [{"course": {"course_type": "ROLLING"}}]}}
    }
    assert error_codes(post(api, key, document)) == ["GRAPHQL_VALIDATION_FAILED"]


def test_a_mutation_payload_speaks_its_version(api, key, statuses):
    document = PAUSE.replace("access_state", "access_state course_status")
    enrollment = statuses["IN_PROGRESS"]
    body = post(api, key, document, {"id": str(enrollment.pk)}, version="2026-01-01")
    assert body["data"]["pauseCourseMembership"]["courseMembership"]["course_status"] == (
        "IN_PROGRESS"
    )


def test_teachify_mutation_is_the_same_in_both_versions(api, key, clock):
    answers = []
    for version in (None, "2025-01-01", "2026-01-01"):
        enrollment = EnrollmentFactory(
            start_at=clock.current - timedelta(days=1), ended_at=clock.current + timedelta(days=9)
        )
        body = post(
            api,
            key,
            EXTEND,
            {
                "userId": str(enrollment.user_id),
                "courseId": str(enrollment.course_id),
                "extensionDays": 5,
            },
            version=version,
        )
        payload = body["data"]["extendStudentCourseAccess"]["enrollment"]
        enrollment.refresh_from_db()
        assert payload["endedAt"] == int(enrollment.ended_at.timestamp())
        assert enrollment.ended_at == clock.current + timedelta(days=14)
        # Each its own enrollment: compare what does not name it or its creation.
        answers.append(
            {k: payload[k] for k in ("endedAt", "completionRate")} | {"keys": set(payload)}
        )
    assert answers[0] == answers[1] == answers[2]
    # And its SDL: the mutation and every type it reaches are the same in both schemas.
    printed = [
        print_schema(s.graphql_schema) for s in (contract_schema, versions.schema_2026_01_01)
    ]
    for name in (
        "StudentCourseShip",
        "AdminCourse",
        "AdminUser",
        "ExtendStudentCourseAccessPayload",
    ):
        blocks = [text[text.index(f"type {name} ") :].split("\n}\n")[0] for text in printed]
        assert blocks[0] == blocks[1], name


UNSUPPORTED = [
    "2025-06-15",  # a date Healthie never published (its docs' own example)
    "2024-06-01",  # Healthie's baseline: published, not served here
    "2026-07-01",  # Healthie's newest: not served here
    "2026-1-1",
    "latest",
    "",
]


@pytest.mark.parametrize("version", UNSUPPORTED)
def test_an_unsupported_version_is_refused_before_anything_runs(api, key, statuses, version):
    enrollment = statuses["IN_PROGRESS"]
    response = api.client.post(
        "/graphql",
        json.dumps({"query": PAUSE, "variables": {"id": str(enrollment.pk)}}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
        **{HEADER: version},
    )
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "errors": [
            {
                "message": f"API version '{version}' is no longer supported. Please upgrade to "
                "a supported version.",
                "extensions": {
                    "code": "UNSUPPORTED_API_VERSION",
                    "requested_version": version,
                    "minimum_supported_version": "2025-01-01",
                    "latest_version": "2026-01-01",
                },
            }
        ]
    }
    assert not Enrollment.objects.get(pk=enrollment.pk).is_paused  # nothing ran


def test_the_refusal_comes_before_authentication_and_in_the_negotiated_media_type(client):
    response = client.post(
        "/graphql",
        json.dumps({"query": "{ __typename }"}),
        content_type="application/json",
        HTTP_AUTHORIZATION="Bearer not-a-key",
        HTTP_ACCEPT="application/graphql-response+json",
        **{HEADER: "2099-01-01"},
    )
    assert response.status_code == 400
    assert response["Content-Type"] == "application/graphql-response+json"
    assert error_codes(response.json()) == ["UNSUPPORTED_API_VERSION"]


def test_an_overlong_header_is_echoed_cut(api, key):
    body = post(api, key, "{ __typename }", version="9" * 500)
    assert body["errors"][0]["extensions"]["requested_version"] == "9" * versions.ECHO_LIMIT


def sunset_warning(version="2025-01-01", sunset="2027-01-31"):
    return {
        "code": "API_VERSION_SUNSET_WARNING",
        "message": f"API version {version} is deprecated and will be sunset on {sunset}. "
        "Please upgrade to a supported version.",
        "requested_version": version,
        "sunset_date": sunset,
        "latest_version": "2026-01-01",
    }


def test_the_deprecated_version_carries_the_sunset_warning(api, key, statuses, clock):
    clock.current = datetime(2026, 7, 1, tzinfo=UTC)  # Healthie deprecates it that day
    body = post(api, key, LIST % "String", version="2025-01-01")
    assert body["extensions"] == {"warnings": [sunset_warning()]}
    assert len(body["data"]["courseMemberships"]["nodes"]) == 3
    # On every answer, errors included.
    body = post(api, key, WITH_CURSOR.replace("cursor", "nope"), version="2025-01-01")
    assert error_codes(body) == ["GRAPHQL_VALIDATION_FAILED"]
    assert body["extensions"] == {"warnings": [sunset_warning()]}
    # Not to a request without the header (the contract's answer), nor to the newest version.
    assert "extensions" not in post(api, key, LIST % "String")
    assert "extensions" not in post(api, key, LIST % "CourseMembershipStatus", version="2026-01-01")


def test_no_warning_the_day_before_deprecation(api, key, clock):
    clock.current = datetime(2026, 6, 30, 23, 59, tzinfo=UTC)
    assert "extensions" not in post(api, key, "{ __typename }", version="2025-01-01")


def test_sunset_refuses_the_version_named_but_keeps_the_default(api, key, statuses, clock):
    clock.current = datetime(2027, 1, 30, 23, 59, tzinfo=UTC)
    assert post(api, key, "{ __typename }", version="2025-01-01")["extensions"]
    clock.current = datetime(2027, 1, 31, tzinfo=UTC)
    body = post(api, key, "{ __typename }", version="2025-01-01")
    assert api.last_response.status_code == 400
    assert body["errors"][0]["extensions"] == {
        "code": "UNSUPPORTED_API_VERSION",
        "requested_version": "2025-01-01",
        "minimum_supported_version": "2026-01-01",
        "latest_version": "2026-01-01",
    }
    assert post(api, key, "{ __typename }") == {"data": {"__typename": "Query"}}
    assert post(api, key, "{ __typename }", version="2026-01-01") == {
        "data": {"__typename": "Query"}
    }


def test_the_dates_are_a_setting(api, key, clock, settings):
    settings.API_VERSION_LIFECYCLE = {"2026-01-01": ("2025-12-01", "2026-03-01")}
    body = post(api, key, "{ __typename }", version="2026-01-01")
    assert body["extensions"] == {"warnings": [sunset_warning("2026-01-01", "2026-03-01")]}
    assert "extensions" not in post(api, key, "{ __typename }", version="2025-01-01")


def test_graphql_response_media_type_keeps_its_status_with_warnings(api, key, clock):
    clock.current = datetime(2026, 8, 1, tzinfo=UTC)
    body = post(
        api, key, "{ nope }", version="2025-01-01", HTTP_ACCEPT="application/graphql-response+json"
    )
    assert api.last_response.status_code == 400
    assert api.last_response["Content-Type"] == "application/graphql-response+json"
    assert body["extensions"] == {"warnings": [sunset_warning()]}


def test_get_selects_the_version_too(client, manager, make_key, statuses):
    key = make_key(manager)
    response = client.get(
        "/graphql",
        {"query": "{ courseMemberships(first: 1) { nodes { course_status } } }"},
        HTTP_AUTHORIZATION=f"Bearer {key}",
        HTTP_ACCEPT="application/json",
        **{HEADER: "2026-01-01"},
    )
    assert response.json() == {
        "data": {"courseMemberships": {"nodes": [{"course_status": "NOT_STARTED"}]}}
    }


def test_an_idempotency_key_is_per_version(api, key, statuses):
    """A keyed pause replayed in its version; the same key in another version is another
    request (422), not the first answer in the first version's shape."""
    document = PAUSE.replace("access_state", "access_state course_status")
    variables = {"id": str(statuses["IN_PROGRESS"].pk)}
    first = post(api, key, document, variables, HTTP_IDEMPOTENCY_KEY="k1")
    status = first["data"]["pauseCourseMembership"]["courseMembership"]["course_status"]
    assert status == "in_progress"
    assert post(api, key, document, variables, version="2025-01-01", HTTP_IDEMPOTENCY_KEY="k1") == (
        first
    )
    again = post(api, key, document, variables, version="2026-01-01", HTTP_IDEMPOTENCY_KEY="k1")
    assert api.last_response.status_code == 422
    assert error_codes(again) == ["IDEMPOTENCY_KEY_REUSED"]


@pytest.mark.parametrize("version", [None, "2026-01-01", "1999-01-01"])
def test_every_answer_varies_by_the_version_header(client, manager, make_key, version):
    """A GET query's answer differs by version: a shared cache must key it by the header."""
    extra = {} if version is None else {HEADER: version}
    response = client.get(
        "/graphql",
        {"query": "{ __typename }"},
        HTTP_AUTHORIZATION=f"Bearer {make_key(manager)}",
        **extra,
    )
    assert "Healthie-GraphQL-API-Version" in response["Vary"]


def database_down(monkeypatch) -> None:
    """Every new cursor fails as a dropped connection does (views.py answers 503)."""

    def create_cursor(name=None):
        raise connection.Database.OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(connection, "create_cursor", create_cursor)


def a_bug_before_execution(monkeypatch) -> None:
    """The view's context fails (views.py answers 500)."""

    def broken_context(self, request):
        raise AttributeError("'WSGIRequest' object has no attribute 'renamed'")

    monkeypatch.setattr("enrollments.graphql.views.ApiView.get_context", broken_context)


@pytest.mark.parametrize(
    ("failure", "status", "code"),
    [
        (database_down, 503, "SERVICE_UNAVAILABLE"),
        (a_bug_before_execution, 500, "INTERNAL_SERVER_ERROR"),
    ],
    ids=["503", "500"],
)
@pytest.mark.parametrize("accept", [None, "application/graphql-response+json"])
def test_a_server_failure_keeps_the_versions_vary_and_warning(
    api, key, clock, monkeypatch, failure, status, code, accept
):
    """Every answer, errors included: the JSON error built for what the view raised carried
    neither (the version's wrapper sat inside the one that answers failures)."""
    clock.current = datetime(2026, 8, 1, tzinfo=UTC)
    failure(monkeypatch)
    extra = {} if accept is None else {"HTTP_ACCEPT": accept}
    body = post(
        api, key, "{ courseMemberships(first: 1) { total_count } }", version="2025-01-01", **extra
    )
    response = api.last_response
    assert response.status_code == status
    assert error_codes(body) == [code]
    assert response["Content-Type"] == (accept or "application/json")
    assert "Healthie-GraphQL-API-Version" in response["Vary"]
    assert body["extensions"] == {"warnings": [sunset_warning()]}


@pytest.mark.parametrize(
    "value", [{"2025-01-01": ("soon", "2027-01-31")}, {"2025-01-01": "2027-01-31"}]
)
def test_a_malformed_lifecycle_setting_names_itself(settings, value):
    settings.API_VERSION_LIFECYCLE = value
    with pytest.raises(ImproperlyConfigured, match="API_VERSION_LIFECYCLE must map"):
        versions.lifecycle()
