"""The statement timeout of the API's reads on PostgreSQL, the cost model's backstop
(enrollments.graphql.statement_timeout; issue 14, finding 5; issue 22, item 3): the reads of a
query document run on the `api_reads` connection, whose session PostgreSQL starts with
`statement_timeout`; a statement that runs too long is cancelled and answered QUERY_TIMEOUT,
not INTERNAL_SERVER_ERROR. No SET or RESET per request; mutations, reads inside a transaction,
and everything else stay on `default`, unbounded."""

import pytest
from django.db import connections, router
from django.test.utils import CaptureQueriesContext

from enrollments.graphql.pagination import KeysetPage
from enrollments.graphql.statement_timeout import API_READS
from enrollments.models import Enrollment
from tests.factories import EnrollmentFactory
from tests.markers import requires_postgres

pytestmark = [
    requires_postgres,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, databases=["default", API_READS]),
]

COUNT = "{ courseMemberships { total_count } }"
PAGE = "{ courseMemberships(first: 10) { edges { node { id ended_at course { slug } } } } }"


def session_timeout(alias: str) -> str:
    with connections[alias].cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        return cursor.fetchone()[0]


def read_alias() -> str:
    """Where a read of an enrollment goes now (the router's answer)."""
    return router.db_for_read(Enrollment)


def slow_count(self) -> int:
    with connections[read_alias()].cursor() as cursor:
        cursor.execute("SELECT pg_sleep(2)")
    return 0


@pytest.fixture
def key(make_key, viewer) -> str:
    return make_key(viewer)


@pytest.fixture
def timeout_ms():
    """The api_reads connection opened again with a timeout of 200 ms, then as configured."""
    connection = connections[API_READS]
    options = connection.settings_dict["OPTIONS"]
    configured = options["options"]
    connection.close()
    options["options"] = "-c statement_timeout=200"
    yield 200
    connection.close()
    options["options"] = configured


def test_the_api_reads_connection_carries_the_timeout_and_default_does_not(settings):
    assert session_timeout(API_READS) == f"{settings.GRAPHQL_STATEMENT_TIMEOUT_MS // 1000}s"
    assert session_timeout("default") == "0"


def test_a_query_past_the_timeout_is_query_timeout(monkeypatch, api, key, caplog, timeout_ms):
    monkeypatch.setattr(KeysetPage, "total_count", property(slow_count))

    body = api.post(COUNT, key=key)

    assert api.last_response.status_code == 200
    assert body["data"] is None
    assert body["errors"] == [
        {
            "message": "The query ran past the statement timeout and was cancelled",
            "locations": [{"line": 1, "column": 23}],
            "path": ["courseMemberships", "total_count"],
            "extensions": {"code": "QUERY_TIMEOUT"},
        }
    ]
    assert "GraphQL resolver failed" not in caplog.text
    monkeypatch.undo()
    assert api.post(COUNT, key=key) == {"data": {"courseMemberships": {"total_count": 0}}}


def test_a_query_reads_on_the_bounded_connection_only_while_it_runs(monkeypatch, api, key):
    seen = []

    def spy(self) -> int:
        seen.append((read_alias(), session_timeout(read_alias())))
        return 0

    monkeypatch.setattr(KeysetPage, "total_count", property(spy))
    api.post(COUNT, key=key)
    assert seen == [(API_READS, "5s")]
    assert read_alias() == "default"  # after the request


def test_a_mutation_runs_on_default_unbounded(api, make_key, manager, clock):
    enrollment = EnrollmentFactory(ended_at=clock.current)
    document = (
        "mutation { extendStudentCourseAccess("
        f'userId: "{enrollment.user_id}", courseId: "{enrollment.course_id}", extensionDays: 1'
        ") { enrollment { id } errors { message } } }"
    )
    with (
        CaptureQueriesContext(connections["default"]) as on_default,
        CaptureQueriesContext(connections[API_READS]) as on_api_reads,
    ):
        body = api.post(document, key=make_key(manager))
    assert body["data"]["extendStudentCourseAccess"]["errors"] == []
    assert on_api_reads.captured_queries == []
    assert any("FOR UPDATE" in query["sql"] for query in on_default.captured_queries)


def test_a_page_is_its_own_statements_with_no_set_or_reset(api, key, clock):
    EnrollmentFactory.create_batch(3)
    api.post(PAGE, key=key)  # the key's first use and permissions, SQLite-free warm-up
    with (
        CaptureQueriesContext(connections["default"]) as on_default,
        CaptureQueriesContext(connections[API_READS]) as on_api_reads,
    ):
        body = api.post(PAGE, key=key)
    assert len(body["data"]["courseMemberships"]["edges"]) == 3
    statements = [q["sql"] for q in on_default.captured_queries + on_api_reads.captured_queries]
    assert len(statements) == 2, statements  # the key (default), the page (api_reads)
    assert len(on_api_reads.captured_queries) == 1
    assert 'FROM "enrollments_enrollment"' in on_api_reads.captured_queries[0]["sql"]
    assert not any("statement_timeout" in sql for sql in statements)
