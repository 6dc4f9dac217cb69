"""Python's `gql` (3.5, requests transport) against the running server of clients/run.sh.

For each API version a client may ask for (no header: the default, 2025-01-01; and 2026-01-01),
gql fetches the served schema by introspection with that version's header
(`fetch_schema_from_transport=True`) and validates every document on the client before sending
it, as gql does; then runs them against the demo data:

- Healthie (`POST /graphql`, `Authorization: Basic <key>` + `AuthorizationSource: API`): the
  courseMemberships pages (string cursors, to the end), fetch_all, courseMembership by id and
  by item + user, pauseCourseMembership / resumeCourseMembership with their `messages`;
- Teachify (`POST /graphql/`, `X-Teachify-API-Key`, no version header: Teachify has none):
  `extendStudentCourseAccess`, and the contract's two example mutations (validated only).

Version rules seen through the introspection: `CourseMembership.course_status` is `String!` by
default and at 2025-01-01, the enum `CourseMembershipStatus` (NOT_STARTED, IN_PROGRESS,
COMPLETED) at 2026-01-01, where `CourseMembership.cursor` no longer exists (so gql refuses the
2025 page document against that schema before sending it); the same membership's status is the
same in both spellings; an unknown version (2025-06-15) is refused with UNSUPPORTED_API_VERSION.

`gql_client.py audit-log` (its own check in `make clients`): Healthie's `auditLog`, see
audit_log().

Every check runs; each failure is printed; the exit status is 1 when any failed.
"""

import os
import sys
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from gql import Client, gql
from gql.transport.exceptions import TransportQueryError
from gql.transport.requests import RequestsHTTPTransport
from graphql import GraphQLEnumType, GraphQLError, GraphQLNonNull, GraphQLSchema

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.graphql import contract  # noqa: E402 - the repository's copy of the contract

BASE = os.environ["GRAPHQL_BASE"]
KEY = os.environ["API_KEY"]
VERSION_HEADER = "Healthie-GraphQL-API-Version"
#: The contract's example learner, course and enrollment (seed_demo makes them).
EXAMPLE_USER_ID = "387b0c87-0f85-44cc-833e-7306c1b5d3e6"
EXAMPLE_COURSE_ID = "9a1216f7-36de-4c50-8094-2ebfb7d3c383"
EXAMPLE_ENROLLMENT_ID = "619ad939-8591-40ad-9364-cf3825a9bf70"
#: Within the server's cost limit (100) for the page document with every course's items.
PAGE_SIZE = 20

PAGE_2025 = """
query courseMemberships($after: String, $first: Int) {
  courseMemberships(after: $after, first: $first) {
    total_count
    page_info { has_next_page end_cursor }
    edges {
      cursor
      node {
        id course_id user_id course_status is_paused paused_at start_at total_paused_duration
        created_at updated_at cursor
        course { id name description course_items { id name item_type position course_name } }
        next_incomplete_item { id name item_type course_id next_item { name } prev_item { name } }
        user { id email first_name last_name full_name name }
      }
    }
  }
}
"""
#: 2026-01-01 has no CourseMembership.cursor (the reference's A2): the same page without it.
PAGE_2026 = PAGE_2025.replace("created_at updated_at cursor", "created_at updated_at")

FETCH_ALL = """
query courseMemberships($client_id: ID, $fetch_all: Boolean) {
  courseMemberships(client_id: $client_id, fetch_all: $fetch_all) {
    nodes { id course { name } }
  }
}
"""

ONE = """
query courseMembership($course_membership_id: ID, $course_item_id: ID, $user_id: ID) {
  courseMembership(course_membership_id: $course_membership_id, course_item_id: $course_item_id,
                   user_id: $user_id) {
    id
    course_status
    next_incomplete_item { id name item_type }
    user { first_name last_name full_name }
  }
}
"""

PAUSE = """
mutation pauseCourseMembership($input: PauseCourseMembershipInput!) {
  pauseCourseMembership(input: $input) {
    courseMembership { id is_paused paused_at }
    messages { field message }
  }
}
"""

RESUME = """
mutation resumeCourseMembership($input: ResumeCourseMembershipInput!) {
  resumeCourseMembership(input: $input) {
    courseMembership { id is_paused total_paused_duration }
    messages { field message }
  }
}
"""

TEACHIFY_EXTEND = """
mutation extend($userId: String!, $courseId: String!, $extensionDays: Int, $newEndedAt: Int) {
  extendStudentCourseAccess(userId: $userId, courseId: $courseId, extensionDays: $extensionDays,
                            newEndedAt: $newEndedAt) {
    enrollment { id endedAt course { id slug name } user { id name } }
    errors { field message }
  }
}
"""

