"""The multi-host picture of docs/deploy.md, on one machine: two gunicorn instances on different
ports, sharing one PostgreSQL database and one Redis, with DEBUG off.

- The rate limit is one budget across both: a key's queries sent to both servers at once are
  answered 200 exactly as many times as the budget allows, the rest 429.
- Concurrent extensions through both lose nothing: N one-day extensions of one enrollment, sent
  at the same moment and split between the servers, add N days and write N audit rows.
- An automatic persisted query registered through one is answered by the other (Redis).

Needs PostgreSQL (the servers use the test database, so the data is committed: transaction=True)
and Redis on 127.0.0.1:6379 (database 13, a key prefix of the test's own, deleted afterwards).
"""

import hashlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx
import pytest

from enrollments import clock
from enrollments.models import AccessChange, Enrollment
from tests.factories import EnrollmentFactory
from tests.hardening.conftest import REDIS_URL, redis_client
from tests.markers import requires_postgres
from tests.subprocesses import ROOT, database_url

pytestmark = [requires_postgres, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

QUERY_BUDGET = 10
EACH = 8  # queries per server: 16 asked of a budget of 10
EXTENSIONS = 20  # one-day extensions, half through each server
EXTEND = """mutation ($u: String!, $c: String!) {
  extendStudentCourseAccess(userId: $u, courseId: $c, extensionDays: 1) { enrollment { endedAt } }
}"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def two_servers(redis_prefix):  # noqa: F811
    env = {
        **{k: v for k, v in os.environ.items() if k not in {"DJANGO_SETTINGS_MODULE"}},
        "DEBUG": "false",
        "SECRET_KEY": "two-servers-test-secret-key-of-fifty-or-more-characters-0123456789",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": database_url(),
        "CONN_MAX_AGE": "0",  # the test database is dropped at the end: hold no connection
        "CACHE_URL": REDIS_URL,
        "RATE_LIMIT_KEY_PREFIX": redis_prefix,
        "RATE_LIMIT_QUERIES": str(QUERY_BUDGET),
        "RATE_LIMIT_MUTATIONS": "1000",
        "RATE_LIMIT_WINDOW_SECONDS": "86400",  # one window for the whole test
    }
    ports = [_free_port(), _free_port()]
    servers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "2",
                "--threads",
                "4",
                "config.wsgi",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        for port in ports
    ]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        deadline = time.monotonic() + 60
        for url, server in zip(urls, servers, strict=True):
            while True:
                assert server.poll() is None, server.stderr.read()
                try:
                    if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, f"{url} did not start"
                time.sleep(0.3)
        yield urls
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=30)


def _post(url: str, key: str, query: str, variables: dict | None = None) -> httpx.Response:
    return httpx.post(
        f"{url}/graphql/",
        content=json.dumps({"query": query, "variables": variables or {}}),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        timeout=60,
    )


def _all_at_once(calls: list) -> list:
    barrier = threading.Barrier(len(calls))

    def run(call):
        barrier.wait(timeout=30)
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def test_the_rate_limit_is_one_budget_across_both_servers(two_servers, make_key, viewer):
    key = make_key(viewer)
    calls = [
        (lambda url=url: _post(url, key, "{ __typename }").status_code)
        for url in two_servers
        for _ in range(EACH)
    ]
    statuses = _all_at_once(calls)
    # Each server got fewer queries (8) than the budget (10): counting alone, neither would
    # refuse any. Together they allow exactly the budget.
    assert statuses.count(200) == QUERY_BUDGET
    assert statuses.count(429) == 2 * EACH - QUERY_BUDGET


def test_concurrent_extensions_through_both_servers_lose_nothing(two_servers, make_key, manager):
    now = clock.now()
    enrollment = EnrollmentFactory(
        start_at=now - timedelta(days=10), ended_at=now + timedelta(days=30)
    )
    original_end = enrollment.ended_at
    key = make_key(manager)
    variables = {"u": str(enrollment.user_id), "c": str(enrollment.course_id)}
    calls = [
        (lambda url=two_servers[n % 2]: _post(url, key, EXTEND, variables))
        for n in range(EXTENSIONS)
    ]
    responses = _all_at_once(calls)
    for response in responses:
        assert response.status_code == 200, response.text
        assert "errors" not in response.json(), response.text
    enrollment.refresh_from_db()
    assert enrollment.ended_at == original_end + timedelta(days=EXTENSIONS)
    changes = AccessChange.objects.filter(
        enrollment=enrollment, source=AccessChange.Source.GRAPHQL
    ).order_by("old_ended_at")
    assert changes.count() == EXTENSIONS
    # The audit rows chain: each starts where the previous one ended.
    ends = [(c.old_ended_at, c.new_ended_at) for c in changes]
    for (_, previous_new), (next_old, _) in zip(ends, ends[1:], strict=False):
        assert next_old == previous_new
    assert Enrollment.objects.filter(pk=enrollment.pk).count() == 1


def test_a_persisted_query_registered_on_one_server_is_answered_by_the_other(
    two_servers, make_key, viewer
):
    """Apollo's automatic persisted queries (enrollments/graphql/persisted.py) are stored in the
    shared cache: the text sent with its hash to one server, then the hash alone to the other
    (each with two worker processes), answered from Redis."""
    key = make_key(viewer)
    query = f"query Shared{uuid.uuid4().hex} {{ courseMemberships(first: 1) {{ total_count }} }}"
    sha256 = hashlib.sha256(query.encode()).hexdigest()
    extensions = {"persistedQuery": {"version": 1, "sha256Hash": sha256}}
    first, second = two_servers

    def send(url: str, body: dict) -> dict:
        return httpx.post(
            f"{url}/graphql/", json=body, headers={"Authorization": f"Bearer {key}"}, timeout=60
        ).json()

    try:
        assert send(second, {"extensions": extensions})["errors"][0]["extensions"] == {
            "code": "PERSISTED_QUERY_NOT_FOUND"
        }
        answer = {"data": {"courseMemberships": {"total_count": 0}}}
        assert send(first, {"query": query, "extensions": extensions}) == answer
        assert send(second, {"extensions": extensions}) == answer
    finally:
        client = redis_client()
        for stored in client.scan_iter(match=f"*apq:{sha256}"):
            client.delete(stored)
        client.close()
