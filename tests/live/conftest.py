"""A real HTTP server on 127.0.0.1 (pytest-django's live_server: a server thread on a free port)
and clients that talk to it the way each API's clients do: their own auth header and path.

- Healthie's clients: `POST /graphql` (no slash), `Authorization: Basic <key>` with
  `AuthorizationSource: API`;
- Teachify's: `X-Teachify-API-Key: <key>` (to this API's `/graphql/`);
- this API's own: `Authorization: Bearer <key>`.
"""

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from django.core.cache import caches
from django.utils import timezone

from apikeys.models import APIKey
from enrollments.models import Enrollment, ItemCompletion
from tests.factories import (
    CourseFactory,
    CourseItemFactory,
    StaffFactory,
    UserFactory,
    recount,
)
from tests.graphql.conftest import grant

#: The contract's example ids (003_*).
EXAMPLE_USER_ID = uuid.UUID("387b0c87-0f85-44cc-833e-7306c1b5d3e6")
EXAMPLE_COURSE_ID = uuid.UUID("9a1216f7-36de-4c50-8094-2ebfb7d3c383")
EXAMPLE_ENROLLMENT_ID = uuid.UUID("619ad939-8591-40ad-9364-cf3825a9bf70")


def healthie_headers(key: str) -> dict[str, str]:
    return {"Authorization": f"Basic {key}", "AuthorizationSource": "API"}


def teachify_headers(key: str) -> dict[str, str]:
    return {"X-Teachify-API-Key": key}


def bearer_headers(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


#: (name, headers for a key, path) of the three styles.
STYLES: dict[str, tuple[Callable[[str], dict[str, str]], str]] = {
    "healthie": (healthie_headers, "/graphql"),
    "teachify": (teachify_headers, "/graphql/"),
    "bearer": (bearer_headers, "/graphql/"),
}


@dataclass
class LiveApi:
    """Posts GraphQL over real HTTP to the live server."""

    http: httpx.Client

    def post(
        self,
        style: str,
        key: str,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        make_headers, path = STYLES[style]
        body: dict[str, Any] = {"query": query}
        if variables is not None:
            body["variables"] = variables
        return self.http.post(path, json=body, headers={**make_headers(key), **(headers or {})})


@pytest.fixture
def live_api(live_server) -> Iterator[LiveApi]:
    with httpx.Client(base_url=live_server.url, timeout=30, follow_redirects=False) as http:
        yield LiveApi(http)


@pytest.fixture
def fresh_rate_limits(settings):
    """Counters in a cache of this test's own (the live server runs in this process)."""
    settings.CACHES = {
        **settings.CACHES,
        "live-ratelimit": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"live-ratelimit-{uuid.uuid4()}",
        },
    }
    settings.RATE_LIMIT = {**settings.RATE_LIMIT, "CACHE": "live-ratelimit", "KEY_PREFIX": "live"}
    yield settings.RATE_LIMIT
    caches["live-ratelimit"].clear()


@dataclass
class School:
    """A course with three items, five learners with names, the contract's example learner."""

    key: str
    course: Any
    items: list
    example: Enrollment
    memberships: list[Enrollment]


@pytest.fixture
def school(transactional_db, fresh_rate_limits) -> School:
    manager = StaffFactory(first_name="Mia", last_name="Manager")
    grant(manager, "view", "extend", "pause")
    _api_key, raw_key = APIKey.objects.create_key(user=manager, name="live")
    course = CourseFactory(
        id=EXAMPLE_COURSE_ID, slug="course-slug", title="Example Course", description="About it"
    )
    items = [
        CourseItemFactory(course=course, title=f"Part {p}", position=p, kind=kind)
        for p, kind in ((1, "lesson"), (2, "quiz"), (3, "video"))
    ]
    now = timezone.now()
    student = UserFactory(id=EXAMPLE_USER_ID, first_name="Example", last_name="Student")
    example = Enrollment.objects.create(
        id=EXAMPLE_ENROLLMENT_ID,
        user=student,
        course=course,
        start_at=now - timedelta(days=10),
        ended_at=now + timedelta(days=30),
    )
    ItemCompletion.objects.create(enrollment=example, item=items[0], completed_at=now)
    recount(example)  # written directly: the stored progress as a completion keeps it
    memberships = [example]
    for n in range(4):
        learner = UserFactory(first_name=f"Learner{n}", last_name="Doe")
        memberships.append(
            Enrollment.objects.create(
                user=learner,
                course=course,
                start_at=now - timedelta(days=1),
                ended_at=now + timedelta(days=60),
            )
        )
    return School(raw_key, course, items, example, memberships)
