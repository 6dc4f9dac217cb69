"""The stored progress of enrollments (`items_completed`, `course_status`): kept when an item is
completed, recounted when a course gains or loses items, verified and repaired on demand.

The count is stored so that SQL can filter, count and index the course status (issue 15); the
completions stay the truth. Three writers keep the two in step:

- progress.completing.enrollment_complete_item adds one, under the enrollment's row lock, in the
  transaction that inserts the completion (count_completion);
- a course item added or deleted (deleting one deletes its completions) recounts the course's
  enrollments in one UPDATE (enrollments.signals -> recount_progress), since their status
  depends on the number of items;
- `manage.py check_progress` finds rows whose stored values differ from a count of the
  completions and, with `--repair`, recounts them (writes made outside this package: raw
  SQL, a restored backup).
"""

from datetime import datetime

from django.db import transaction
from django.db.models import QuerySet

from enrollments import clock
from enrollments.models import Enrollment
from enrollments.progress import course_status
from enrollments.selectors.memberships import (
    completions_count_expression,
    course_status_expression,
    items_total_expression,
)
from lms.batching import chunked
from lms.models import CourseItem


def count_completion(*, enrollment: Enrollment, completed_before: int, now: datetime) -> None:
    """Stores one more completed item on `enrollment`, whose row the caller has locked (and
    read `completed_before` under that lock), progress changed `now`. Sets the attributes on
    `enrollment` too."""
    completed = completed_before + 1
    total = CourseItem.objects.filter(course_id=enrollment.course_id).count()
    status = course_status(completed=completed, total=total)
    Enrollment.objects.filter(pk=enrollment.pk).update(
        items_completed=completed, course_status=status, progress_updated_at=now
    )
    enrollment.items_completed, enrollment.course_status = completed, status
    enrollment.progress_updated_at = now


def enrollments_recount_progress(*, queryset: QuerySet[Enrollment]) -> int:
    """Sets the stored progress of every enrollment of `queryset` from a count of its
    completions and its course's items, in one set-based UPDATE, and its
    `progress_updated_at` to now (their course's items changed, or their stored counts were
    wrong: what the API shows of their progress moved). Returns the rows updated.

    The rows are locked first (in primary-key order, as the operation core locks): a completion
    being written concurrently then either is counted or waits and adds its one to the recount.
    """
    counted = completions_count_expression()
    now = clock.now()
    with transaction.atomic():
        # Only ids from the caller's queryset (it may carry joins): the lock is on enrollments.
        locked = Enrollment.objects.filter(pk__in=queryset.values("pk")).order_by("pk")
        ids = list(locked.select_for_update(of=("self",)).values_list("pk", flat=True))
        updated = 0
        for chunk in chunked(ids):
            updated += Enrollment.objects.filter(pk__in=chunk).update(
                progress_updated_at=now,
                items_completed=counted,
                course_status=course_status_expression(counted, items_total_expression()),
            )
    return updated


def course_recount_progress(*, course_id: object) -> int:
    """Recounts the stored progress of every enrollment of one course (its items changed)."""
    return enrollments_recount_progress(queryset=Enrollment.objects.filter(course_id=course_id))
