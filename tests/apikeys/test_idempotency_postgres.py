"""Idempotency-Key under real concurrency and a real connection drop (PostgreSQL).

- Two requests with one key at once (real threads, one connection each): the second is refused
  with 409 while the first runs, never applied twice.
- The audit's finding, over HTTP to a real server on 127.0.0.1 (pytest-django's live server):
  the database connection drops right after the commit. Without a key the client is told of an
  error although the extension committed; with a key the first answer is an error too, and the
  retry with the key answers the committed outcome and applies nothing again.

The drop is made deterministic with Django's on_commit hook (registered by a wrapper around the
core's audit-row writer, so inside the mutation's transaction): once the transaction has
committed, the hook terminates the server's own backend from another connection
(pg_terminate_backend) and uses the connection, which fails as the next statement of a request
whose connection dropped does.
"""

import json
import threading
import time
from datetime import timedelta

import httpx
import psycopg
import pytest
from django.db import connection, transaction
from django.test import Client

from apikeys.models import IdempotencyKey
from enrollments.models import AccessChange
from enrollments.operations import core
from tests.factories import EnrollmentFactory
from tests.graphql import conftest as graphql
from tests.markers import requires_postgres

make_key, manager = graphql.make_key, graphql.manager  # the API tests' fixtures

pytestmark = [requires_postgres, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

EXTEND = """mutation ($u: String!, $c: String!) {
  extendStudentCourseAccess(userId: $u, courseId: $c, extensionDays: 30) {
    enrollment { endedAt }
    errors { code }
  }
}"""


@pytest.fixture(autouse=True)
def no_rate_limit(settings):
    settings.RATE_LIMIT = {**settings.RATE_LIMIT, "ENABLED": False}


def body(enrollment) -> str:
    return json.dumps(
        {
            "query": EXTEND,
            "variables": {"u": str(enrollment.user_id), "c": str(enrollment.course_id)},
        }
    )


def other_connection() -> psycopg.Connection:
    """A connection of its own to the test database (not Django's: another thread's)."""
    params = connection.settings_dict
    return psycopg.connect(
        dbname=params["NAME"],
        host=params["HOST"] or None,
        port=params["PORT"] or None,
        user=params["USER"] or None,
        autocommit=False,
    )


def test_a_duplicate_while_the_first_is_in_flight_is_refused_with_409(make_key, manager):
    key = make_key(manager)
    enrollment = EnrollmentFactory()
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}", "HTTP_IDEMPOTENCY_KEY": "in-flight"}
    answers = {}

    def first():
        answers["first"] = Client().post(
            "/graphql/", body(enrollment), content_type="application/json", **headers
        )
        connection.close()

    # Hold the enrollment's row lock, so that the first request waits inside its transaction.
    blocker = other_connection()
    blocker.execute(
        "SELECT 1 FROM enrollments_enrollment WHERE id = %s FOR UPDATE", [enrollment.pk]
    )
    thread = threading.Thread(target=first)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not IdempotencyKey.objects.filter(key="in-flight").exists():
            assert time.monotonic() < deadline, "the first request never reserved its key"
            time.sleep(0.02)
        duplicate = Client().post(
            "/graphql/", body(enrollment), content_type="application/json", **headers
        )
    finally:
        blocker.rollback()
        blocker.close()
        thread.join(30)

    assert duplicate.status_code == 409
    assert duplicate.json()["errors"][0]["extensions"]["code"] == "IDEMPOTENCY_KEY_IN_USE"
    assert int(duplicate["Retry-After"]) >= 1
    assert answers["first"].status_code == 200
    assert answers["first"].json()["data"]["extendStudentCourseAccess"]["errors"] == []
    assert AccessChange.objects.filter(enrollment=enrollment).count() == 1
    replay = Client().post(
        "/graphql/", body(enrollment), content_type="application/json", **headers
    )
    assert replay.content == answers["first"].content
    assert replay["Idempotent-Replayed"] == "true"
    assert AccessChange.objects.filter(enrollment=enrollment).count() == 1


