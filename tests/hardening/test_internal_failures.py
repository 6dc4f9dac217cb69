"""Internal failures are internal (issue 21, item 8; the lower finding "an HTML 500 page while
the database is down").

Before: an exception raised by execution itself (not by a field: a bug, a changed library
signature) answered HTTP 200 `BAD_REQUEST` with the Python message, logged nowhere; a field's
failure was INTERNAL_SERVER_ERROR with nothing to find it by in the log; and a database that did
not answer (the API key look-up, the session, a resolver) was Django's HTML 500 page or a field
error. Now: INTERNAL_SERVER_ERROR with a generic message and an `error_id`, the traceback logged
at ERROR with that id; a database outage is JSON 503 SERVICE_UNAVAILABLE, in both media types.
"""

import json
import logging
import re
import socket

import pytest
from django.db import (
    InterfaceError,
    OperationalError,
    close_old_connections,
    connection,
    connections,
    router,
)

from enrollments.graphql import errors as api_errors
from enrollments.graphql.errors import is_database_unavailable
from enrollments.models import AccessChange, Enrollment
from tests.factories import EnrollmentFactory
from tests.graphql.conftest import error_codes
from tests.markers import requires_postgres

pytestmark = pytest.mark.django_db

ERROR_ID = re.compile(r"[0-9a-f]{32}")
JSON = "application/json"
GRAPHQL_JSON = "application/graphql-response+json"
COUNT = "{ courseMemberships { total_count } }"
EXTEND = """
mutation ($userId: String!, $courseId: String!) {
  extendStudentCourseAccess(userId: $userId, courseId: $courseId, extensionDays: 30) {
    enrollment { id endedAt }
  }
}
"""


@pytest.fixture
def key(make_key, manager):
    return make_key(manager)


def post(api, key, document, variables=None, accept=JSON):
    extra = {"HTTP_ACCEPT": accept} if accept else {}
    return api.post(document, variables, key=key, **extra)


def the_logged_error(caplog, error_id: str) -> logging.LogRecord:
    """The one ERROR record of the API's error log that names `error_id`."""
    records = [
        record
        for record in caplog.records
        if record.name == api_errors.logger.name and error_id in record.getMessage()
    ]
    assert len(records) == 1, [record.getMessage() for record in caplog.records]
    return records[0]


def test_a_resolver_that_raises_answers_internal_server_error_with_an_id_in_the_log(
    api, key, monkeypatch, caplog
):
    def explode(*args, **kwargs):
        raise RuntimeError("secret detail of the failure")

    monkeypatch.setattr("enrollments.graphql.queries.KeysetPage", explode)
    body = post(api, key, COUNT)
    # A field's failure: execution ran (`data` is there, null as the non-null root field is).
    assert api.last_response.status_code == 200
    assert body["data"] is None
    [error] = body["errors"]
    assert error["message"] == "Internal server error"
    assert error["path"] == ["courseMemberships"]
    assert set(error["extensions"]) == {"code", "error_id"}
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    error_id = error["extensions"]["error_id"]
    assert ERROR_ID.fullmatch(error_id)
    assert "secret" not in json.dumps(body)

    record = the_logged_error(caplog, error_id)
    assert record.levelno == logging.ERROR
    assert record.error_id == error_id
    assert record.exc_info[0] is RuntimeError
    assert "secret detail of the failure" in caplog.text  # the traceback, in the log only
    assert "Traceback" in caplog.text and "in explode" in caplog.text


def test_each_failure_gets_its_own_error_id(api, key, monkeypatch, caplog):
    monkeypatch.setattr("enrollments.graphql.queries.KeysetPage", lambda *a, **k: 1 / 0)
    first = post(api, key, COUNT)["errors"][0]["extensions"]["error_id"]
    second = post(api, key, COUNT)["errors"][0]["extensions"]["error_id"]
    assert first != second
    assert the_logged_error(caplog, first).exc_info[0] is ZeroDivisionError


def test_a_mutation_that_raises_changes_nothing_and_is_internal_server_error(
    api, key, monkeypatch, caplog, clock
):
    enrollment = EnrollmentFactory(ended_at=clock.current.replace(year=2027))

    def explode(*args, **kwargs):
        raise RuntimeError("the core blew up")

    monkeypatch.setattr("enrollments.graphql.mutations.apply_to_student", explode)
    variables = {"userId": str(enrollment.user_id), "courseId": str(enrollment.course_id)}
    body = post(api, key, EXTEND, variables)
    assert error_codes(body) == ["INTERNAL_SERVER_ERROR"]
    assert "core blew up" not in json.dumps(body)
    the_logged_error(caplog, body["errors"][0]["extensions"]["error_id"])
    enrollment.refresh_from_db()
    assert enrollment.ended_at == clock.current.replace(year=2027)
    assert not AccessChange.objects.exists()


