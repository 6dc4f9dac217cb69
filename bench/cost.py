"""Measurement 6: the heaviest documents the cost model admits, and the one it must refuse.

Issue 21's audit sent 222 characters of nested lists from a learner's key (`courseMembership {
course { course_items { course { course_items { ... } } } } }`): 20 s and 217 MB at 300,000
enrollments. The cost model (enrollments/graphql/cost.py) now prices every list by the most items
it can hold; what it admits must still answer quickly. Each document below is built to sit near
the budget along one axis the model prices: a `fetch_all` of a course (1,000 rows) with every
field, a page of 100 with every field and each course's items, two levels of a course's items
on a course holding the most items a course may (MAX_COURSE_ITEMS: the data set's courses hold
fewer, so one such course is added for the measurement and removed after), fifteen aliased
counts, and three counts filtered by course_status. Each is priced in-process (the model's own
figure, with its variables), checked admitted, then timed through gunicorn like the pages; the
heaviest is the slowest. The audit's document, on the same course, is checked refused, and the
time to refuse it is timed too.
"""

import json
import time
from dataclasses import asdict
from datetime import UTC, datetime

from graphql import parse

from bench import latency
from bench.timing import Summary
from config.schema import schema
from enrollments.graphql.cost import price
from enrollments.graphql.limits import limits
from enrollments.graphql.queries import FETCH_ALL_MAX
from enrollments.models import Enrollment
from lms.models import Course, CourseItem

COST_COURSE_SLUG = "bench-cost-course"

#: Every CourseMembership field, with the nested course, user and next items.
MEMBERSHIP_FIELDS = """
  id cursor course_id user_id course_status created_at updated_at start_at paused_at is_paused
  total_paused_duration ended_at access_state has_access completion_rate
  course { id slug title name description access_days pause_freezes_access created_at updated_at }
  user { id email name first_name last_name full_name }
  next_incomplete_item { id course_id title kind position name item_type }
  next_next_incomplete_item { id course_id title kind position name item_type }
"""

ITEM_FIELDS = "id title kind position name item_type created_at updated_at"

DOCUMENTS = {
    "fetch_all_every_field": (
        "query ($course_id: ID) { courseMemberships(course_id: $course_id, fetch_all: true) {"
        f" total_count nodes {{ {MEMBERSHIP_FIELDS} }} }} }}"
    ),
    "page_of_50_with_course_items": (
        "query { courseMemberships(first: 50) { total_count"
        " page_info { has_next_page end_cursor } edges { cursor node {"
        f" {MEMBERSHIP_FIELDS} course {{ course_items {{ id title kind position name }} }}"
        " } } } }"
    ),
    # Two levels of a course's items are 10,000 item objects: admitted with one field on the
    # innermost items (COST_OBJECT_VALUES), refused with two.
    "two_levels_of_course_items": (
        "query ($id: ID) { courseMembership(id: $id) { id course { course_items {"
        " id title course { course_items { id } } } } } }"
    ),
    "fifteen_aliased_counts": (
        "query { "
        + " ".join(f"c{n}: courseMemberships {{ total_count }}" for n in range(15))
        + " }"
    ),
    "three_counts_by_course_status": (
        "query { "
        + " ".join(
            f'{status}: courseMemberships(course_status: "{status}") {{ total_count }}'
            for status in ("not_started", "in_progress", "completed")
        )
        + " }"
    ),
}

#: The audit's document (issue 21), three levels of a course's items.
REFUSED = (
    "query ($id: ID) { courseMembership(id: $id) { course { course_items { course {"
    " course_items { course { course_items { id name title description } } } } } } } }"
)


