"""Locust users of measurement 5, started by bench.load (not meant to be run by hand).

Each simulated client sends, with no think time, 90% membership pages (every contract field,
100 rows: after a random cursor, of a random course, of a random user) and 10%
extendStudentCourseAccess by one day on a random enrollment of a small pool, so that extensions
of the same row run concurrently. A request fails on a non-200 status, on any GraphQL error or
on an unexpected answer. Each successful extension's enrollment id is appended to the log
(BENCH_LOAD_LOG), which bench.load checks against the database afterwards.

ApiPagesClient and BaselinePagesClient send pages only, after a random cursor, to the API and
to the plain values() view: bench.load.compare measures one against the other.
"""

import json
import os
import random
from collections.abc import Callable
from pathlib import Path

from locust import FastHttpUser, constant, task

from bench.documents import BASELINE_PATH, EXTEND_ACCESS, MEMBERSHIP_PAGE

PLAN = json.loads(Path(os.environ["BENCH_LOAD_PLAN"]).read_text())
PAGE_SIZE = PLAN["page_size"]
_random = random.Random()  # noqa: S311 - picking requests, not secrets
_log = Path(os.environ["BENCH_LOAD_LOG"]).open("a", buffering=1)  # noqa: SIM115 - whole run


class ApiClient(FastHttpUser):
    wait_time = constant(0)
    # Extensions lock rows and wait for each other: allow for a slow answer under load.
    network_timeout = 120.0
    connection_timeout = 30.0

    def _graphql(
        self, name: str, query: str, variables: dict, check: Callable[[dict], str | None]
    ) -> dict | None:
        with self.client.post(
            "/graphql/",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {PLAN['api_key']}"},
            name=name,
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}: {(response.text or '')[:200]}")
                return None
            try:
                body = response.json()
            except ValueError:
                response.failure("not JSON")
                return None
            if body.get("errors") or not body.get("data"):
                response.failure(json.dumps(body.get("errors"))[:300])
                return None
            problem = check(body["data"])
            if problem:
                response.failure(problem)
                return None
            response.success()
            return body["data"]

    def _page(self, name: str, **variables) -> None:
        def check(data: dict) -> str | None:
            edges = data["courseMemberships"]["edges"]
            return None if len(edges) <= PAGE_SIZE else f"{len(edges)} rows"

        self._graphql(name, MEMBERSHIP_PAGE, {"first": PAGE_SIZE, **variables}, check)

    @task(30)
    def page_after_cursor(self) -> None:
        self._page("courseMemberships after a cursor", after=_random.choice(PLAN["cursors"]))

    @task(30)
    def page_of_course(self) -> None:
        self._page("courseMemberships of a course", course_id=_random.choice(PLAN["course_ids"]))

    @task(30)
    def page_of_user(self) -> None:
        self._page("courseMemberships of a user", user_id=_random.choice(PLAN["user_ids"]))

    @task(10)
    def extend(self) -> None:
        target = _random.choice(PLAN["targets"])

        def check(data: dict) -> str | None:
            enrollment = data["extendStudentCourseAccess"]["enrollment"]
            return None if enrollment["id"] == target["enrollment_id"] else "another enrollment"

        data = self._graphql(
            "extendStudentCourseAccess",
            EXTEND_ACCESS,
            {"userId": target["user_id"], "courseId": target["course_id"], "days": 1},
            check,
        )
        if data is not None:
            _log.write(f"{target['enrollment_id']}\n")


class ApiPagesClient(ApiClient):
    """Pages only (after a random cursor): the API's side of bench.load.compare."""

    tasks = [ApiClient.page_after_cursor]


class BaselinePagesClient(FastHttpUser):
    """The same pages from the plain values() view: the other side of bench.load.compare."""

    wait_time = constant(0)
    network_timeout = 120.0
    connection_timeout = 30.0

    @task
    def page_after_cursor(self) -> None:
        params = {"first": PAGE_SIZE, "after": _random.choice(PLAN["cursors"])}
        with self.client.get(
            BASELINE_PATH, params=params, name="baseline after a cursor", catch_response=True
        ) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")
                return
            rows = response.json().get("memberships")
            if rows is None or len(rows) > PAGE_SIZE:
                response.failure("unexpected answer")
                return
            response.success()