#: Healthie-shaped `auditLog` (issue 27 item 5) with this API's additions (action, source...).
AUDIT_LOG = """
query auditLog($resource_id: ID, $page_size: Int, $after: Cursor) {
  auditLog(resource_id: $resource_id, page_size: $page_size, after: $after) {
    id
    cursor
    occurred_at
    type
    action
    source
    reason
    resource_name
    resource_id
    course_id
    client_id
    acting_user { id email }
    resource_changes { field value_before_change value_after_change }
  }
}
"""

failures: list[str] = []


def check(name: str, function: Callable[[], Any]) -> Any:
    """Runs one check; a failure is recorded with what was got, and the run goes on."""
    try:
        result = function()
    except Exception as error:  # noqa: BLE001 - every failure is reported, none stops the run
        failures.append(f"{name}: {type(error).__name__}: {error}")
        print(f"  FAIL {name}: {type(error).__name__}: {error}")
        return None
    print(f"  ok   {name}")
    return result


def healthie_client(version: str | None) -> Client:
    headers = {"Authorization": f"Basic {KEY}", "AuthorizationSource": "API"}
    if version is not None:
        headers[VERSION_HEADER] = version
    transport = RequestsHTTPTransport(url=f"{BASE}/graphql", headers=headers, timeout=30)
    return Client(transport=transport, fetch_schema_from_transport=True)


def teachify_client(version: str | None = None) -> Client:
    headers = {"X-Teachify-API-Key": KEY}
    if version is not None:
        headers[VERSION_HEADER] = version
    transport = RequestsHTTPTransport(url=f"{BASE}/graphql/", headers=headers, timeout=30)
    return Client(transport=transport, fetch_schema_from_transport=True)


def course_status_type(schema: GraphQLSchema):
    field = schema.type_map["CourseMembership"].fields["course_status"]
    assert isinstance(field.type, GraphQLNonNull), f"course_status is {field.type}"
    return field.type.of_type


def expect_string_status(schema: GraphQLSchema) -> None:
    status = course_status_type(schema)
    assert str(status) == "String", f"course_status is {status}!, expected String!"
    assert "cursor" in schema.type_map["CourseMembership"].fields


def expect_enum_status(schema: GraphQLSchema) -> None:
    status = course_status_type(schema)
    assert isinstance(status, GraphQLEnumType), f"course_status is {status}!, expected an enum"
    assert status.name == "CourseMembershipStatus", status.name
    assert list(status.values) == ["NOT_STARTED", "IN_PROGRESS", "COMPLETED"], list(status.values)
    assert "cursor" not in schema.type_map["CourseMembership"].fields, "2026-01-01 drops cursor"


def walk_pages(session, document) -> list[dict]:
    nodes, after, total = [], None, None
    for _ in range(50):
        page = session.execute(document, variable_values={"after": after, "first": PAGE_SIZE})
        connection = page["courseMemberships"]
        total = connection["total_count"]
        for edge in connection["edges"]:
            if "cursor" in edge["node"]:
                assert edge["node"]["cursor"] == edge["cursor"]
            nodes.append(edge["node"])
        if not connection["page_info"]["has_next_page"]:
            break
        after = connection["page_info"]["end_cursor"]
    assert len(nodes) == total, f"{len(nodes)} nodes over the pages, total_count {total}"
    assert len({node["id"] for node in nodes}) == total, "a membership came twice"
    assert total > 2 * PAGE_SIZE, f"only {total} memberships: the pages were not exercised"
    return nodes


