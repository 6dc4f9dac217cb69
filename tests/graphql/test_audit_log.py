"""`auditLog` (issue 27 item 5; enrollments/graphql/audit_log.py): the access changes' audit
trail over the API in Healthie's shape. Filters, keyset pages, the permission and its scope,
who sees reasons and e-mails, bad input, the cost model and the query count of a page, with the
fast paths on and off. The same rows through the admin's door: test_audit_log_doors.py."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from graphql import parse

from config.schema import schema
from enrollments.graphql import audit_log
from enrollments.graphql.cost import document_cost
from enrollments.graphql.limits import limits
from enrollments.models import AccessChange
from tests.factories import (
    AccessChangeFactory,
    CourseRoleFactory,
    StaffFactory,
    UserFactory,
)
from tests.graphql.audit_trail import T0, Trail, view_trail
from tests.graphql.conftest import error_codes, grant

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_paths")]


EVERY_FIELD = """
query ($size: Int, $after: Cursor, $actor: ID, $resource: ID, $client: ID, $course: ID,
       $type: AuditEventType, $action: AccessChangeAction,
       $from: ISO8601DateTime, $to: ISO8601DateTime) {
  auditLog(page_size: $size, after: $after, acting_user_id: $actor, resource_id: $resource,
           client_id: $client, course_id: $course, event_type: $type, action: $action,
           occurred_after: $from, occurred_before: $to) {
    id cursor occurred_at resource_name resource_id type action source reason batch_id
    course_id client_id
    acting_user { id email name }
    client { id email name }
    resource_changes { field value_before_change value_after_change }
  }
}
"""


@pytest.fixture
def trail() -> Trail:
    return Trail()


@pytest.fixture
def auditor(make_key):
    """Views the trail and every enrollment, everywhere."""
    user = StaffFactory()
    view_trail(user)
    grant(user, "view")
    return make_key(user)


def log(api, key, **variables) -> list[dict]:
    body = api.post(EVERY_FIELD, variables, key=key)
    assert "errors" not in body, body
    return body["data"]["auditLog"]


def ids(events) -> list[str]:
    return [event["id"] for event in events]


def test_every_record_newest_first_in_healthies_shape(api, auditor, trail):
    events = log(api, auditor)
    assert ids(events) == trail.ids(0, 1, 2, 3, 4, 5, 6)
    extend = next(e for e in events if e["id"] == str(trail.rows[1].pk))
    assert extend == {
        "id": str(trail.rows[1].pk),
        "cursor": extend["cursor"],
        "occurred_at": "2026-03-01T12:01:00+00:00",
        "resource_name": "COURSE_MEMBERSHIP",
        "resource_id": str(trail.ann.pk),
        "type": "UPDATE",
        "action": "EXTEND",
        "source": "SYSTEM",
        "reason": "ok'd",
        "batch_id": None,
        "course_id": str(trail.course_a.pk),
        "client_id": str(trail.ann.user_id),
        "acting_user": {
            "id": str(trail.sam.pk),
            "email": "sam@example.com",
            "name": "Sam Ng",
        },
        "client": {"id": str(trail.ann.user_id), "email": "ann@e.com", "name": "Ann Lee"},
        "resource_changes": [
            {
                "field": "ended_at",
                "value_before_change": "2026-03-31T12:00:00+00:00",
                "value_after_change": "2026-04-07T12:00:00+00:00",
            }
        ],
    }
    by_id = {event["id"]: event for event in events}
    enroll, pause, bob = (by_id[str(trail.rows[i].pk)] for i in (0, 2, 4))
    assert (enroll["type"], enroll["acting_user"]) == ("CREATE", None)
    assert enroll["resource_changes"] == [
        {
            "field": "ended_at",
            "value_before_change": None,
            "value_after_change": "2026-03-31T12:00:00+00:00",
        }
    ]
    assert pause["resource_changes"] == [
        {"field": "is_paused", "value_before_change": "false", "value_after_change": "true"}
    ]
    assert bob["resource_changes"] == []  # nothing differed
    assert by_id[str(trail.rows[5].pk)]["type"] == "DESTROY"


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        (lambda t: {"resource": str(t.ann.pk)}, (0, 1, 2, 3, 5)),
        (lambda t: {"client": str(t.bob.user_id)}, (4,)),
        (lambda t: {"course": str(t.course_b.pk)}, (6,)),
        (lambda t: {"actor": str(t.sam.pk)}, (1, 5, 6)),
        (lambda t: {"actor": "no_author"}, (0, 2, 3, 4)),
        (lambda t: {"type": "CREATE"}, (0,)),
        (lambda t: {"type": "DESTROY"}, (5,)),
        (lambda t: {"type": "UPDATE", "course": str(t.course_a.pk)}, (1, 2, 3, 4)),
        (lambda t: {"action": "EXTEND"}, (1, 4, 6)),
        (lambda t: {"action": "EXTEND", "type": "CREATE"}, ()),
        # occurred_after inclusive, occurred_before exclusive: 12:02 and 12:03 only.
        (lambda t: {"from": "2026-03-01T12:02:00Z", "to": "2026-03-01T12:04:00Z"}, (2, 3)),
        (lambda t: {"from": "2026-03-01T13:05:00+01:00"}, (5, 6)),
        (lambda t: {"actor": str(t.sam.pk), "resource": str(t.ann.pk), "action": "REMOVE"}, (5,)),
    ],
)
def test_filters(api, auditor, trail, variables, expected):
    assert ids(log(api, auditor, **variables(trail))) == trail.ids(*expected)


def test_keyset_pages_walk_every_record_once_and_new_records_shift_nothing(api, auditor, trail):
    seen, after = [], None
    while True:
        page = log(api, auditor, size=2, after=after)
        if not page:
            break
        assert len(page) <= 2
        seen += ids(page)
        after = page[-1]["cursor"]
        # A record written while the client pages comes first, never into a later page.
        AccessChangeFactory(enrollment=trail.bob, created_at=T0 + timedelta(hours=1))
    assert seen == trail.ids(0, 1, 2, 3, 4, 5, 6)


def test_the_default_page_is_healthies_fifty(api, auditor, trail):
    AccessChange.objects.bulk_create(
        AccessChange(
            enrollment=trail.cy,
            action=AccessChange.Action.EXTEND,
            source=AccessChange.Source.SYSTEM,
            created_at=T0 - timedelta(minutes=minute),
        )
        for minute in range(1, 60)
    )
    assert len(log(api, auditor)) == audit_log.DEFAULT_PAGE_SIZE == 50


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"size": 0}, "`page_size` must be between 1 and 100"),
        ({"size": 101}, "`page_size` must be between 1 and 100"),
        ({"resource": "42"}, "`resource_id` is not a valid id"),
        ({"client": "not-an-id"}, "`client_id` is not a valid id"),
        ({"actor": "nobody"}, "`acting_user_id` is not a valid id"),
        (
            {"from": "2026-03-01T12:04:00Z", "to": "2026-03-01T12:04:00Z"},
            "`occurred_after` must be earlier than `occurred_before`",
        ),
    ],
)
def test_bad_input_is_refused_with_its_reason(api, auditor, trail, variables, message):
    body = api.post(EVERY_FIELD, variables, key=auditor)
    assert body["data"] == {"auditLog": None}
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["message"] == message


def test_a_page_size_past_32_bits_is_refused_by_the_int_type(api, auditor):
    body = api.post(EVERY_FIELD, {"size": 2**31}, key=auditor)
    assert "data" not in body or body["data"] is None
    assert "Int cannot represent non 32-bit signed integer value" in body["errors"][0]["message"]


def test_a_cursor_it_did_not_issue_is_refused(api, auditor, trail, make_key):
    membership_cursor = api.post(
        "{ courseMemberships(first: 1) { edges { cursor } } }", key=auditor
    )["data"]["courseMemberships"]["edges"][0]["cursor"]
    for cursor in (membership_cursor, "garbage", "x" * 101):
        body = api.post(EVERY_FIELD, {"after": cursor}, key=auditor)
        assert error_codes(body) == ["INVALID_CURSOR"], cursor


def test_a_course_staff_member_sees_only_their_courses_records(api, trail, make_key):
    staff = StaffFactory()
    CourseRoleFactory(user=staff, course=trail.course_a)
    key = make_key(staff)
    assert ids(log(api, key)) == trail.ids(0, 1, 2, 3, 4, 5)
    # Another course's records are not there, whichever filter names them.
    assert log(api, key, course=str(trail.course_b.pk)) == []
    assert log(api, key, resource=str(trail.cy.pk)) == []
    assert log(api, key, client=str(trail.cy.user_id)) == []
    # Staff view enrollments in their course: reasons and e-mails shown.
    assert {e["reason"] for e in log(api, key, action="REMOVE")} == {"left"}


def test_reasons_and_emails_only_to_those_who_may_read_the_learner(api, trail, make_key):
    """A trail-only viewer (view_accesschange, not view_enrollment) sees every fact but no
    reason and no learner's e-mail; the actor's address stays (whoever sees a record sees who
    made it, as in the admin)."""
    user = StaffFactory()
    view_trail(user)
    events = log(api, make_key(user))
    assert ids(events) == trail.ids(0, 1, 2, 3, 4, 5, 6)
    assert {event["reason"] for event in events} == {None}
    assert {event["client"]["email"] for event in events} == {None}
    # The learner's name stays (as a withheld payload's does): without the e-mail it says
    # nothing more than the id.
    assert {event["client"]["name"] for event in events} == {"Ann Lee", "Bob Lee", "Cy Lee"}
    assert {(e["acting_user"] or {}).get("email") for e in events} == {None, "sam@example.com"}


@pytest.mark.parametrize("who", ["learner", "enrollment viewer"])
def test_without_the_trail_permission_anywhere_it_is_forbidden(api, trail, make_key, who):
    user = UserFactory() if who == "learner" else StaffFactory()
    if who != "learner":
        grant(user, "view")  # may view enrollments, not their audit trail
    body = api.post(EVERY_FIELD, key=make_key(user))
    assert body["data"] == {"auditLog": None}
    assert error_codes(body) == ["FORBIDDEN"]


def test_anonymous_is_unauthenticated(api, trail):
    body = api.post("{ auditLog { id } }")
    assert error_codes(body) == ["UNAUTHENTICATED"]


def test_one_page_is_one_statement_whatever_its_size(api, auditor, trail):
    """The rows with their enrollment, learner, course and actor: one SELECT. The key and its
    user (1) as every keyed request; its permissions and roles were read by its first
    request and are kept (apikeys.permission_cache)."""
    log(api, auditor, size=1)  # the key's first use: recorded, its permissions read
    counts = []
    for size in (1, 7, 100):
        with CaptureQueriesContext(connection) as queries:
            assert len(log(api, auditor, size=size)) == min(size, 7)
        counts.append(len(queries))
    assert counts == [2, 2, 2]


def test_a_course_staff_members_page_costs_the_same_statements(api, trail, make_key):
    staff = StaffFactory()
    CourseRoleFactory(user=staff, course=trail.course_a)
    key = make_key(staff)
    log(api, key, size=1)
    with CaptureQueriesContext(connection) as queries:
        assert len(log(api, key, size=100)) == 6
    assert len(queries) == 2


def price(document: str) -> int:
    return document_cost(parse(document), limits(), schema.graphql_schema)


def test_the_cost_model_prices_a_page_by_its_size(api, auditor, trail):
    """Each event's fields are priced times the page (cost.ROOT_LISTS), as a connection's
    nodes: a bigger page costs more, the default is Healthie's 50, and a variable page size
    is priced at the most (then with the request's value). Every field of a full page fits
    the budget."""
    fields = "{ id reason client { email } resource_changes { field } }"
    one, default, full = (
        price(f"{{ auditLog{arguments} {fields} }}")
        for arguments in ("(page_size: 1)", "", "(page_size: 100)")
    )
    assert one < default < full
    assert price(f"query ($n: Int) {{ auditLog(page_size: $n) {fields} }}") == full
    assert price(EVERY_FIELD) <= limits().max_cost
    assert "errors" not in api.post(EVERY_FIELD, {"size": 100}, key=auditor)


@pytest.mark.parametrize("version", ["2025-01-01", "2026-01-01"])
def test_every_api_version_serves_it_alike(api, auditor, trail, version):
    """The field is on the shared Query, so each version's schema has it (graphql/versions.py)."""
    body = api.post(
        EVERY_FIELD, {"size": 3}, key=auditor, HTTP_HEALTHIE_GRAPHQL_API_VERSION=version
    )
    assert ids(body["data"]["auditLog"]) == trail.ids(4, 5, 6)
    assert "errors" not in body
