"""Moving ends earlier without arithmetic by hand (issue 26, item 3): "shorten by N days", and
"restore the end before this change" of one audited change.

Both set an end the staff member did not have to compute: the core computes it, row by row,
from the row it locked.

- `Shorten(days)`: each end moves `days` earlier. It is an earlier end, so it is "End access /
  set end"'s kind of change (permission EXPIRE_ACCESS, audit action EXPIRE). Its rules, row by
  row: an indefinite enrollment has nothing to shorten (NO_END_DATE); the new end may not fall
  before the enrollment's start (END_BEFORE_START) nor on or before 2020-01-01 (INVALID_ACCESS_END,
  Expire's bound); it may lie in the past, as "set end" allows: a correction may put back an
  end that had passed, and the preview shows every new end before Confirm. Request-level:
  1 <= days <= MAX_SHORTEN_DAYS (INVALID_SHORTENING). Removed learners are skipped, as by every
  operation but remove.
- `restore_end_before(change)`: the operation that puts one enrollment's end back to what it was
  before `change` (an AccessChange row that moved it). Earlier than the end the change set:
  `EndBackEarlier` (EXPIRE_ACCESS, action EXPIRE); later, or indefinite: `EndBackLater`
  (EXTEND_ACCESS, action SET_END or GRANT_INDEFINITE, so a course's limits on its staff apply as
  to any extension: operations/limits.py). Applied only while the end is still the one the
  change set: otherwise a later change moved it, and putting the older end back would silently
  undo that one too (END_CHANGED_SINCE). Already back at the old end: unchanged.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import ClassVar

from django.utils.translation import gettext_noop

from enrollments.errors import (
    EndBeforeStart,
    EndChangedSince,
    InvalidAccessEnd,
    InvalidShortening,
    NoEndDate,
    Phrase,
)
from enrollments.models import AccessChange
from enrollments.operations.base import Change, Operation, Row, instant_key
from enrollments.operations.expiring import EARLIEST_END
from enrollments.permissions import EXPIRE_ACCESS, EXTEND_ACCESS

#: The most days one shortening may take off (a hundred years: any end then stays on the
#: calendar, and no real correction comes near it).
MAX_SHORTEN_DAYS = 36_500


@dataclass(frozen=True, slots=True)
class Shorten(Operation):
    """Moves each enrollment's end `days` earlier (see the module for the rules)."""

    days: int

    action: ClassVar = AccessChange.Action.EXPIRE
    permission: ClassVar = EXPIRE_ACCESS

    def describe(self) -> str:
        return f"shorten access by {self.days} days"

    def validate(self, *, now: datetime) -> None:
        days = self.days
        if isinstance(days, bool) or not isinstance(days, int):
            raise InvalidShortening(
                Phrase(gettext_noop("%(days)s is not a whole number of days"), days=repr(days))
            )
        if not 1 <= days <= MAX_SHORTEN_DAYS:
            raise InvalidShortening(
                Phrase.ngettext("%(days)s day", "%(days)s days", days, days=days)
            )

    def plan_row(self, row: Row, *, now: datetime, named: bool) -> Change:
        current = row.state.ended_at
        if current is None:
            raise NoEndDate()
        new_end = current - timedelta(days=self.days)
        if new_end < row.start_at:
            raise EndBeforeStart()
        if new_end <= EARLIEST_END:
            raise InvalidAccessEnd(
                gettext_noop("the end is not after {limit}"), instants={"limit": EARLIEST_END}
            )
        return Change(row.id, self.action, row.state, row.state.but(ended_at=new_end))


@dataclass(frozen=True, slots=True)
class RestoreEnd(Operation):
    """Puts the end back to `ended_at`, the end before the audited change `change_id`, while
    the end is still `changed_to`, the one that change set (see the module). Built by
    `restore_end_before`; its two kinds differ in permission and audit action only."""

    change_id: uuid.UUID
    ended_at: datetime | None
    changed_to: datetime | None

    def describe(self) -> str:
        def instant(value: datetime | None) -> str:
            return "indefinite" if value is None else instant_key(value)

        return (
            f"restore the end before change {self.change_id}: {instant(self.ended_at)} "
            f"(the change set {instant(self.changed_to)})"
        )

    def plan_row(self, row: Row, *, now: datetime, named: bool) -> Change | None:
        current = row.state.ended_at
        if current == self.ended_at:
            return None  # already back where it was
        if current != self.changed_to:
            raise EndChangedSince()
        return Change(row.id, self.action, row.state, row.state.but(ended_at=self.ended_at))


@dataclass(frozen=True, slots=True)
class EndBackEarlier(RestoreEnd):
    """The change moved the end later (an extension): restoring moves it earlier."""

    action: ClassVar = AccessChange.Action.EXPIRE
    permission: ClassVar = EXPIRE_ACCESS


@dataclass(frozen=True, slots=True)
class EndBackLater(RestoreEnd):
    """The change moved the end earlier (or gave one to indefinite access): restoring moves it
    later, or makes access indefinite again."""

    permission: ClassVar = EXTEND_ACCESS

    @property
    def action(self) -> AccessChange.Action:  # type: ignore[override]
        if self.ended_at is None:
            return AccessChange.Action.GRANT_INDEFINITE
        return AccessChange.Action.SET_END


def restore_end_before(change: AccessChange) -> RestoreEnd | None:
    """The operation putting `change`'s enrollment's end back to its end before `change`;
    None when `change` did not move the end (a pause, a removal) or was an enrollment (one it
    created had no end before; one it restored was removed before: restoring that end would
    not give the access back that was)."""
    if change.action == AccessChange.Action.ENROLL or change.old_ended_at == change.new_ended_at:
        return None
    kind = (
        EndBackEarlier
        if change.old_ended_at is not None
        and change.new_ended_at is not None
        and change.old_ended_at < change.new_ended_at
        else EndBackLater
    )
    return kind(change.pk, change.old_ended_at, change.new_ended_at)