def healthie(version: str | None, statuses: dict[str, str]) -> None:
    label = version or "no header"
    enum = version == "2026-01-01"
    page = gql(PAGE_2026 if enum else PAGE_2025)
    documents = {
        "page": page,
        "fetch_all": gql(FETCH_ALL),
        "one": gql(ONE),
        "pause": gql(PAUSE),
        "resume": gql(RESUME),
    }
    client = healthie_client(version)
    with client as session:
        schema = client.schema
        assert schema is not None
        check(
            f"[{label}] introspection: course_status is "
            + ("the CourseMembershipStatus enum, no cursor" if enum else "String!"),
            lambda: (expect_enum_status if enum else expect_string_status)(schema),
        )
        for name, document in documents.items():
            check(
                f"[{label}] gql validates {name} against the served schema",
                lambda document=document: client.validate(document),
            )
        if enum:

            def refuses_the_2025_page():
                try:
                    client.validate(gql(PAGE_2025))
                except GraphQLError as error:
                    assert "cursor" in str(error), error
                    return
                raise AssertionError("the 2025 page (CourseMembership.cursor) validated at 2026")

            check(
                f"[{label}] gql refuses the 2025 page (CourseMembership.cursor) locally",
                refuses_the_2025_page,
            )

        nodes = (
            check(
                f"[{label}] courseMemberships: every page, string cursors",
                lambda: walk_pages(session, page),
            )
            or []
        )
        for node in nodes:
            statuses.setdefault(node["id"], {})[label] = node["course_status"]
        example = next((n for n in nodes if n["id"] == EXAMPLE_ENROLLMENT_ID), None)

        def example_node():
            assert example is not None, "the contract's example membership is not listed"
            assert example["course"]["name"] == "Example Course"
            assert example["user"]["full_name"] == "Example Student"
            expected = "IN_PROGRESS" if enum else "in_progress"
            assert example["course_status"] == expected, f"course_status {example['course_status']}"

        check(f"[{label}] the example membership, nested names, course_status", example_node)

        def fetch_all():
            answer = session.execute(
                documents["fetch_all"],
                variable_values={"client_id": EXAMPLE_USER_ID, "fetch_all": True},
            )
            assert answer["courseMemberships"]["nodes"] == [
                {"id": EXAMPLE_ENROLLMENT_ID, "course": {"name": "Example Course"}}
            ], answer

        check(f"[{label}] courseMemberships(client_id, fetch_all)", fetch_all)

        def lookups():
            by_id = session.execute(
                documents["one"], variable_values={"course_membership_id": EXAMPLE_ENROLLMENT_ID}
            )["courseMembership"]
            assert by_id["id"] == EXAMPLE_ENROLLMENT_ID
            assert by_id["course_status"] == ("IN_PROGRESS" if enum else "in_progress"), by_id
            item = by_id["next_incomplete_item"]["id"]
            by_item = session.execute(
                documents["one"],
                variable_values={"course_item_id": item, "user_id": EXAMPLE_USER_ID},
            )["courseMembership"]
            assert by_item["id"] == EXAMPLE_ENROLLMENT_ID, by_item

        check(f"[{label}] courseMembership by id and by item + user", lookups)

        def pause_and_resume():
            variables = {"input": {"id": EXAMPLE_ENROLLMENT_ID}}
            paused = session.execute(documents["pause"], variable_values=variables)
            payload = paused["pauseCourseMembership"]
            assert payload["messages"] == [], payload
            assert payload["courseMembership"]["is_paused"] is True
            again = session.execute(documents["pause"], variable_values=variables)
            assert again["pauseCourseMembership"]["messages"] == [
                {"field": None, "message": "Course membership is already paused"}
            ], again
            resumed = session.execute(documents["resume"], variable_values=variables)
            assert resumed["resumeCourseMembership"]["courseMembership"]["is_paused"] is False
            unknown = {"input": {"id": str(uuid.UUID(int=0))}}
            missing = session.execute(documents["pause"], variable_values=unknown)
            assert missing["pauseCourseMembership"]["messages"] == [
                {"field": "id", "message": "Course membership not found"}
            ], missing

        check(f"[{label}] pause, pause again (message), resume, unknown id", pause_and_resume)


def teachify() -> None:
    examples = [gql(document) for document in contract.example_documents()]
    extend = gql(TEACHIFY_EXTEND)
    for version in (None, "2026-01-01"):
        label = f"teachify, {version or 'no header'}"
        client = teachify_client(version)
        with client as _session:
            for number, document in enumerate([extend, *examples]):
                check(
                    f"[{label}] gql validates document {number} (the contract's examples: 1, 2)",
                    lambda document=document, client=client: client.validate(document),
                )
    client = teachify_client()
    with client as session:

        def extends():
            variables = {
                "userId": EXAMPLE_USER_ID,
                "courseId": EXAMPLE_COURSE_ID,
                "extensionDays": 30,
            }
            before = datetime.now(UTC)
            payload = session.execute(extend, variable_values=variables)[
                "extendStudentCourseAccess"
            ]
            assert payload["errors"] == [], payload
            enrollment = payload["enrollment"]
            assert enrollment["id"] == EXAMPLE_ENROLLMENT_ID
            assert enrollment["course"]["slug"] == "course-slug"
            ended = datetime.fromtimestamp(enrollment["endedAt"], tz=UTC)
            assert ended > before + timedelta(days=29), ended
            refused = session.execute(extend, variable_values={**variables, "extensionDays": 0})
            assert refused["extendStudentCourseAccess"] == {
                "enrollment": None,
                "errors": [{"field": "extensionDays", "message": "Invalid extension period"}],
            }, refused

        check("[teachify] extendStudentCourseAccess by 30 days; 0 days refused", extends)