@pytest.mark.parametrize("accept", [JSON, GRAPHQL_JSON, None])
def test_a_failure_of_execution_itself_is_500_not_the_clients_bad_request(
    api, key, monkeypatch, caplog, accept
):
    """The audit's case: what graphql-core's execute raises (here a signature it no longer
    accepts) was HTTP 200 BAD_REQUEST with the Python message, and nothing in the log."""

    def changed_signature(*args, **kwargs):
        raise TypeError("execute() got an unexpected keyword argument 'is_awaitable'")

    monkeypatch.setattr("enrollments.graphql.execution.execute", changed_signature)
    body = post(api, key, COUNT, accept=accept)
    response = api.last_response
    assert response.status_code == 500
    assert response["Content-Type"] == (GRAPHQL_JSON if accept == GRAPHQL_JSON else JSON)
    assert "data" not in body
    [error] = body["errors"]
    assert error["message"] == "Internal server error"
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert "is_awaitable" not in response.content.decode()
    record = the_logged_error(caplog, error["extensions"]["error_id"])
    assert record.levelno == logging.ERROR
    assert record.exc_info[0] is TypeError
    assert "unexpected keyword argument" in caplog.text


def test_a_failure_before_execution_is_500_too(api, key, monkeypatch, caplog):
    def broken_context(self, request):
        raise AttributeError("'WSGIRequest' object has no attribute 'renamed'")

    monkeypatch.setattr("enrollments.graphql.views.ApiView.get_context", broken_context)
    body = post(api, key, COUNT)
    assert api.last_response.status_code == 500
    assert error_codes(body) == ["INTERNAL_SERVER_ERROR"]
    assert the_logged_error(caplog, body["errors"][0]["extensions"]["error_id"]).exc_info


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"query": COUNT, "variables": [1]}, "The variables must be a JSON object."),
        ({"query": COUNT, "variables": 5}, "The variables must be a JSON object."),
        ({"query": COUNT, "operationName": 5}, "The operationName must be a string."),
    ],
)
def test_malformed_variables_stay_the_clients_bad_request(api, key, body, message, caplog):
    """graphql-core raises a TypeError for variables that are not an object: refused as the
    request's fault before execution, not answered as the server's."""
    response = api.client.post(
        "/graphql/", json.dumps(body), content_type=JSON, HTTP_AUTHORIZATION=f"Bearer {key}"
    )
    assert response.status_code == 400
    assert response.json() == {
        "errors": [{"message": message, "extensions": {"code": "BAD_REQUEST"}}]
    }
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]


# A database that does not answer.


def database_down(monkeypatch) -> None:
    """Every new cursor fails as the driver fails when the server is gone (Django wraps the
    driver's error into django.db.OperationalError, with no SQLSTATE: as a refused or dropped
    connection)."""

    def create_cursor(name=None):
        raise connection.Database.OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(connection, "create_cursor", create_cursor)


def assert_service_unavailable(response, caplog, accept=JSON) -> None:
    assert response.status_code == 503
    assert response["Content-Type"] == accept
    body = response.json()
    assert "data" not in body
    [error] = body["errors"]
    assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    assert error["message"] == api_errors.UNAVAILABLE_MESSAGE
    assert "server closed" not in response.content.decode()
    record = the_logged_error(caplog, error["extensions"]["error_id"])
    assert record.levelno == logging.ERROR
    assert record.exc_info[0] is OperationalError


@pytest.mark.parametrize("accept", [JSON, GRAPHQL_JSON])
def test_with_the_database_down_a_keyed_request_is_json_503(api, key, monkeypatch, caplog, accept):
    database_down(monkeypatch)  # the API key's look-up is the first query
    response = api.client.post(
        "/graphql/",
        json.dumps({"query": COUNT}),
        content_type=JSON,
        HTTP_AUTHORIZATION=f"Bearer {key}",
        HTTP_ACCEPT=accept,
    )
    assert_service_unavailable(response, caplog, accept)


def test_with_the_database_down_a_signed_in_session_is_json_503(
    client, manager, monkeypatch, caplog
):
    client.force_login(manager)
    database_down(monkeypatch)  # the session's look-up fails
    response = client.post("/graphql/", json.dumps({"query": COUNT}), content_type=JSON)
    assert_service_unavailable(response, caplog)


