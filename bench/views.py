"""The baseline of measurement 2: the same page of memberships as the GraphQL API serves, as plain
JSON from a minimal Django view built on `values()`.

Same rows (the keyset position of the API's own cursor, the same order and size), same fields
(the contract's CourseMembership fields with the nested course, user and both next items) and
the same progress annotations (selectors.memberships_with_progress): what remains between the
two is the cost of the API layer itself (authentication, GraphQL parsing, validation, resolvers,
serialisation). No authentication: the view is mounted only in bench.urls, on 127.0.0.1.
"""

from types import SimpleNamespace

from django.db.models import Q
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from enrollments.graphql.pagination import decode_cursor, encode_cursor
from enrollments.models import Enrollment
from enrollments.selectors.memberships import memberships_with_progress
from lms.models import CourseItem

MAX_PAGE_SIZE = 100

_MEMBERSHIP_FIELDS = (
    "id",
    "course_id",
    "user_id",
    "course_status",
    "created_at",
    "updated_at",
    "start_at",
    "paused_at",
    "is_paused",
    "total_paused_duration",
    "course__slug",
    "course__title",
    "course__access_days",
    "course__pause_freezes_access",
    "user__email",
    "user__first_name",
    "user__last_name",
    "next_item_id",
    "next_next_item_id",
)
_ITEM_FIELDS = ("id", "course_id", "title", "kind", "position")


def _display_name(row: dict) -> str:
    """lms.models.User.name from a values() row: the full name, else the e-mail address."""
    full_name = " ".join(part for part in (row["user__first_name"], row["user__last_name"]) if part)
    return full_name or row["user__email"]


def _membership(row: dict, items: dict) -> dict:
    return {
        "id": row["id"],
        "cursor": encode_cursor(SimpleNamespace(created_at=row["created_at"], pk=row["id"])),
        "course_id": row["course_id"],
        "user_id": row["user_id"],
        "course_status": row["course_status"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "start_at": row["start_at"],
        "paused_at": row["paused_at"],
        "is_paused": row["is_paused"],
        "total_paused_duration": row["total_paused_duration"],
        "course": {
            "id": row["course_id"],
            "slug": row["course__slug"],
            "title": row["course__title"],
            "access_days": row["course__access_days"],
            "pause_freezes_access": row["course__pause_freezes_access"],
        },
        "user": {"id": row["user_id"], "email": row["user__email"], "name": _display_name(row)},
        "next_incomplete_item": items.get(row["next_item_id"]),
        "next_next_incomplete_item": items.get(row["next_next_item_id"]),
    }


@require_GET
def memberships_baseline(request: HttpRequest) -> JsonResponse:
    """`?first=N&after=<cursor>`: the page after the cursor, oldest first (two queries)."""
    try:
        first = int(request.GET.get("first", MAX_PAGE_SIZE))
    except ValueError:
        return JsonResponse({"error": "first must be an integer"}, status=400)
    if not 0 <= first <= MAX_PAGE_SIZE:
        return JsonResponse({"error": f"first must be between 0 and {MAX_PAGE_SIZE}"}, status=400)
    queryset = Enrollment.objects.all()
    if after := request.GET.get("after"):
        position = decode_cursor(after)  # raises on a malformed cursor: a benchmark-only view
        # (created_at, id) > position, with the redundant range term that lets the index
        # start its scan at the position (as the API's keyset filter does).
        queryset = queryset.filter(
            Q(created_at__gte=position.created_at)
            & (Q(created_at__gt=position.created_at) | Q(id__gt=position.id))
        )
    rows = list(
        memberships_with_progress(queryset)
        .order_by("created_at", "id")
        .values(*_MEMBERSHIP_FIELDS)[:first]
    )
    item_ids = {row["next_item_id"] for row in rows} | {row["next_next_item_id"] for row in rows}
    item_ids.discard(None)
    items = {}
    if item_ids:
        found = CourseItem.objects.filter(pk__in=item_ids).values(*_ITEM_FIELDS)
        items = {item["id"]: item for item in found}
    return JsonResponse({"memberships": [_membership(row, items) for row in rows]})
