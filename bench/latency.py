"""Measurements 1-3: one client, one request at a time, through gunicorn on 127.0.0.1.

SQL queries per request are counted in this process with Django's test client (the same view,
middleware and code path, minus the socket) under CaptureQueriesContext, since a server's
queries cannot be seen from outside it.
"""

import json
import time
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
from django.db import connections
from django.test import Client
from django.test.utils import CaptureQueriesContext

from bench import peers
from bench.documents import BASELINE_PATH, EXTEND_ACCESS, MEMBERSHIP_PAGE
from bench.fixtures import ExtensionTarget
from bench.timing import Summary
from enrollments.models import Enrollment

PAGE_SIZE = 100


class BadResponse(Exception):
    """A measured request did not return what it should: the figures would be meaningless."""


@dataclass(frozen=True, slots=True)
class Request:
    """One measured request: how to send it over HTTP and through the test client.

    `peer` names the bench.peers module serving it (None: the API or the baseline); `rows`, how
    many rows its answer must hold (None: a count, no rows)."""

    name: str
    method: str
    path: str
    body: dict | None = None
    params: dict | None = None
    peer: str | None = None
    rows: int | None = PAGE_SIZE
    #: Sent with the API key (the API's requests; the baseline and the peers have no auth).
    authenticated: bool = True
    #: Another API key than the session's (a course staff member's page: bench/scope.py).
    key: str | None = None


def graphql(name: str, query: str, variables: dict) -> Request:
    return Request(name, "POST", "/graphql/", body={"query": query, "variables": variables})


def page_request(name: str, *, after: str | None, first: int = PAGE_SIZE) -> Request:
    return graphql(name, MEMBERSHIP_PAGE, {"first": first, "after": after})


def status_page_request(name: str, *, status: str, rows: int = PAGE_SIZE) -> Request:
    """The page of 100 with every field, filtered by course_status (`rows`: fewer when a small
    data set has fewer with that status)."""
    query = MEMBERSHIP_PAGE.replace(
        "$user_id: ID)", "$user_id: ID, $course_status: String)"
    ).replace("user_id: $user_id)", "user_id: $user_id, course_status: $course_status)")
    request = graphql(name, query, {"first": PAGE_SIZE, "course_status": status})
    return Request(request.name, request.method, request.path, body=request.body, rows=rows)


def status_count_request(name: str, *, status: str) -> Request:
    """`total_count` of the memberships with that course_status (no rows)."""
    query = (
        "query StatusCount($course_status: String) { courseMemberships(first: 1, "
        "course_status: $course_status) { total_count } }"
    )
    request = graphql(name, query, {"course_status": status})
    return Request(request.name, request.method, request.path, body=request.body, rows=None)


def baseline_request(name: str, *, after: str | None) -> Request:
    params = {"first": PAGE_SIZE} | ({"after": after} if after else {})
    return Request(name, "GET", BASELINE_PATH, params=params, authenticated=False)


def peer_request(name: str, peer: str, *, offset: int | None) -> Request:
    """The page of 100 from a peer (bench.peers), `offset` rows deep (None: the first page)."""
    module = peers.available()[peer]
    body = {"query": module.DOCUMENT, "variables": module.variables(offset=offset, first=PAGE_SIZE)}
    return Request(name, "POST", module.PATH, body=body, peer=peer, authenticated=False)


def extend_request(target: ExtensionTarget, days: int = 1) -> Request:
    return graphql(
        "extendStudentCourseAccess",
        EXTEND_ACCESS,
        {"userId": target.user_id, "courseId": target.course_id, "days": days},
    )


def _check(request: Request, status: int, payload: dict) -> dict:
    if status != 200:
        raise BadResponse(f"{request.name}: HTTP {status}: {str(payload)[:500]}")
    if payload.get("errors"):
        raise BadResponse(f"{request.name}: {payload['errors']}")
    return payload


def rows_of(request: Request, payload: dict) -> list[dict]:
    if request.path == BASELINE_PATH:
        return payload["memberships"]
    if request.peer is not None:
        return peers.available()[request.peer].rows(payload)
    if request.rows is None:
        return []
    return [edge["node"] for edge in payload["data"]["courseMemberships"]["edges"]]


