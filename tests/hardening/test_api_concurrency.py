"""Many API clients extending, pausing and resuming the same enrollment at once, through the
whole HTTP stack (PostgreSQL, real threads, one connection each): no lost update, no negative or
double-counted paused time, exactly one audit row per successful operation, and the audit rows
chain into the final state.

The core's clock advances one second at every reading, so that each pause lasts a while and
each audit row has its own instant: the rows' order is the order the row lock granted.
"""

import json
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test import Client

from enrollments import clock as clock_module
from enrollments.models import AccessChange, Enrollment
from tests.factories import CourseFactory, EnrollmentFactory
from tests.markers import requires_postgres

pytestmark = [requires_postgres, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

PER_KIND = 6
EXTEND = """mutation ($u: String!, $c: String!) {
  extendStudentCourseAccess(userId: $u, courseId: $c, extensionDays: 1) { enrollment { endedAt } }
}"""
PAUSE = "mutation ($id: ID!) { pauseCourseMembership(input: {id: $id}) { __typename } }"
RESUME = "mutation ($id: ID!) { resumeCourseMembership(input: {id: $id}) { __typename } }"


class TickingClock:
    """A clock one second later at every reading, safe across threads."""

    def __init__(self, start: datetime) -> None:
        self.current = start
        self.lock = threading.Lock()

    def __call__(self) -> datetime:
        with self.lock:
            self.current += timedelta(seconds=1)
            return self.current


@pytest.mark.parametrize("freezes", [True, False])
def test_concurrent_extend_pause_resume_through_the_api(
    monkeypatch, settings, make_key, manager, freezes
):
    settings.RATE_LIMIT = {**settings.RATE_LIMIT, "ENABLED": False}
    start = datetime(2026, 1, 1, tzinfo=UTC)
    monkeypatch.setattr(clock_module, "now", TickingClock(start))
    enrollment = EnrollmentFactory(
        course=CourseFactory(pause_freezes_access=freezes),
        start_at=start - timedelta(days=10),
        ended_at=start + timedelta(days=30),
    )
    original_end = enrollment.ended_at
    key = make_key(manager)
    kinds = ["extend", "pause", "resume"] * PER_KIND
    barrier = threading.Barrier(len(kinds))

    def call(kind: str) -> tuple[str, int, list[str]]:
        client = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
        document, variables = {
            "extend": (EXTEND, {"u": str(enrollment.user_id), "c": str(enrollment.course_id)}),
            "pause": (PAUSE, {"id": str(enrollment.pk)}),
            "resume": (RESUME, {"id": str(enrollment.pk)}),
        }[kind]
        try:
            barrier.wait(timeout=20)
            response = client.post(
                "/graphql/",
                json.dumps({"query": document, "variables": variables}),
                content_type="application/json",
            )
            body = response.json()
            codes = [e["extensions"]["code"] for e in body.get("errors", [])]
            return kind, response.status_code, codes
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(kinds)) as pool:
        results = list(pool.map(call, kinds))

    assert {status for _, status, _ in results} == {200}
    outcomes = Counter((kind, tuple(codes)) for kind, _, codes in results)
    allowed = {("extend", ()), ("pause", ()), ("resume", ())}
    allowed |= {("pause", ("ALREADY_PAUSED",)), ("resume", ("NOT_PAUSED",))}
    assert set(outcomes) <= allowed, outcomes
    assert outcomes[("extend", ())] == PER_KIND  # extensions never conflict: all count
    successes = sum(count for (_, codes), count in outcomes.items() if not codes)

    rows = list(AccessChange.objects.filter(enrollment=enrollment).order_by("created_at"))
    assert len(rows) == successes
    assert len({row.created_at for row in rows}) == len(rows)
    # The rows chain: each starts where the one before ended, from the original end to the
    # stored one. A lost update would break the chain.
    stored = Enrollment.objects.get(pk=enrollment.pk)
    ends = [original_end] + [row.new_ended_at for row in rows]
    assert [row.old_ended_at for row in rows] == ends[:-1]
    assert ends[-1] == stored.ended_at
    # Pauses and resumes alternate, starting with a pause: none applied twice.
    toggles = [row.action for row in rows if row.action in ("pause", "resume")]
    assert toggles == ["pause", "resume"] * (len(toggles) // 2) + ["pause"] * (len(toggles) % 2)
    assert stored.is_paused == (len(toggles) % 2 == 1) == (stored.paused_at is not None)
    # Paused time: each resume's seconds are its pause's duration, summed once.
    paused = [row.paused_seconds for row in rows if row.action == "resume"]
    assert all(seconds > 0 for seconds in paused)
    assert stored.total_paused_duration == sum(paused)
    frozen = sum(paused) if freezes else 0
    assert stored.ended_at == original_end + timedelta(days=PER_KIND, seconds=frozen)
    assert all(row.source == "graphql" and row.actor_id == manager.pk for row in rows)
