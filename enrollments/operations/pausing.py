"""Pausing and resuming. A paused enrollment gives no access; resuming adds the paused seconds
to `total_paused_duration` and, when the course freezes access during pauses, to the end
(rules.resume_outcome)."""

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from django.db.models import Q

from enrollments.errors import AlreadyPaused, NotPaused
from enrollments.models import AccessChange
from enrollments.operations.base import Change, Operation, Row
from enrollments.permissions import PAUSE_ENROLLMENT
from enrollments.rules import resume_outcome


@dataclass(frozen=True, slots=True)
class Pause(Operation):
    """Pauses now; an enrollment already paused is skipped (ALREADY_PAUSED)."""

    action: ClassVar = AccessChange.Action.PAUSE
    permission: ClassVar = PAUSE_ENROLLMENT

    def describe(self) -> str:
        return "pause"

    def plan_row(self, row: Row, *, now: datetime, named: bool) -> Change:
        if row.state.is_paused:
            raise AlreadyPaused()
        return Change(row.id, self.action, row.state, row.state.but(is_paused=True, paused_at=now))

    def outcome_cases(self, *, now: datetime, named: bool) -> list[tuple[Q, str]]:
        return [(Q(is_paused=True), AlreadyPaused.code)]


@dataclass(frozen=True, slots=True)
class Resume(Operation):
    """Resumes now; an enrollment not paused is skipped (NOT_PAUSED)."""

    action: ClassVar = AccessChange.Action.RESUME
    permission: ClassVar = PAUSE_ENROLLMENT

    def describe(self) -> str:
        return "resume"

    def plan_row(self, row: Row, *, now: datetime, named: bool) -> Change:
        state = row.state
        if not state.is_paused:
            raise NotPaused()
        outcome = resume_outcome(
            paused_at=state.paused_at,
            total_paused_duration=state.total_paused_duration,
            ended_at=state.ended_at,
            pause_freezes_access=row.pause_freezes_access,
            now=now,
            start_at=row.start_at,
        )
        after = state.but(
            is_paused=False,
            paused_at=None,
            ended_at=outcome.ended_at,
            total_paused_duration=outcome.total_paused_duration,
        )
        decided = "freezes access" if row.pause_freezes_access else "keeps access running"
        return Change(
            row.id,
            self.action,
            state,
            after,
            paused_seconds=outcome.paused_seconds,
            decided=decided,
        )

    def outcome_cases(self, *, now: datetime, named: bool) -> list[tuple[Q, str]]:
        return [(Q(is_paused=False), NotPaused.code)]  # resume_outcome never refuses
