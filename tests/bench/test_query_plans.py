"""Every filter and order of `courseMemberships` is served by an index (issue 6).

The benchmark's data builder fills the test database with enough enrollments that PostgreSQL
would rather scan the whole table than use a poor index; the test sends each filter and order
through the real endpoint, captures the SQL it runs and checks the plan PostgreSQL chooses for
it (after ANALYZE): no sequential scan of the enrollment table, nor of the completions that the
progress annotations read for every row of a page.
"""

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from apikeys.models import APIKey
from bench import dataset
from bench.documents import MEMBERSHIP_PAGE
from enrollments.graphql.pagination import encode_cursor
from enrollments.models import AccessChange, Enrollment
from enrollments.operations import core
from enrollments.operations.access import Extend
from enrollments.operations.audit import Attribution
from enrollments.operations.selection import Selection
from enrollments.selectors.expiry import enrollments_due_expiry_reminder, enrollments_ending_between
from lms.models import Course, CourseRole, User
from tests.markers import requires_postgres

pytestmark = [requires_postgres, pytest.mark.postgres]

#: Large enough that a sequential scan is cheaper than a poor index for the planner.
ENROLLMENTS = 30_000
#: Tables no page query may read whole.
INDEXED_TABLES = {"enrollments_enrollment", "enrollments_itemcompletion"}

NOW = datetime.now(UTC)