def unknown_version() -> None:
    def refused():
        client = healthie_client("2025-06-15")
        try:
            with client as _session:
                pass
        except TransportQueryError as error:
            codes = [e.get("extensions", {}).get("code") for e in error.errors or []]
            assert codes == ["UNSUPPORTED_API_VERSION"], error.errors
            return
        raise AssertionError("the introspection with version 2025-06-15 was answered")

    check("[2025-06-15] an unknown version is refused with UNSUPPORTED_API_VERSION", refused)


def audit_log() -> int:
    """`gql_client.py audit-log`: Healthie's `auditLog` (issue 27 item 5) through gql. The
    document validated against each version's introspection; then a pause and a resume
    (Healthie, 2026-01-01) and an extension (Teachify) of the example membership are its three
    newest events, in that order newest first, with their action, source, actor and changes;
    paging by 2 with `after` gives the same list as one page."""
    print("auditLog (Healthie's shape)")
    document = gql(AUDIT_LOG)
    for version in (None, "2025-01-01", "2026-01-01"):
        client = healthie_client(version)
        with client as _session:
            check(
                f"[{version or 'no header'}] gql validates auditLog against the served schema",
                lambda client=client: client.validate(document),
            )
    membership = {"input": {"id": EXAMPLE_ENROLLMENT_ID}}
    extension = {"userId": EXAMPLE_USER_ID, "courseId": EXAMPLE_COURSE_ID, "extensionDays": 1}
    with healthie_client("2026-01-01") as session, teachify_client() as teachify_session:

        def changes_then_events():
            assert session.execute(gql(PAUSE), variable_values=membership)["pauseCourseMembership"][
                "courseMembership"
            ]["is_paused"]
            session.execute(gql(RESUME), variable_values=membership)
            extended = teachify_session.execute(gql(TEACHIFY_EXTEND), variable_values=extension)
            assert extended["extendStudentCourseAccess"]["errors"] == [], extended
            events = session.execute(
                document, variable_values={"resource_id": EXAMPLE_ENROLLMENT_ID, "page_size": 100}
            )["auditLog"]
            newest = events[:3]
            assert [e["action"] for e in newest] == ["EXTEND", "RESUME", "PAUSE"], newest
            for event in newest:
                assert event["source"] == "GRAPHQL", event
                assert event["acting_user"]["email"] == "lead@example.com", event
                assert event["resource_name"] == "COURSE_MEMBERSHIP", event
                assert event["resource_id"] == EXAMPLE_ENROLLMENT_ID, event
                assert event["client_id"] == EXAMPLE_USER_ID, event
                assert event["course_id"] == EXAMPLE_COURSE_ID, event
                assert event["type"] == "UPDATE", event
            assert {
                "field": "is_paused",
                "value_before_change": "false",
                "value_after_change": "true",
            } in newest[2]["resource_changes"], newest[2]
            times = [event["occurred_at"] for event in events]
            assert times == sorted(times, reverse=True), "not newest first"
            return events

        events = check(
            "[auditLog] a pause, a resume, an extension: the 3 newest events", changes_then_events
        )

        def paged_by_two():
            assert events, "no events to page"
            paged, after = [], None
            for _ in range(len(events) + 1):
                page = session.execute(
                    document,
                    variable_values={
                        "resource_id": EXAMPLE_ENROLLMENT_ID,
                        "page_size": 2,
                        "after": after,
                    },
                )["auditLog"]
                paged += page
                if len(page) < 2:
                    break
                after = page[-1]["cursor"]
            assert [e["id"] for e in paged] == [e["id"] for e in events], "the pages differ"

        check("[auditLog] pages of 2 by cursor give the same events", paged_by_two)
    print(f"gql audit-log {len(failures)} failure(s)")
    return 1 if failures else 0


def main() -> int:
    statuses: dict[str, dict[str, str]] = {}
    for version in (None, "2025-01-01", "2026-01-01"):
        print(f"Healthie, version header: {version or '(none)'}")
        check(
            f"[{version or 'no header'}] a gql session (the schema fetched by introspection)",
            lambda version=version: healthie(version, statuses),
        )
    print("Healthie, the same memberships in both spellings")

    def same_statuses():
        compared = [s for s in statuses.values() if {"no header", "2026-01-01"} <= s.keys()]
        assert len(compared) > 100, f"{len(compared)} memberships compared"
        for spelled in compared:
            assert spelled["2026-01-01"] == spelled["no header"].upper(), spelled
            assert spelled["2025-01-01"] == spelled["no header"], spelled

    check(
        "course_status at 2026-01-01 is the 2025 string as the enum, for every membership",
        same_statuses,
    )
    unknown_version()
    print("Teachify (no versions)")
    check("teachify", teachify)
    print(f"gql {len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(audit_log() if sys.argv[1:] == ["audit-log"] else main())
