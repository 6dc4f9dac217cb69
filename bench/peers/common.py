"""What both peers share: the queryset with the progress annotations, and their offset cursor."""

import base64

from django.db.models import QuerySet

from enrollments.models import Enrollment
from enrollments.selectors import attach_next_items, memberships_with_progress

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