def test_a_resolver_whose_database_goes_away_makes_the_request_503(api, key, monkeypatch, caplog):
    """The key was read; then the connection drops while a field runs: not a field error with
    a partial answer, but a 503 the client retries."""
    post(api, key, "{ __typename }")  # the key is valid: the next request reaches the resolver
    original = connection.create_cursor
    calls = {"n": 0}

    def drops_after_the_key(name=None):
        calls["n"] += 1
        if calls["n"] > 1:  # the key's look-up passes, the resolver's query fails
            raise connection.Database.OperationalError("server closed the connection")
        return original(name)

    monkeypatch.setattr(connection, "create_cursor", drops_after_the_key)
    response = api.client.post(
        "/graphql/",
        json.dumps({"query": COUNT}),
        content_type=JSON,
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    assert calls["n"] >= 2
    assert_service_unavailable(response, caplog)


class DriverError(Exception):
    """A driver error with the SQLSTATE psycopg's errors carry."""

    def __init__(self, sqlstate: str | None) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


def wrapped(error_class, sqlstate):
    error = error_class("wrapped")
    error.__cause__ = DriverError(sqlstate)
    return error


@pytest.mark.parametrize(
    ("error", "unavailable"),
    [
        (wrapped(OperationalError, None), True),  # connection refused, dropped: no SQLSTATE
        (wrapped(OperationalError, "08006"), True),  # connection_failure
        (wrapped(OperationalError, "57P01"), True),  # admin_shutdown
        (wrapped(OperationalError, "57P03"), True),  # cannot_connect_now (starting up)
        (wrapped(OperationalError, "53300"), True),  # too_many_connections
        (wrapped(InterfaceError, None), True),  # connection already closed
        (wrapped(OperationalError, "57014"), False),  # query_canceled: QUERY_TIMEOUT
        (wrapped(OperationalError, "40P01"), False),  # deadlock_detected (retried)
        (wrapped(OperationalError, "40001"), False),  # serialization_failure (retried)
        (wrapped(OperationalError, "55P03"), False),  # lock_not_available
        (RuntimeError("not a database error"), False),
        (None, False),
    ],
    ids=lambda value: repr(value)[:40] if not isinstance(value, bool) else str(value),
)
def test_only_a_database_that_cannot_serve_is_an_outage(error, unavailable):
    assert is_database_unavailable(error) is unavailable


def test_a_statement_the_database_refused_is_not_503(api, key, monkeypatch, caplog):
    """A lock timeout (55P03) is a failure of this request, not an outage: 200 with the field's
    INTERNAL_SERVER_ERROR, logged."""

    def lock_timeout(*args, **kwargs):
        raise wrapped(OperationalError, "55P03")

    monkeypatch.setattr("enrollments.graphql.queries.KeysetPage", lock_timeout)
    body = post(api, key, COUNT)
    assert api.last_response.status_code == 200
    assert error_codes(body) == ["INTERNAL_SERVER_ERROR"]
    the_logged_error(caplog, body["errors"][0]["extensions"]["error_id"])


# The same on a real PostgreSQL server: refused connections and a backend killed mid-request.


def a_closed_port() -> int:
    """A TCP port on 127.0.0.1 where nothing listens (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_postgresql_refusing_connections_is_json_503(api, key, caplog):
    settings_dict = connection.settings_dict
    host, port = settings_dict["HOST"], settings_dict["PORT"]
    connection.close()
    settings_dict["HOST"], settings_dict["PORT"] = "127.0.0.1", a_closed_port()
    try:
        response = api.client.post(
            "/graphql/",
            json.dumps({"query": COUNT}),
            content_type=JSON,
            HTTP_AUTHORIZATION=f"Bearer {key}",
        )
    finally:
        connection.close()
        settings_dict["HOST"], settings_dict["PORT"] = host, port
    assert response.status_code == 503
    body = response.json()
    assert error_codes(body) == ["SERVICE_UNAVAILABLE"]
    assert "refused" not in response.content.decode()
    record = the_logged_error(caplog, body["errors"][0]["extensions"]["error_id"])
    assert record.exc_info[0] is OperationalError
    assert post(api, key, "{ __typename }") == {"data": {"__typename": "Query"}}  # back


@requires_postgres
@pytest.mark.django_db(transaction=True, databases="__all__")
def test_a_postgresql_backend_killed_while_a_field_runs_is_json_503(api, key, monkeypatch, caplog):
    """pg_terminate_backend on the connection the resolver reads through, once the request's
    key was read: the resolver's query fails on a connection the server closed."""
    import psycopg

    from enrollments.graphql import queries

    original = queries.KeysetPage

    def killed_first(*args, **kwargs):
        reads = connections[router.db_for_read(Enrollment)]
        reads.ensure_connection()
        pid = reads.connection.info.backend_pid
        params = reads.get_connection_params()
        params.pop("options", None)  # the reads' statement timeout, if any: not needed here
        with psycopg.connect(**params, autocommit=True) as other:
            other.execute("SELECT pg_terminate_backend(%s)", [pid])
        return original(*args, **kwargs)

    monkeypatch.setattr(queries, "KeysetPage", killed_first)
    response = api.client.post(
        "/graphql/",
        json.dumps({"query": COUNT}),
        content_type=JSON,
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    assert response.status_code == 503, response.content
    assert error_codes(response.json()) == ["SERVICE_UNAVAILABLE"]
    monkeypatch.setattr(queries, "KeysetPage", original)
    # What Django does between two requests (the test client does not): a connection that
    # failed is closed, so the next request connects again.
    close_old_connections()
    assert error_codes(post(api, key, COUNT)) == []