@pytest.fixture(scope="module")
def built(django_db_setup, django_db_blocker):
    """The data set, built once for the module and removed afterwards."""
    with django_db_blocker.unblock():
        dataset.build(
            dataset.Shape(enrollments=ENROLLMENTS, courses=300), now=NOW, drop_indexes=False
        )
        # Committed (the module's fixture runs outside the tests' transactions), so VACUUM can
        # set the visibility map as it would be on a live table, as the benchmark does.
        dataset.vacuum_analyze()
        user = User.objects.create_user(email="plans@example.com", is_staff=True)
        user.user_permissions.add(
            Permission.objects.get(
                content_type__app_label="enrollments", codename="view_enrollment"
            )
        )
        _, raw_key = APIKey.objects.create_key(user=user, name="plans")
        # A course's staff (issue 25): their page is their course's memberships or their own.
        staff_course = Course.objects.order_by("slug")[11]
        staff = User.objects.create_user(email="plans-staff@example.com", is_staff=True)
        CourseRole.objects.create(user=staff, course=staff_course, role=CourseRole.Role.STAFF)
        _, staff_key = APIKey.objects.create_key(user=staff, name="plans staff")
        in_course = Enrollment.objects.filter(course=staff_course).order_by("created_at", "id")
        sample = Enrollment.objects.order_by("created_at", "id")[ENROLLMENTS // 2]
        yield {
            "key": raw_key,
            "staff_key": staff_key,
            "staff_cursor": encode_cursor(in_course[in_course.count() // 2]),
            "course_id": str(Course.objects.order_by("slug").values_list("pk", flat=True)[7]),
            "user_id": str(sample.user_id),
            "cursor": encode_cursor(sample),
        }
        with connection.cursor() as cursor:
            cursor.execute(
                "TRUNCATE enrollments_itemcompletion, enrollments_accesschange, "
                "enrollments_enrollment, lms_courseitem, lms_courserole, lms_course, "
                "apikeys_apikey, lms_user CASCADE"
            )


def _case(name: str, **arguments) -> pytest.param:
    return pytest.param(arguments, id=name)


CASES = [
    _case("no filter, ascending"),
    _case("no filter, descending", order="CREATED_AT_DESC"),
    _case("after a cursor", after="{cursor}"),
    _case("after a cursor, descending", after="{cursor}", order="CREATED_AT_DESC"),
    _case("backward from a cursor", before="{cursor}", last=100),
    _case("course", course_id="{course_id}"),
    _case("course, descending, after a cursor", course_id="{course_id}", order="CREATED_AT_DESC"),
    _case("user", user_id="{user_id}"),
    _case("user, descending", user_id="{user_id}", order="CREATED_AT_DESC"),
    _case("course_status not_started", course_status="not_started"),
    _case("course_status in_progress", course_status="in_progress"),
    _case("course_status completed", course_status="completed"),
    _case("is_paused true", is_paused=True),
    _case("is_paused false", is_paused=False),
    _case("access_state ACTIVE", access_state="ACTIVE"),
    _case("access_state EXPIRED", access_state="EXPIRED"),
    _case("access_state NOT_STARTED", access_state="NOT_STARTED"),
    _case("access_state PAUSED", access_state="PAUSED"),
    _case("ended_before", ended_before=(NOW - timedelta(days=200)).isoformat()),
    _case("ended_after", ended_after=(NOW + timedelta(days=200)).isoformat()),
    _case("ended_after, descending", ended_after=NOW.isoformat(), order="CREATED_AT_DESC"),
    _case("course and access state", course_id="{course_id}", access_state="EXPIRED"),
    _case("course and course_status", course_id="{course_id}", course_status="completed"),
]


def _document(arguments: dict) -> str:
    """MEMBERSHIP_PAGE's selection under a field with these literal arguments."""
    rendered = ", ".join(
        f"{name}: {value if name in ('order', 'access_state') else json.dumps(value)}"
        for name, value in arguments.items()
    )
    selection = MEMBERSHIP_PAGE[
        MEMBERSHIP_PAGE.index("{", MEMBERSHIP_PAGE.index("courseMemberships")) :
    ]
    return f"query {{ courseMemberships({rendered}) {selection}"


def _seq_scans(plan: dict) -> list[str]:
    found = []
    if plan.get("Node Type") == "Seq Scan" and plan.get("Relation Name") in INDEXED_TABLES:
        found.append(plan["Relation Name"])
    for child in plan.get("Plans", []):
        found += _seq_scans(child)
    return found


def _captured(built, document: str, *, key: str = "key") -> list[str]:
    """The SQL that `document` runs through /graphql/ with the module's API key (`key`: or
    the course staff member's, "staff_key")."""
    client = Client(HTTP_AUTHORIZATION=f"Bearer {built[key]}")
    with CaptureQueriesContext(connection) as captured:
        response = client.post(
            "/graphql/", data={"query": document}, content_type="application/json"
        )
    body = response.json()
    assert response.status_code == 200 and "errors" not in body, body
    return [query["sql"] for query in captured.captured_queries]


def _page_plan(built, arguments: dict, *, key: str = "key") -> dict:
    values = {
        name: value.format(**built) if isinstance(value, str) else value
        for name, value in arguments.items()
    }
    values.setdefault("first" if "last" not in values else "last", 100)
    statements = _captured(built, _document(values), key=key)
    page_queries = [
        sql for sql in statements if 'FROM "enrollments_enrollment"' in sql and "LIMIT" in sql
    ]
    assert len(page_queries) == 1, [sql[:200] for sql in statements]
    return _plan(page_queries[0])


def _count_plan(built, status: str) -> dict:
    document = (
        f'query {{ courseMemberships(course_status: "{status}", first: 1) {{ total_count }} }}'
    )
    counts = [sql for sql in _captured(built, document) if sql.startswith("SELECT COUNT")]
    assert len(counts) == 1, counts
    assert "itemcompletion" not in counts[0]  # the stored status, no per-row count
    return _plan(counts[0])


@pytest.mark.django_db
@pytest.mark.parametrize("arguments", CASES)
def test_each_filter_and_order_is_served_by_an_index(built, arguments):
    plan = _page_plan(built, arguments)
    assert _seq_scans(plan) == [], _outline(plan)


SCOPED_CASES = [
    _case("course staff, ascending"),
    _case("course staff, descending", order="CREATED_AT_DESC"),
    _case("course staff, after a cursor", after="{staff_cursor}"),
    _case(
        "course staff, descending after a cursor", after="{staff_cursor}", order="CREATED_AT_DESC"
    ),
    _case("course staff, backward", before="{staff_cursor}", last=100),
    _case("course staff, access_state ACTIVE", access_state="ACTIVE"),
    _case("course staff, course_status in_progress", course_status="in_progress"),
]


@pytest.mark.django_db
@pytest.mark.parametrize("arguments", SCOPED_CASES)
def test_a_course_staff_page_is_served_by_an_index(built, arguments):
    """Issue 25: the page of a course's staff (their course's memberships or their own) at the
    benchmark's data size: no sequential scan of the enrollments, the scope served by the
    course's index."""
    plan = _page_plan(built, arguments, key="staff_key")
    assert _seq_scans(plan) == [], _outline(plan)
    assert "enrollment_course_created_idx" in _index_names(plan), _outline(plan)


STATUSES = ["not_started", "in_progress", "completed"]


@pytest.mark.django_db
@pytest.mark.parametrize("status", STATUSES)
def test_course_status_counts_are_served_by_the_status_index(built, status):
    """`total_count` with a course_status filter reads the stored status's index (issue 15):
    no sequential scan, no per-row count of completions."""
    client = Client(HTTP_AUTHORIZATION=f"Bearer {built['key']}")
    document = (
        f'query {{ courseMemberships(course_status: "{status}", first: 1) {{ total_count }} }}'
    )
    body = client.post("/graphql/", data={"query": document}, content_type="application/json")
    expected = Enrollment.objects.filter(course_status=status).count()
    assert body.json()["data"]["courseMemberships"]["total_count"] == expected > 0
    plan = _count_plan(built, status)
    assert _seq_scans(plan) == [], _outline(plan)
    assert "enrollment_course_status_idx" in _index_names(plan), _outline(plan)


@pytest.mark.django_db
def test_every_index_of_the_enrollment_table_serves_a_query(built):
    """The enrollment table keeps only indexes that some filter, order, count or command uses
    (issue 15: each index costs every write). The primary key serves look-ups by id and the
    foreign keys of the completions and audit rows."""
    used: set[str] = set()
    for case in CASES:
        used |= _index_names(_page_plan(built, case.values[0]))
    for status in STATUSES:
        used |= _index_names(_count_plan(built, status))
    # The access report and the expiry reminders: a week's ends of access.
    week = timedelta(days=7)
    for queryset in (
        enrollments_ending_between(after=NOW, until=NOW + week),
        enrollments_due_expiry_reminder(within=week, at=NOW),
    ):
        plan = _plan(*queryset.query.sql_with_params())
        assert _seq_scans(plan) == [], _outline(plan)
        used |= _index_names(plan)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'enrollments_enrollment' "
            "AND indexname <> 'enrollments_enrollment_pkey'"
        )
        secondary = {name for (name,) in cursor.fetchall()}
    assert secondary - used == set(), used


def _plan(sql: str, params: tuple = ()) -> dict:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params or None)
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return plan[0]["Plan"]


def _index_names(plan: dict) -> set[str]:
    names = {plan["Index Name"]} if "Index Name" in plan else set()
    for child in plan.get("Plans", []):
        names |= _index_names(child)
    return names


def _outline(plan: dict, depth: int = 0) -> str:
    """The plan tree, one node a line: what a failure shows."""
    line = "  " * depth + " ".join(
        str(plan.get(key, "")) for key in ("Node Type", "Relation Name", "Index Name", "Filter")
    )
    return "\n".join([line] + [_outline(child, depth + 1) for child in plan.get("Plans", [])])


@pytest.mark.django_db
def test_a_bulk_selection_by_filter_locks_its_rows_through_an_index(built):
    """A bulk operation over a filter of the enrollment table's own columns (here a tenth of
    the table, by id range) locks its rows with that filter's own WHERE: as `id IN
    (subquery)` PostgreSQL scanned the whole table to join the subquery back (issue 15)."""
    ids = list(Enrollment.objects.order_by("pk").values_list("pk", flat=True)[1000:4000])
    queryset = Enrollment.objects.filter(pk__gte=ids[0], pk__lte=ids[-1])
    with CaptureQueriesContext(connection) as captured:
        plan = core.apply(
            Extend(days=1),
            Selection.by_filter(queryset),
            Attribution(None, AccessChange.Source.SYSTEM),
        )
    assert len(plan.changes) + len(plan.skips) + len(plan.unchanged) == len(ids)
    (lock,) = [query["sql"] for query in captured.captured_queries if "FOR UPDATE" in query["sql"]]
    assert " IN (SELECT" not in lock
    lock_plan = _plan(lock)
    assert _seq_scans(lock_plan) == [], _outline(lock_plan)