def row_ids(request: Request, payload: dict) -> list[str]:
    """The enrollment ids of the rows of an answer, whoever served it."""
    found = rows_of(request, payload)
    if request.peer is not None:
        return [peers.available()[request.peer].row_id(row) for row in found]
    return [str(row["id"]) for row in found]


class HttpSession:
    """Timed requests to the server, with the API key on GraphQL requests."""

    def __init__(self, base_url: str, api_key: str) -> None:
        self._client = httpx.Client(base_url=base_url, timeout=240)
        self._headers = {"Authorization": f"Bearer {api_key}"}

    def send(self, request: Request) -> tuple[float, dict]:
        """(seconds from sending to the whole body read, parsed JSON) of one request."""
        started = time.perf_counter()
        headers = self._headers if request.authenticated else {}
        if request.key is not None:
            headers = {"Authorization": f"Bearer {request.key}"}
        if request.method == "POST":
            response = self._client.post(request.path, json=request.body, headers=headers)
        else:
            response = self._client.get(request.path, params=request.params)
        response.read()
        elapsed = time.perf_counter() - started
        return elapsed, _check(request, response.status_code, response.json())

    def close(self) -> None:
        self._client.close()


def count_queries(api_key: str, request: Request, *, repeat: int = 2) -> tuple[int, dict]:
    """SQL queries of `request`, run in-process through the test client; the last of `repeat`
    runs (the first may include the throttled `last_used_at` write of the API key)."""
    api_key = request.key or api_key
    client = Client(HTTP_AUTHORIZATION=f"Bearer {api_key}") if request.authenticated else Client()
    for _ in range(repeat):
        # Every alias: a query's reads run on the API's own connection (api_reads, with the
        # statement timeout), the key's look-up on default.
        with ExitStack() as stack:
            captured = [
                stack.enter_context(CaptureQueriesContext(connections[alias]))
                for alias in connections
            ]
            if request.method == "POST":
                response = client.post(
                    request.path, data=json.dumps(request.body), content_type="application/json"
                )
            else:
                response = client.get(request.path, request.params)
        payload = _check(request, response.status_code, json.loads(response.content))
    statements = [query["sql"] for capture in captured for query in capture.captured_queries]
    if request.peer is not None:  # not the peer's: bench.peers.common.bounded's own
        statements = [sql for sql in statements if not _timeout_wrapper(sql)]
    return len(statements), payload


def _timeout_wrapper(sql: str) -> bool:
    return "statement_timeout" in sql or sql in ("BEGIN", "COMMIT")


def interleaved(
    session: HttpSession,
    requests: list[Request],
    *,
    rounds: int,
    warmup: int,
    answers: dict[str, dict] | None = None,
) -> dict[str, Summary]:
    """Sends the requests in turn, `rounds` times after `warmup` unmeasured rounds: noise from
    the rest of the machine falls on all of them alike. The last answer of each request is put
    in `answers` (when given), for checking what was served."""
    samples: dict[str, list[float]] = {request.name: [] for request in requests}
    for round_number in range(warmup + rounds):
        for request in requests:
            elapsed, payload = session.send(request)
            if answers is not None:
                answers[request.name] = payload
            if request.rows is not None and len(rows_of(request, payload)) != request.rows:
                raise BadResponse(f"{request.name}: not a full page of {request.rows}")
            if round_number >= warmup:
                samples[request.name].append(elapsed)
    return {name: Summary.of(values) for name, values in samples.items()}


def extension_latency(
    session: HttpSession, targets: list[ExtensionTarget], *, warmup: int
) -> tuple[Summary, int]:
    """extendStudentCourseAccess by one day, once per target (the first `warmup` unmeasured).
    Checks each answer: the new end is the old one plus a day. Returns (summary, successes)."""
    samples = []
    for index, target in enumerate(targets):
        before = _ended_at(target)
        elapsed, payload = session.send(extend_request(target))
        ended_at = payload["data"]["extendStudentCourseAccess"]["enrollment"]["endedAt"]
        expected = int((before + timedelta(days=1)).timestamp())
        if ended_at != expected:
            raise BadResponse(f"extension of {target.enrollment_id}: {ended_at} != {expected}")
        if index >= warmup:
            samples.append(elapsed)
    return Summary.of(samples), len(targets)


def _ended_at(target: ExtensionTarget) -> datetime:
    value = Enrollment.objects.values_list("ended_at", flat=True).get(pk=target.enrollment_id)
    return value.astimezone(UTC)
