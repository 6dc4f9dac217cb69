"""Extending access: by days, to a new end, or indefinitely (the contract's
`extendStudentCourseAccess`), as one operation with the contract's precedence."""

from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import ClassVar

from django.db.models import F, Q, QuerySet

from enrollments.access_window import MAX_ENDED_AT
from enrollments.errors import InvalidExtensionPeriod, NoEndDate, StillExpired
from enrollments.models import AccessChange, Enrollment
from enrollments.operations.base import (
    EVERY_ROW,
    MEASURED_AT_PAUSE,
    NO_ROW,
    UNCHANGED,
    Change,
    Operation,
    Row,
    instant_key,
)
from enrollments.operations.writing import update_locked, write_states
from enrollments.permissions import EXTEND_ACCESS
from enrollments.rules import ExtensionRequest


@dataclass(frozen=True, slots=True)
class Extend(Operation):
    """Extends by `days`, sets the end to `until`, or grants `indefinite` access.

    Precedence (the contract's): indefinite wins over everything, then until, then days. The
    values of lower precedence are dropped on construction, so however a door gathered them
    (flags, CSV columns, form fields) two requests that mean the same are the same operation.

    `from_today` ("extend from today", days only; dropped with until or indefinite): the days
    count from the later of the current end and now, so a learner whose access has ended gets
    the days from today. The default counts from the current end, as the contract says.

    A learner paused in a course that freezes access during pauses has their end measured
    against the pause, not now (rules.access_now): their access time stands still, so they
    are not "still expired" while the new end is after the pause, and "from today" counts from
    the later of their end and their pause (a resume adds the pause to the end afterwards).
    """

    days: int | None = None
    until: datetime | None = None
    indefinite: bool = False
    from_today: bool = False
    #: What was asked, as the rules read it (rules.ExtensionRequest): made once with the
    #: operation, not once per row planned (a select-all plans a million). Not a field of the
    #: request: no argument, left out of comparisons and of a run's JSON (runs.py).
    request: ExtensionRequest = field(init=False, repr=False, compare=False)

    permission: ClassVar = EXTEND_ACCESS

    def __post_init__(self) -> None:
        if self.indefinite:
            object.__setattr__(self, "days", None)
            object.__setattr__(self, "until", None)
        elif self.until is not None:
            object.__setattr__(self, "days", None)
        if self.days is None:
            object.__setattr__(self, "from_today", False)
        request = ExtensionRequest(
            days=self.days, until=self.until, indefinite=self.indefinite, from_today=self.from_today
        )
        object.__setattr__(self, "request", request)

    @property
    def action(self) -> AccessChange.Action:  # type: ignore[override]
        return self.request.action

    def describe(self) -> str:
        if self.indefinite:
            return "grant indefinite access"
        if self.until is not None:
            return f"set the end of access to {instant_key(self.until)}"
        if self.from_today:
            return f"extend access by {self.days} days from the later of the end and now"
        return f"extend access by {self.days} days"

    def validate(self, *, now: datetime) -> None:
        self.request.validate(now=now)

    def plan_row(self, row: Row, *, now: datetime, named: bool) -> Change | None:
        request = self.request
        current = row.state.ended_at
        access_now = row.access_now(now)
        new_end = request.new_ended_at(current=current, now=now, access_now=access_now)
        if not named and new_end is not None and new_end <= access_now:
            raise StillExpired()
        if new_end == current:
            return None
        return Change(row.id, request.action, row.state, row.state.but(ended_at=new_end))

    def outcome_cases(self, *, now: datetime, named: bool) -> list[tuple[Q, str]]:
        """ExtensionRequest.new_ended_at and the STILL_EXPIRED rule, as conditions on the
        current end, with the bounds computed here; the one sum in SQL is an end plus the days
        for the enrollments measured at their pause (MEASURED_AT_PAUSE), an end that earlier
        cases keep within 2038."""
        if self.indefinite:
            return [(Q(ended_at__isnull=True), UNCHANGED)]
        cases = [(Q(ended_at__isnull=True), NoEndDate.code)]
        if self.until is not None:
            cases.append((Q(ended_at__gte=self.until), InvalidExtensionPeriod.code))
            if not named:
                # until <= the instant the end is measured against (now, or the pause).
                at_pause = MEASURED_AT_PAUSE & Q(paused_at__gte=self.until)
                cases.append(
                    (
                        at_pause | ~MEASURED_AT_PAUSE if self.until <= now else at_pause,
                        StillExpired.code,
                    )
                )
            return cases
        try:
            days = timedelta(days=self.days)
            now_past_max = now + days > MAX_ENDED_AT
        except OverflowError:  # more days than the calendar holds: every end overflows
            return [*cases, (EVERY_ROW, InvalidExtensionPeriod.code)]
        past_max = _later_than(MAX_ENDED_AT, days)
        if self.from_today:
            # max(end, now or the pause) + days > MAX; the new end is after that instant, so
            # never still expired.
            try:
                pause_past_max = MEASURED_AT_PAUSE & Q(paused_at__gt=MAX_ENDED_AT - days)
            except OverflowError:
                pause_past_max = MEASURED_AT_PAUSE
            now_part = ~MEASURED_AT_PAUSE if now_past_max else NO_ROW
            cases.append((past_max | pause_past_max | now_part, InvalidExtensionPeriod.code))
            return cases
        cases.append((past_max, InvalidExtensionPeriod.code))
        if not named:
            # end + days <= now (or the pause): the rows past 2038 are the case above.
            at_pause = MEASURED_AT_PAUSE & Q(paused_at__gte=F("ended_at") + days)
            with suppress(OverflowError):  # before year 1: no end is that early
                at_pause |= ~MEASURED_AT_PAUSE & Q(ended_at__lte=now - days)
            cases.append((at_pause, StillExpired.code))
        return cases

    def write(self, changes, *, now: datetime, scope: QuerySet[Enrollment] | None = None) -> None:
        """By days: one UPDATE adding the days to each (locked, already planned) end. From
        today, each row's planned end (the later of its end and now, plus the days) is
        written as planned: one UPDATE when they agree, one CASE UPDATE otherwise."""
        if self.action is not AccessChange.Action.EXTEND or self.from_today:
            write_states(changes, now=now, scope=scope)
            return
        update_locked(
            [change.enrollment_id for change in changes],
            scope=scope,
            ended_at=F("ended_at") + timedelta(days=self.days),
            updated_at=now,
        )


def _later_than(bound: datetime, days: timedelta) -> Q:
    """The ends that `days` more would take past `bound`: end > bound - days (every end when
    that underflows the calendar; each raises InvalidExtensionPeriod in the plan)."""
    try:
        return Q(ended_at__gt=bound - days)
    except OverflowError:
        return EVERY_ROW
