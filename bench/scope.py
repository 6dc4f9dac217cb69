"""Issue 25's target: a course staff member's page of 100 costs what a global staff member's
does (within 1.1x, the same SQL statements), because their scope is one indexed condition.

The course staff member holds the staff role in the data set's largest course (its first page
is a full 100 rows, and it is the most a one-course scope has to sort through); the global
one is the benchmark's own client (bench.fixtures.bench_user). Both ask for the first page of
`courseMemberships` with every field (bench.documents.MEMBERSHIP_PAGE), and a page 100 rows
into the course (after a cursor); the requests are interleaved on one server so noise falls
on all alike.
"""

from dataclasses import asdict

from django.db.models import Count

from apikeys.models import APIKey
from bench import latency
from enrollments.graphql.pagination import encode_cursor
from enrollments.models import Enrollment
from lms.models import CourseRole, User

COURSE_STAFF_EMAIL = "bench-course-staff@example.com"


def course_staff_key() -> tuple[str, object]:
    """A fresh API key of the course staff member, staff of the largest course; (key, course id)."""
    course_id = (
        Enrollment.objects.values("course_id")
        .annotate(n=Count("id"))
        .order_by("-n", "course_id")
        .values_list("course_id", flat=True)
        .first()
    )
    user, _ = User.objects.get_or_create(
        email=COURSE_STAFF_EMAIL,
        defaults={"first_name": "Course", "last_name": "staff", "is_staff": True},
    )
    user.user_permissions.clear()
    CourseRole.objects.filter(user=user).delete()
    CourseRole.objects.create(user=user, course_id=course_id, role=CourseRole.Role.STAFF)
    APIKey.objects.filter(user=user).delete()
    return APIKey.objects.create_key(user=user, name="benchmark course staff")[1], course_id


def measure(api_key: str, base_url: str, *, requests: int, warmup: int) -> dict:
    staff_key, course_id = course_staff_key()
    course = Enrollment.objects.filter(course_id=course_id).order_by("created_at", "id")
    rows = course.count()
    global_first = latency.page_request("global_first", after=None)
    staff_first = _as(
        latency.page_request("course_staff_first", after=None),
        staff_key,
        rows=min(latency.PAGE_SIZE, rows),  # a smaller course (the smoke run's) is one page
    )
    # A page 100 rows in: the global one after the table's 100th row, the staff one after
    # their course's 100th (or its last when smaller).
    global_cursor = encode_cursor(Enrollment.objects.order_by("created_at", "id")[99])
    staff_cursor = encode_cursor(course[min(99, max(rows - 101, 0))])
    global_next = latency.page_request("global_second", after=global_cursor)
    staff_next = _as(
        latency.page_request("course_staff_second", after=staff_cursor), staff_key, rows=None
    )
    measured = [global_first, staff_first, global_next, staff_next]
    queries = {}
    payloads = {}
    for request in measured:
        queries[request.name], payloads[request.name] = latency.count_queries(api_key, request)
    staff_ids = latency.row_ids(staff_first, payloads["course_staff_first"])
    expected = [str(pk) for pk in course.values_list("id", flat=True)[: latency.PAGE_SIZE]]
    if staff_ids != expected:
        raise latency.BadResponse("the course staff page serves other rows than their course's")
    if queries["course_staff_first"] != queries["global_first"]:
        raise latency.BadResponse(f"a course staff page costs other statements: {queries}")
    session = latency.HttpSession(base_url, api_key)
    try:
        summaries = latency.interleaved(session, measured, rounds=requests, warmup=warmup)
    finally:
        session.close()
    median = {name: summary.median_ms for name, summary in summaries.items()}
    return {
        "course_rows": rows,
        "latency": {name: asdict(summary) for name, summary in summaries.items()},
        "queries": queries,
        "staff_over_global_first": round(median["course_staff_first"] / median["global_first"], 3),
        "staff_over_global_second": round(
            median["course_staff_second"] / median["global_second"], 3
        ),
    }


def _as(request: latency.Request, key: str, *, rows: int | None) -> latency.Request:
    """`request` sent with the course staff member's key; `rows`: the rows its answer must
    hold (None: any)."""
    return latency.Request(
        request.name, request.method, request.path, body=request.body, rows=rows, key=key
    )
