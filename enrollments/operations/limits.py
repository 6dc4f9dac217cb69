"""The limits a course sets on what its staff may do (issue 25), applied by the core when it
plans, so every door refuses the same change with the same code.

A course's staff (lms.CourseRole.Role.STAFF; managers and global staff are not limited) may

- add at most `Course.staff_max_extension_days` days with one change: the new end may be at
  most that many days after the current end, or after now when access has already ended (so
  it is also the latest end they may set); for a learner paused in a course that freezes
  access, after their pause instead of now (rules.access_now: their access time stands
  still). Making access indefinite adds without bound. Only the changes that set an end later
  by decision are capped (extend by days, set an end, grant indefinite access); a resume gives
  back paused time the learner is owed, and is not;
- change nothing without a reason when `Course.staff_reason_required` is on.

A change beyond them is skipped (a bulk selection reports it per row; a door acting on one
enrollment raises it): ExtensionOverCourseLimit, ReasonRequired.
"""

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from enrollments.errors import DomainError, ExtensionOverCourseLimit, Phrase, ReasonRequired
from enrollments.models import AccessChange
from enrollments.operations.base import Change, Plan, Row, Skip
from enrollments.operations.scope import Scope

Action = AccessChange.Action

#: The actions whose changes the day limit caps (see the module).
CAPPED_ACTIONS = frozenset({Action.EXTEND, Action.SET_END, Action.GRANT_INDEFINITE})


@dataclass(frozen=True, slots=True)
class CourseLimits:
    """One course's limits on its staff."""

    max_extension_days: int | None = None
    reason_required: bool = False


def refusal(
    change: Change, limits: CourseLimits, *, reason: str, now: datetime
) -> DomainError | None:
    """Why `limits` refuse `change` by a limited actor giving `reason`, or None. Pure. `now`:
    the instant the enrollment's end is measured against (Row.access_now)."""
    if limits.reason_required and not reason.strip():
        return ReasonRequired()
    if limits.max_extension_days is None or change.action not in CAPPED_ACTIONS:
        return None
    old, new = change.old_ended_at, change.new_ended_at
    if old is None:
        return None  # indefinite access: any end adds nothing
    if new is None:
        return ExtensionOverCourseLimit()  # indefinite from a dated end: without bound
    if new - max(old, now) > timedelta(days=limits.max_extension_days):
        days = limits.max_extension_days
        return ExtensionOverCourseLimit(
            Phrase.ngettext("at most %(days)s day", "at most %(days)s days", days, days=days)
        )
    return None


def read_limits(course_ids: set[uuid.UUID]) -> dict[uuid.UUID, CourseLimits]:
    """The limits of these courses (one query)."""
    from lms.models import Course  # lms.models imports the core's model mixins

    rows = Course.objects.filter(pk__in=course_ids).values_list(
        "pk", "staff_max_extension_days", "staff_reason_required"
    )
    return {pk: CourseLimits(days, required) for pk, days, required in rows}


def requiring_a_reason(scope: Scope) -> set[uuid.UUID]:
    """The courses where `scope`'s actor acts within the staff limits and must give a reason
    (`refusal` skips their rows changed without one): none, without a query, for an actor no
    course limits."""
    if not scope.limited:
        return set()
    return {pk for pk, limits in read_limits(set(scope.limited)).items() if limits.reason_required}


def enforce(plan: Plan, rows: list[Row], scope: Scope, *, reason: str, now: datetime) -> None:
    """Moves the plan's changes that the course limits refuse to its skips, in place. Only the
    rows of the scope's limited courses are checked; with none, nothing is read."""
    if not scope.limited or not plan.changes:
        return
    row_of: Mapping[uuid.UUID, Row] = {row.id: row for row in rows}
    course_of: Mapping[uuid.UUID, uuid.UUID] = {row.id: row.course_id for row in rows}
    limited = {course_of.get(c.enrollment_id) for c in plan.changes} & scope.limited
    if not limited:
        return
    limits = read_limits(limited)
    kept: list[Change] = []
    for change in plan.changes:
        course = course_of.get(change.enrollment_id)
        error = None
        if course in limited:
            # Measured from the instant the row's end is (its pause, when its access time
            # stands still: rules.access_now), as the extension was planned.
            row = row_of.get(change.enrollment_id)
            at = now if row is None else row.access_now(now)
            error = refusal(change, limits.get(course, CourseLimits()), reason=reason, now=at)
        if error is None:
            kept.append(change)
        else:
            plan.skips.append(Skip(change.enrollment_id, error))
    plan.changes = kept
