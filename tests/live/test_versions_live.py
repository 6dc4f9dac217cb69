"""API versions over real HTTP (docs/api.md "Versions"): Healthie's clients send
`Healthie-GraphQL-API-Version` with `Authorization: Basic` to `POST /graphql`; Python's `gql`
fetches each version's schema by introspection with the header and validates documents
against it before sending them, as typed clients do."""

import pytest
from gql import Client, gql
from gql.transport.httpx import HTTPXTransport
from graphql import GraphQLError

from tests.live.conftest import healthie_headers

HEADER = "Healthie-GraphQL-API-Version"

STATUSES = """
query Statuses($status: CourseMembershipStatus) {
  courseMemberships(course_status: $status, first: 10) {
    nodes { id course_status }
    page_info { has_next_page end_cursor }
  }
}
"""


def client_for(live_server, key: str, version: str | None) -> Client:
    headers = healthie_headers(key)
    if version is not None:
        headers[HEADER] = version
    transport = HTTPXTransport(url=f"{live_server.url}/graphql", headers=headers, timeout=30)
    return Client(transport=transport, fetch_schema_from_transport=True)


def test_gql_validates_against_each_versions_introspection(live_server, school):
    with client_for(live_server, school.key, "2026-01-01") as session:
        answer = session.execute(gql(STATUSES), variable_values={"status": "IN_PROGRESS"})
        membership = session.client.schema.get_type("CourseMembership")
    assert "cursor" not in membership.fields
    assert answer["courseMemberships"]["nodes"] == [
        {"id": str(school.example.pk), "course_status": "IN_PROGRESS"}
    ]
    with client_for(live_server, school.key, None) as session:
        # The contract's introspection has no such enum: gql refuses the document itself.
        with pytest.raises(GraphQLError, match="Unknown type 'CourseMembershipStatus'"):
            session.execute(gql(STATUSES))
        assert "cursor" in session.client.schema.get_type("CourseMembership").fields


def test_an_unknown_version_over_http(live_api, school):
    response = live_api.post(
        "healthie", school.key, "{ __typename }", headers={HEADER: "2025-06-15"}
    )
    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/json"
    assert response.json()["errors"][0]["extensions"]["code"] == "UNSUPPORTED_API_VERSION"
