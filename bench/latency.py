"""Measurements 1-3: one client, one request at a time, through gunicorn on 127.0.0.1.

SQL queries per request are counted in this process with Django's test client (the same view,
middleware and code path, minus the socket) under CaptureQueriesContext, since a server's
queries cannot be seen from outside it.
"""

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from bench.documents import EXTEND_ACCESS, MEMBERSHIP_PAGE
from bench.fixtures import Target
from bench.timing import Summary
from enrollments.models import Enrollment

PAGE_SIZE = 100
BASELINE_PATH = "/bench/memberships/"


class BadResponse(Exception):
    """A measured request did not return what it should: the figures would be meaningless."""


@dataclass(frozen=True, slots=True)
class Request:
    """One measured request: how to send it over HTTP and through the test client."""

    name: str
    method: str
    path: str
    body: dict | None = None
    params: dict | None = None


def graphql(name: str, query: str, variables: dict) -> Request:
    return Request(name, "POST", "/graphql/", body={"query": query, "variables": variables})


def page_request(name: str, *, after: str | None, first: int = PAGE_SIZE) -> Request:
    return graphql(name, MEMBERSHIP_PAGE, {"first": first, "after": after})


def baseline_request(name: str, *, after: str | None) -> Request:
    params = {"first": PAGE_SIZE} | ({"after": after} if after else {})
    return Request(name, "GET", BASELINE_PATH, params=params)


def extend_request(target: Target, days: int = 1) -> Request:
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
    return [edge["node"] for edge in payload["data"]["courseMemberships"]["edges"]]


class HttpSession:
    """Timed requests to the server, with the API key on GraphQL requests."""

    def __init__(self, base_url: str, api_key: str) -> None:
        self._client = httpx.Client(base_url=base_url, timeout=120)
        self._headers = {"Authorization": f"Bearer {api_key}"}

    def send(self, request: Request) -> tuple[float, dict]:
        """(seconds from sending to the whole body read, parsed JSON) of one request."""
        started = time.perf_counter()
        if request.method == "POST":
            response = self._client.post(request.path, json=request.body, headers=self._headers)
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
    client = Client(HTTP_AUTHORIZATION=f"Bearer {api_key}")
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as captured:
            if request.method == "POST":
                response = client.post(
                    request.path, data=json.dumps(request.body), content_type="application/json"
                )
            else:
                response = client.get(request.path, request.params)
        payload = _check(request, response.status_code, json.loads(response.content))
    return len(captured.captured_queries), payload


def interleaved(
    session: HttpSession, requests: list[Request], *, rounds: int, warmup: int
) -> dict[str, Summary]:
    """Sends the requests in turn, `rounds` times after `warmup` unmeasured rounds: noise from
    the rest of the machine falls on all of them alike."""
    samples: dict[str, list[float]] = {request.name: [] for request in requests}
    for round_number in range(warmup + rounds):
        for request in requests:
            elapsed, payload = session.send(request)
            if len(rows_of(request, payload)) != PAGE_SIZE:
                raise BadResponse(f"{request.name}: not a full page of {PAGE_SIZE}")
            if round_number >= warmup:
                samples[request.name].append(elapsed)
    return {name: Summary.of(values) for name, values in samples.items()}


def extension_latency(
    session: HttpSession, targets: list[Target], *, warmup: int
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


def _ended_at(target: Target) -> datetime:
    value = Enrollment.objects.values_list("ended_at", flat=True).get(pk=target.enrollment_id)
    return value.astimezone(UTC)