@pytest.fixture
def drop_after_commit(monkeypatch):
    """Makes the next mutation's connection drop once its transaction commits (see the module
    docstring)."""
    armed = {"drops": 1}
    save_audit_rows = core.save_audit_rows

    def drop() -> None:
        own = connection.cursor()
        own.execute("SELECT pg_backend_pid()")
        pid = own.fetchone()[0]
        with other_connection() as killer:
            killer.execute("SELECT pg_terminate_backend(%s)", [pid])
            killer.commit()
        connection.cursor().execute("SELECT 1")  # the dropped connection's next statement

    def saving_and_arming(rows):
        save_audit_rows(rows)
        if armed["drops"]:
            armed["drops"] -= 1
            transaction.on_commit(drop)

    monkeypatch.setattr(core, "save_audit_rows", saving_and_arming)
    return armed


def post(live_server, key, enrollment, idempotency_key=None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    if idempotency_key is not None:
        headers["Idempotency-Key"] = idempotency_key
    return httpx.post(
        f"{live_server.url}/graphql/", content=body(enrollment), headers=headers, timeout=30
    )


def test_without_a_key_a_drop_after_the_commit_answers_an_error_for_a_committed_change(
    live_server, make_key, manager, drop_after_commit
):
    """The finding as the audit reproduced it: the client is told of a failure, the change is
    made, and its retry (no key) would make it again."""
    key = make_key(manager)
    enrollment = EnrollmentFactory()
    answer = post(live_server, key, enrollment)
    assert answer.json().get("errors"), answer.text
    assert AccessChange.objects.filter(enrollment=enrollment).count() == 1


def test_with_a_key_a_retry_after_a_drop_after_the_commit_answers_the_committed_outcome(
    live_server, make_key, manager, drop_after_commit
):
    key = make_key(manager)
    enrollment = EnrollmentFactory()
    before = enrollment.ended_at

    first = post(live_server, key, enrollment, "drop-1")
    assert first.status_code == 500
    assert first.json()["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert "same Idempotency-Key" in first.json()["errors"][0]["message"]
    assert drop_after_commit["drops"] == 0  # the drop happened
    enrollment.refresh_from_db()
    assert enrollment.ended_at == before + timedelta(days=30)  # committed all the same

    retry = post(live_server, key, enrollment, "drop-1")
    assert retry.status_code == 200
    assert retry.headers["Idempotent-Replayed"] == "true"
    payload = retry.json()["data"]["extendStudentCourseAccess"]
    assert payload["errors"] == []
    assert payload["enrollment"]["endedAt"] == int((before + timedelta(days=30)).timestamp())
    enrollment.refresh_from_db()
    assert enrollment.ended_at == before + timedelta(days=30)
    assert AccessChange.objects.filter(enrollment=enrollment).count() == 1


def test_with_a_key_a_drop_before_the_commit_applies_nothing_and_the_retry_applies_once(
    live_server, make_key, manager, monkeypatch
):
    """The other side of the same failure: the connection drops before the commit, so nothing
    is applied, the reservation is let go of, and the retry applies the change once."""
    key = make_key(manager)
    enrollment = EnrollmentFactory()
    save_audit_rows = core.save_audit_rows
    armed = {"drops": 1}

    def saving_then_dropping(rows):
        save_audit_rows(rows)
        if armed["drops"]:
            armed["drops"] -= 1
            own = connection.cursor()
            own.execute("SELECT pg_backend_pid()")
            pid = own.fetchone()[0]
            with other_connection() as killer:
                killer.execute("SELECT pg_terminate_backend(%s)", [pid])
                killer.commit()

    monkeypatch.setattr(core, "save_audit_rows", saving_then_dropping)
    first = post(live_server, key, enrollment, "drop-2")
    assert first.status_code >= 500 or first.json().get("errors"), first.text
    assert AccessChange.objects.filter(enrollment=enrollment).count() == 0

    retry = post(live_server, key, enrollment, "drop-2")
    assert retry.status_code == 200
    assert "Idempotent-Replayed" not in retry.headers
    assert retry.json()["data"]["extendStudentCourseAccess"]["errors"] == []
    assert AccessChange.objects.filter(enrollment=enrollment).count() == 1
