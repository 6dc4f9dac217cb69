"""Anonymous clients learn no more of the schema from errors than introspection would tell
them (issue 14, finding 8): no "Did you mean ...?" hints, and the contract's range error of
extendStudentCourseAccess only after authentication (enrollments.graphql.anonymous)."""

import json

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

TYPOS = [
    "{ courseMembershp { id } }",  # an unknown field
    "{ courseMemberships(firts: 1) { edges { node { id } } } }",  # an unknown argument
    "{ courseMemberships(access_state: ACTIV) { edges { node { id } } } }",  # an enum value
    "query ($o: CourseMembershipOrdr) { courseMemberships(order: $o) { total_count } }",
]
OUT_OF_RANGE = """mutation {
  extendStudentCourseAccess(userId: "x", courseId: "y", extensionDays: 2147483648) {
    enrollment { id } }
}"""


def post(client: Client, document: str) -> dict:
    response = client.post(
        "/graphql/", json.dumps({"query": document}), content_type="application/json"
    )
    return response.json()


@pytest.mark.parametrize("document", TYPOS)
def test_anonymous_clients_get_no_schema_hints(client, document):
    errors = post(client, document)["errors"]
    assert errors
    assert all("Did you mean" not in error["message"] for error in errors)
    assert {error["extensions"]["code"] for error in errors} == {"GRAPHQL_VALIDATION_FAILED"}


@pytest.mark.parametrize("document", TYPOS)
def test_signed_in_clients_keep_the_hints(make_key, viewer, document):
    client = Client(HTTP_AUTHORIZATION=f"Bearer {make_key(viewer)}")
    errors = post(client, document)["errors"]
    assert any("Did you mean" in error["message"] for error in errors)


def test_the_32_bit_range_rule_answers_only_after_authentication(client, make_key, viewer):
    anonymous = post(client, OUT_OF_RANGE)["errors"]
    assert [e["extensions"]["code"] for e in anonymous] == ["GRAPHQL_VALIDATION_FAILED"]
    assert "Invalid extension period" not in anonymous[0]["message"]

    signed_in = Client(HTTP_AUTHORIZATION=f"Bearer {make_key(viewer)}")
    errors = post(signed_in, OUT_OF_RANGE)["errors"]
    assert [e["extensions"]["code"] for e in errors] == ["INVALID_EXTENSION_PERIOD"]
