"""What both peers share: the queryset with the progress annotations, and their offset cursor."""

import base64
import functools

from django.conf import settings
from django.db import connection, transaction
from django.db.models import QuerySet

from enrollments.models import Enrollment
from enrollments.selectors.memberships import attach_next_items, memberships_with_progress

#: The CourseItem fields of the next items, selected as JSON in the page's query (the same
#: annotation the API uses: a peer tuned as well as the API is).
ITEM_FIELDS = ("id", "course_id", "title", "kind", "position")


def annotated(queryset: QuerySet[Enrollment]) -> QuerySet[Enrollment]:
    return memberships_with_progress(queryset, next_item_fields=ITEM_FIELDS).select_related(
        "course", "user"
    )


def next_items(enrollment: Enrollment) -> tuple[object, object]:
    """(next item, next-but-one) of an enrollment from `annotated`, as CourseItems."""
    if not hasattr(enrollment, "next_item"):
        attach_next_items([enrollment])
    return enrollment.next_item, enrollment.next_next_item


def offset_cursor(offset: int) -> str:
    """graphql-relay's cursor of the row at `offset` (both peers use it): the page `after` it
    starts at offset + 1."""
    return base64.b64encode(f"arrayconnection:{offset}".encode()).decode()


#: The page of measurement 1 (bench.documents.MEMBERSHIP_PAGE) in the peers' schemas: the same
#: fields, spelled camelCase as both libraries do by default, with a relay connection.
PEER_DOCUMENT = """
query PeerPage($first: Int, $after: String) {
  memberships(first: $first, after: $after) {
    edges {
      cursor
      node {
        id
        courseId
        userId
        courseStatus
        createdAt
        updatedAt
        startAt
        pausedAt
        isPaused
        totalPausedDuration
        course { id slug title accessDays pauseFreezesAccess }
        user { id email name }
        nextIncompleteItem { id courseId title kind position }
        nextNextIncompleteItem { id courseId title kind position }
      }
    }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""


#: What PostgreSQL says when it cancels a statement at its statement_timeout.
STATEMENT_TIMEOUT = "canceling statement due to statement timeout"


def bounded(view):
    """Runs a peer's view with PostgreSQL's statement_timeout at
    settings.BENCH_PEER_STATEMENT_TIMEOUT_MS, so that a deep OFFSET page is cancelled instead of
    holding the server's only worker for minutes (the answer then carries STATEMENT_TIMEOUT)."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        timeout = getattr(settings, "BENCH_PEER_STATEMENT_TIMEOUT_MS", None)
        if not timeout or connection.vendor != "postgresql":
            return view(request, *args, **kwargs)
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('statement_timeout', %s, true)", [str(timeout)])
            return view(request, *args, **kwargs)

    return wrapper