def _cost_course() -> Enrollment:
    """A course holding MAX_COURSE_ITEMS items, with one membership (the bench key sees it)."""
    most = limits().max_course_items
    course, _ = Course.objects.get_or_create(
        slug=COST_COURSE_SLUG, defaults={"title": "Benchmark: a course of the most items"}
    )
    CourseItem.objects.filter(course=course).delete()
    CourseItem.objects.bulk_create(
        CourseItem(course=course, title=f"Item {n}", position=n) for n in range(1, most + 1)
    )
    from bench.fixtures import bench_user

    enrollment, _ = Enrollment.objects.get_or_create(
        course=course, user=bench_user(), defaults={"start_at": datetime.now(UTC)}
    )
    return enrollment


def _remove_cost_course() -> None:
    Enrollment.objects.filter(course__slug=COST_COURSE_SLUG).delete()
    Course.objects.filter(slug=COST_COURSE_SLUG).delete()


def _fetch_all_course() -> str:
    """The course with the most memberships that fetch_all still answers (at most 1,000)."""
    from django.db.models import Count

    counted = (
        Enrollment.objects.filter(removed_at__isnull=True)
        .values("course_id")
        .annotate(rows=Count("id"))
        .filter(rows__lte=FETCH_ALL_MAX)
        .order_by("-rows")
    )
    return str(counted[0]["course_id"])


def _values(answer: object) -> int:
    """Scalars of an answer (its size in values, as the model counts them, roughly)."""
    if isinstance(answer, dict):
        return sum(_values(value) for value in answer.values())
    if isinstance(answer, list):
        return sum(_values(value) for value in answer)
    return 1


def run(session: latency.HttpSession, *, rounds: int, warmup: int) -> dict:
    """Prices, checks and times DOCUMENTS and REFUSED; returns the figures."""
    enrollment = _cost_course()
    try:
        variables = {
            "fetch_all_every_field": {"course_id": _fetch_all_course()},
            "two_levels_of_course_items": {"id": str(enrollment.pk)},
        }
        weights = limits()
        graphql_schema = schema.graphql_schema
        requests, figures = [], {}
        for name, document in DOCUMENTS.items():
            given = variables.get(name, {})
            cost = price(parse(document), weights, schema=graphql_schema, variables=given)
            if cost.points > weights.max_cost:
                raise latency.BadResponse(f"{name} costs {cost.points}: the model refuses it")
            request = latency.graphql(name, document, given)
            requests.append(
                latency.Request(request.name, request.method, request.path, request.body, rows=None)
            )
            figures[name] = {"cost": cost.points}
        answers: dict[str, dict] = {}
        summaries = latency.interleaved(
            session, requests, rounds=rounds, warmup=warmup, answers=answers
        )
        for name, summary in summaries.items():
            figures[name] |= {
                "latency": asdict(summary),
                "values": _values(answers[name]["data"]),
                "bytes": len(json.dumps(answers[name])),
            }
        heaviest = max(figures, key=lambda name: figures[name]["latency"]["median_ms"])
        refused = _refusal(session, {"id": str(enrollment.pk)}, rounds=rounds)
    finally:
        _remove_cost_course()
    return {
        "budget": weights.max_cost,
        "max_course_items": weights.max_course_items,
        "documents": figures,
        "heaviest": heaviest,
        "heaviest_median_ms": figures[heaviest]["latency"]["median_ms"],
        "refused": refused,
    }


def _refusal(session: latency.HttpSession, variables: dict, *, rounds: int) -> dict:
    """The audit's document: its price, whether every answer refused it with QUERY_TOO_COSTLY,
    and the time to refuse it."""
    cost = price(parse(REFUSED), limits(), schema=schema.graphql_schema, variables=variables)
    request = latency.graphql("nested_lists", REFUSED, variables)
    samples, refused = [], True
    for _ in range(rounds):
        started = time.perf_counter()
        try:
            session.send(request)
            refused = False
        except latency.BadResponse as refusal:  # an answer with errors: the expected one?
            refused = refused and "QUERY_TOO_COSTLY" in str(refusal)
        samples.append(time.perf_counter() - started)
    return {"cost": cost.points, "refused": refused, "latency": asdict(Summary.of(samples))}
