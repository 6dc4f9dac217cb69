"""Idempotency-Key over real HTTP: the key's fingerprint is of what graphene-django executes, so
a retry through a real server and a real HTTP client applies a change once, however the client
splits its request between the URL and the body (tests/apikeys/test_idempotency.py has the
in-process cases)."""

import json
from urllib.parse import urlencode

from enrollments.models import AccessChange, Enrollment

EXTEND = """mutation Extend($u: String!, $c: String!, $days: Int) {
  extendStudentCourseAccess(userId: $u, courseId: $c, extensionDays: $days) {
    enrollment { endedAt }
    errors { code }
  }
}"""


def keyed_post(live_api, school, body, in_url=None, key="retry-1"):
    path = "/graphql/" + (f"?{urlencode(in_url)}" if in_url else "")
    return live_api.http.post(
        path,
        json=body,
        headers={"X-Teachify-API-Key": school.key, "Idempotency-Key": key},
    )


def example_variables(school, days):
    example = school.example
    return {"u": str(example.user_id), "c": str(example.course_id), "days": days}


def audit_rows(school) -> int:
    return AccessChange.objects.filter(enrollment=school.example).count()


def test_a_mutation_in_the_url_is_applied_once_across_retries(live_api, school):
    """The URL's `query` runs over the body's: the retry is the replay, one audit row."""
    in_url = {"query": EXTEND, "variables": json.dumps(example_variables(school, 30))}
    body = {"query": "{ __typename }"}
    first = keyed_post(live_api, school, body, in_url)
    second = keyed_post(live_api, school, body, in_url)
    assert first.status_code == second.status_code == 200
    assert first.json()["data"]["extendStudentCourseAccess"]["errors"] == []
    assert "Idempotent-Replayed" not in first.headers
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.json() == first.json()
    assert audit_rows(school) == 1


def test_operation_name_null_is_applied_once_across_retries(live_api, school):
    body = {"query": EXTEND, "operationName": "null", "variables": example_variables(school, 30)}
    first = keyed_post(live_api, school, body)
    second = keyed_post(live_api, school, body)
    assert first.json()["data"]["extendStudentCourseAccess"]["errors"] == []
    assert second.headers["Idempotent-Replayed"] == "true"
    assert audit_rows(school) == 1


def test_other_variables_in_the_url_under_the_same_key_are_refused(live_api, school):
    """The URL's variables win over the body's: another request under the key is 422, not the
    first one's replay, and changes nothing."""
    body = {"query": EXTEND, "variables": example_variables(school, 1)}
    keyed_post(live_api, school, body, {"variables": json.dumps(example_variables(school, 30))})
    ended_at = Enrollment.objects.get(pk=school.example.pk).ended_at
    other = keyed_post(
        live_api, school, body, {"variables": json.dumps(example_variables(school, 400))}
    )
    assert other.status_code == 422
    assert [e["extensions"]["code"] for e in other.json()["errors"]] == ["IDEMPOTENCY_KEY_REUSED"]
    assert Enrollment.objects.get(pk=school.example.pk).ended_at == ended_at
    assert audit_rows(school) == 1
