"""Removing a learner from a course (Teachify's `removeStudentFromCourse`).

Nothing is deleted: the enrollment gets the removal mark (`removed_at`), which takes its
access away (access state "removed") and leaves it out of the default lists (the API's
membership lists, the admin changelist, reports and reminders). Its progress and audit trail
stay, and enrolling the learner again (operations.enrolling.Enroll) clears the mark on the
same enrollment.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from django.db.models import Q

from enrollments.errors import AlreadyRemoved
from enrollments.models import AccessChange
from enrollments.operations.base import Change, Operation, Row
from enrollments.permissions import REMOVE_FROM_COURSE


@dataclass(frozen=True, slots=True)
class Remove(Operation):
    """Marks the enrollment removed now; one already removed is skipped (ALREADY_REMOVED)."""

    action: ClassVar = AccessChange.Action.REMOVE
    permission: ClassVar = REMOVE_FROM_COURSE
    acts_on_removed: ClassVar = True

    def describe(self) -> str:
        return "remove from the course"

    def plan_row(self, row: Row, *, now: datetime, named: bool) -> Change:
        if row.state.removed_at is not None:
            raise AlreadyRemoved()
        return Change(row.id, self.action, row.state, row.state.but(removed_at=now))

    def outcome_cases(self, *, now: datetime, named: bool) -> list[tuple[Q, str]]:
        return [(Q(removed_at__isnull=False), AlreadyRemoved.code)]
