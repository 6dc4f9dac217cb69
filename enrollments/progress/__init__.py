"""Learner progress, in one home: here, progress as pure functions of two counts (completed
items and the course's items); completing.py, completing an item (the one progress write a door
makes); counts.py, the stored counts kept in step with the completions. The reads (the
membership queryset with its progress) are enrollments.selectors.memberships.

The membership queryset (selectors.memberships.memberships_with_progress) computes the counts
in SQL; these functions turn them into the status and the rate, so the status is not recomputed
per row in SQL (its CASE would evaluate the count subqueries again). Filtering and ordering by
status use the SQL twin, selectors.memberships.course_status_expression, which a test keeps in
step with this one.
"""


class CourseStatus:
    """Values of `course_status`."""

    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CHOICES = [NOT_STARTED, IN_PROGRESS, COMPLETED]


def course_status(*, completed: int, total: int) -> str:
    """not_started with nothing completed (a course without items included), completed with
    every item completed, in_progress in between."""
    if completed == 0:
        return CourseStatus.NOT_STARTED
    if completed >= total:
        return CourseStatus.COMPLETED
    return CourseStatus.IN_PROGRESS


def completion_rate(*, completed: int, total: int) -> float:
    """Completed items over the course's items, 0.0-1.0 (0.0 for a course without items)."""
    if not total:
        return 0.0
    return min(1.0, completed / total)
