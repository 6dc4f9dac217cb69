"""Bulk test data for paging and query-count tests (quicker than one factory call per row)."""

import uuid
from datetime import UTC, datetime, timedelta

from enrollments.models import Enrollment, ItemCompletion
from lms.models import Course, CourseItem, User
from tests.factories import CourseFactory, recount

BASE = datetime(2025, 6, 1, tzinfo=UTC)


def memberships(
    count: int,
    *,
    course: Course | None = None,
    same_instant_every: int = 1,
    items: int = 0,
    completed: int = 0,
    start: datetime = BASE,
) -> list[Enrollment]:
    """`count` enrollments of new users in one course, created one minute apart in groups of
    `same_instant_every` (rows of a group share `created_at`, so the id breaks ties). The course
    gets `items` items, and each enrollment completes the first `completed` of them."""
    course = course or CourseFactory()
    course_items = [
        CourseItem.objects.create(course=course, title=f"item {p}", position=p)
        for p in range(1, items + 1)
    ]
    tag = uuid.uuid4().hex[:8]
    users = User.objects.bulk_create(
        User(email=f"paging-{tag}-{n}@example.com", first_name=f"Paging {n}") for n in range(count)
    )
    rows = Enrollment.objects.bulk_create(
        Enrollment(user=user, course=course, start_at=start, ended_at=start + timedelta(days=3650))
        for user in users
    )
    for n, row in enumerate(rows):
        row.created_at = start + timedelta(minutes=n // same_instant_every)
        Enrollment.objects.filter(pk=row.pk).update(created_at=row.created_at)
    ItemCompletion.objects.bulk_create(
        ItemCompletion(enrollment=row, item=item, completed_at=start)
        for row in rows
        for item in course_items[:completed]
    )
    recount(*rows)
    return rows
