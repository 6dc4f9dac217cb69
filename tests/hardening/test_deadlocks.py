"""Two documents extending the same two enrollments in opposite order, at the same moment
(issue 14, finding 1). With one transaction per document (graphene's ATOMIC_MUTATIONS) each
document held its first row lock while waiting for its second: PostgreSQL aborted one of them
as a deadlock, an INTERNAL_SERVER_ERROR. Now each mutation runs in its own transactions and a
deadlock or serialization failure is retried (enrollments.retry).

The core's clock sleeps at every reading (they read it right after taking the lock), so both
documents hold their first lock before either asks for its second: the interleaving that used
to deadlock happens on every round, not by chance.
"""

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, transaction
from django.test import Client

from enrollments import clock as clock_module
from enrollments.models import AccessChange, Enrollment
from enrollments.retry import MAX_ATTEMPTS, retry_on_conflict
from tests.factories import EnrollmentFactory
from tests.markers import requires_postgres

pytestmark = [requires_postgres, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

START = datetime(2026, 1, 1, tzinfo=UTC)
ROUNDS = 3
EXTEND_TWO = """mutation ($u1: String!, $c1: String!, $u2: String!, $c2: String!) {
  first: extendStudentCourseAccess(userId: $u1, courseId: $c1, extensionDays: 1) {
    enrollment { endedAt } }
  second: extendStudentCourseAccess(userId: $u2, courseId: $c2, extensionDays: 1) {
    enrollment { endedAt } }
}"""


def slow_clock() -> datetime:
    time.sleep(0.15)
    return START


def _variables(first: Enrollment, second: Enrollment) -> dict[str, str]:
    return {
        "u1": str(first.user_id),
        "c1": str(first.course_id),
        "u2": str(second.user_id),
        "c2": str(second.course_id),
    }


def test_opposite_order_extensions_of_two_enrollments_all_succeed(
    monkeypatch, settings, make_key, manager
):
    settings.RATE_LIMIT = {**settings.RATE_LIMIT, "ENABLED": False}
    monkeypatch.setattr(clock_module, "now", slow_clock)
    a, b = (
        EnrollmentFactory(start_at=START - timedelta(days=1), ended_at=START + timedelta(days=30))
        for _ in range(2)
    )
    key = make_key(manager)
    orders = [_variables(a, b), _variables(b, a)]

    def send(variables: dict[str, str], barrier: threading.Barrier) -> dict:
        client = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
        try:
            barrier.wait(timeout=20)
            response = client.post(
                "/graphql/",
                json.dumps({"query": EXTEND_TWO, "variables": variables}),
                content_type="application/json",
            )
            return {"status": response.status_code, **response.json()}
        finally:
            connection.close()

    bodies = []
    for _ in range(ROUNDS):
        barrier = threading.Barrier(2)
        with ThreadPoolExecutor(2) as pool:
            bodies += list(pool.map(send, orders, [barrier, barrier]))

    assert [body.get("errors") for body in bodies] == [None] * (2 * ROUNDS)
    assert {body["status"] for body in bodies} == {200}
    for enrollment in (a, b):
        enrollment.refresh_from_db()
        assert enrollment.ended_at == START + timedelta(days=30 + 2 * ROUNDS)
        assert AccessChange.objects.filter(enrollment=enrollment).count() == 2 * ROUNDS


def _lock_both(first: int, second: int, barrier: threading.Barrier, attempts: list[int]) -> None:
    """Locks two enrollments in the given order; on the first attempt waits for the other
    thread to hold its first lock, so that the two deadlock."""
    attempts.append(1)
    with transaction.atomic():
        list(Enrollment.objects.select_for_update().filter(pk=first))
        if len(attempts) == 1:
            barrier.wait(timeout=20)
        list(Enrollment.objects.select_for_update().filter(pk=second))
        Enrollment.objects.filter(pk__in=[first, second]).update(updated_at=START)


def test_a_real_deadlock_is_retried_and_both_transactions_commit():
    a, b = EnrollmentFactory(), EnrollmentFactory()
    barrier = threading.Barrier(2)
    attempts: list[list[int]] = [[], []]

    def run(index: int) -> None:
        first, second = (a.pk, b.pk) if index == 0 else (b.pk, a.pk)
        try:
            retry_on_conflict(_lock_both)(first, second, barrier, attempts[index])
        finally:
            connection.close()

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(run, [0, 1]))  # re-raises if a thread failed

    assert sorted(len(made) for made in attempts) == [1, 2]  # PostgreSQL aborted one, once
    assert Enrollment.objects.filter(updated_at=START).count() == 2


def test_no_retry_inside_an_enclosing_atomic_block(monkeypatch):
    """The outer transaction is aborted with the inner one: only its owner can run it again."""
    a, b = EnrollmentFactory(), EnrollmentFactory()
    barrier = threading.Barrier(2)
    attempts: list[list[int]] = [[], []]
    outcomes: list[str] = ["", ""]

    def run(index: int) -> None:
        first, second = (a.pk, b.pk) if index == 0 else (b.pk, a.pk)
        try:
            with transaction.atomic():
                retry_on_conflict(_lock_both)(first, second, barrier, attempts[index])
            outcomes[index] = "committed"
        except Exception as error:
            outcomes[index] = type(error).__name__
        finally:
            connection.close()

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(run, [0, 1]))

    assert sorted(outcomes) == ["OperationalError", "committed"]
    assert [len(made) for made in attempts] == [1, 1]
    assert MAX_ATTEMPTS > 1
