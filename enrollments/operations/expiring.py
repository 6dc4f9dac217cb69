"""Ending access, or setting an earlier end (Teachify's `expireStudentCourseAccess`).

`Expire()` ends access now; `Expire(at=instant)` sets the end to that instant, which may lie
in the past or in the future: moving an end that an extension set too far back to where it
should be is the same operation (a correction is an earlier end, not an undo). The enrollment
keeps everything else: its progress, its history, its pause (see `Expire`).
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ClassVar

from django.db.models import F, Q
from django.utils.translation import gettext_noop

from enrollments.access_window import MAX_ENDED_AT
from enrollments.errors import EndNotEarlier, InvalidAccessEnd
from enrollments.models import AccessChange
from enrollments.operations.base import (
    MEASURED_AT_PAUSE,
    UNCHANGED,
    Change,
    Operation,
    Row,
    instant_key,
)
from enrollments.permissions import EXPIRE_ACCESS

#: Teachify's rule for customEndedAt: "a positive integer after January 1, 2020".
EARLIEST_END = datetime(2020, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Expire(Operation):
    """Sets the end of access to `at` (None: now, the core's clock when it plans).

    Rules, row by row (removed learners are skipped with ENROLLMENT_REMOVED, as by every
    operation but remove):

    - the new end must be earlier than the current end (END_NOT_EARLIER otherwise: a later
      end is an extension); an indefinite enrollment takes any instant;
    - already as asked, so unchanged (not a skip): asked "now" when access already ended at
      or before now (ending an ended access again is not an error, and a bulk "end now" over
      a course leaves the lapsed learners alone), or asked an instant equal to the current end;
    - a paused enrollment gets its new end and stays paused: the pause is left to the pause
      rules (resuming adds the paused time to the end when the course freezes access during
      pauses, as for any end). In such a course a paused learner's access time stands still
      at the pause (rules.access_now), so "now" for them is the pause: ending their access
      now sets the end to the pause's instant (unchanged when it already ends there or
      before), which the resume leaves as it is (the pause cost no access): nothing comes
      back.

    Request-level (`validate`): an `at` must be aware, after 2020-01-01T00:00:00Z and no later
    than 2038-01-19T03:14:07Z (INVALID_ACCESS_END).
    """

    at: datetime | None = None

    action: ClassVar = AccessChange.Action.EXPIRE
    permission: ClassVar = EXPIRE_ACCESS

    def describe(self) -> str:
        if self.at is None:
            return "end access now"
        return f"end access at {instant_key(self.at)}"

    def validate(self, *, now: datetime) -> None:
        if self.at is None:
            return
        if self.at.tzinfo is None:
            raise InvalidAccessEnd(gettext_noop("the end has no time zone"))
        if self.at <= EARLIEST_END:
            raise InvalidAccessEnd(
                gettext_noop("the end is not after {limit}"), instants={"limit": EARLIEST_END}
            )
        if self.at > MAX_ENDED_AT:
            raise InvalidAccessEnd(
                gettext_noop("the end is after {limit}"), instants={"limit": MAX_ENDED_AT}
            )

    def plan_row(self, row: Row, *, now: datetime, named: bool) -> Change | None:
        new_end = self.at if self.at is not None else row.access_now(now)
        current = row.state.ended_at
        if current is not None and current <= new_end:
            if self.at is None or current == new_end:
                return None  # access already ends there (or ended before now)
            raise EndNotEarlier()
        return Change(row.id, self.action, row.state, row.state.but(ended_at=new_end))

    def outcome_cases(self, *, now: datetime, named: bool) -> list[tuple[Q, str]]:
        new_end = self.at if self.at is not None else now
        if self.at is None:
            ended = (~MEASURED_AT_PAUSE & Q(ended_at__lte=now)) | (
                MEASURED_AT_PAUSE & Q(ended_at__lte=F("paused_at"))
            )
            return [(ended, UNCHANGED)]
        return [(Q(ended_at=new_end), UNCHANGED), (Q(ended_at__lt=new_end), EndNotEarlier.code)]
