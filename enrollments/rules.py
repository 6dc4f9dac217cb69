"""The access rules as pure functions: no database, no clock of their own.

The operations (enrollments.operations) plan through these functions, so the arithmetic of
precedence, pauses and access states is written once.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from django.utils.translation import gettext_noop

from enrollments.access_window import MAX_ENDED_AT, MAX_EXTENSION_DAYS, MAX_TOTAL_PAUSED_SECONDS
from enrollments.errors import InvalidExtensionPeriod, NoEndDate
from enrollments.models import AccessChange


class AccessState(StrEnum):
    """Where an enrollment stands at an instant. Paused wins over the time window."""

    ACTIVE = "active"
    EXPIRED = "expired"
    NOT_STARTED = "not_started"
    PAUSED = "paused"
    #: Removed from the course (the removal mark): wins over everything.
    REMOVED = "removed"


def access_state(
    *,
    start_at: datetime,
    ended_at: datetime | None,
    is_paused: bool,
    at: datetime,
    removed_at: datetime | None = None,
) -> AccessState:
    """Access is given from `start_at` (inclusive) to `ended_at` (exclusive) unless paused or
    removed from the course."""
    if removed_at is not None:
        return AccessState.REMOVED
    if is_paused:
        return AccessState.PAUSED
    if at < start_at:
        return AccessState.NOT_STARTED
    if ended_at is not None and at >= ended_at:
        return AccessState.EXPIRED
    return AccessState.ACTIVE


def access_now(
    *, now: datetime, is_paused: bool, paused_at: datetime | None, pause_freezes_access: bool
) -> datetime:
    """The instant an enrollment's end is measured against: `now`, except for an enrollment
    paused in a course that freezes access during pauses, whose access time stands still at its
    pause (`paused_at`): resuming moves its end by the whole pause, so its stored end counts in
    that stopped time. Measured so, ending its access "now" sets the end to the pause (the
    resume leaves it there: no access comes back), an extension leaves
    it "still expired" only when the new end is not after the pause, and days "from today"
    count from the later of its end and its pause (the pause is not counted twice)."""
    if is_paused and pause_freezes_access and paused_at is not None:
        return paused_at
    return now


@dataclass(frozen=True, slots=True)
class ExtensionRequest:
    """What was asked: by `days`, to an `until` instant, or `indefinite` access.

    Precedence follows the contract: `indefinite` wins over everything, then `until`
    (`newEndedAt`), then `days` (`extensionDays`). Lower-precedence values are ignored.

    `from_today` (days only): the days count from the later of the current end and now, so an
    enrollment that has already ended gets `days` from today; by default (the contract's) they
    count from the current end even when it lies in the past. For an enrollment whose access
    time stands still during a pause, "now" is its pause (`access_now`).
    """

    days: int | None = None
    until: datetime | None = None
    indefinite: bool = False
    from_today: bool = False

    @property
    def action(self) -> AccessChange.Action:
        if self.indefinite:
            return AccessChange.Action.GRANT_INDEFINITE
        if self.until is not None:
            return AccessChange.Action.SET_END
        return AccessChange.Action.EXTEND

    def validate(self, *, now: datetime) -> None:
        """Checks what can be checked without an enrollment. Raises InvalidExtensionPeriod."""
        if self.indefinite:
            return
        if self.until is not None:
            if self.until.tzinfo is None:
                raise InvalidExtensionPeriod(gettext_noop("the new end date has no time zone"))
            if self.until <= now:
                raise InvalidExtensionPeriod(gettext_noop("the new end date is not in the future"))
            if self.until > MAX_ENDED_AT:
                raise InvalidExtensionPeriod(
                    gettext_noop("the new end date is after {limit}"),
                    instants={"limit": MAX_ENDED_AT},
                )
            return
        if self.days is None:
            raise InvalidExtensionPeriod(
                gettext_noop("no extension days, new end date or indefinite given")
            )
        if self.days <= 0:
            raise InvalidExtensionPeriod(gettext_noop("extension days must be positive"))
        if self.days > MAX_EXTENSION_DAYS:
            raise InvalidExtensionPeriod(
                gettext_noop("the extension ends after {limit} whatever the current end"),
                instants={"limit": MAX_ENDED_AT},
            )

    def new_ended_at(
        self, *, current: datetime | None, now: datetime, access_now: datetime | None = None
    ) -> datetime | None:
        """The end of access after this extension, or a DomainError saying why not.
        `access_now`: the instant the enrollment's end is measured against (the module's
        `access_now`; `now` when not given), where days "from today" start at the latest."""
        self.validate(now=now)
        if self.indefinite:
            return None
        if current is None:
            raise NoEndDate()
        if self.until is not None:
            if self.until <= current:
                raise InvalidExtensionPeriod(
                    gettext_noop("the new end date is not after the current one")
                )
            return self.until
        start = (
            max(current, now if access_now is None else access_now) if self.from_today else current
        )
        try:
            new_end = start + timedelta(days=self.days)
        except OverflowError:
            raise InvalidExtensionPeriod(
                gettext_noop("the extension overflows the calendar")
            ) from None
        if new_end > MAX_ENDED_AT:
            raise InvalidExtensionPeriod(
                gettext_noop("the extension ends after {limit}"), instants={"limit": MAX_ENDED_AT}
            )
        return new_end


@dataclass(frozen=True, slots=True)
class ResumeOutcome:
    paused_seconds: int
    total_paused_duration: int
    ended_at: datetime | None


def resume_outcome(
    *,
    paused_at: datetime,
    total_paused_duration: int,
    ended_at: datetime | None,
    pause_freezes_access: bool,
    now: datetime,
    start_at: datetime | None = None,
) -> ResumeOutcome:
    """The paused seconds (whole, floored) are added to the total and, when the course freezes
    access during pauses, the seconds of access the pause cost to the end date: a pause never
    costs the learner access time, and gives none either. The access it cost runs from the
    later of the pause and the start (`start_at`) to now, and is none when the access had
    already ended there: a pause before the start gives back only the time after the start,
    and a pause of an expired enrollment leaves its end where it was.

    Both results are clamped to what the API can represent (a resume must never fail and leave
    a learner locked out): the total at 2^31 - 1 seconds, the end date at MAX_ENDED_AT.
    """
    paused_seconds = max(0, int((now - paused_at).total_seconds()))
    paused_seconds = min(paused_seconds, MAX_TOTAL_PAUSED_SECONDS)
    total = min(total_paused_duration + paused_seconds, MAX_TOTAL_PAUSED_SECONDS)
    new_end = ended_at
    if pause_freezes_access and ended_at is not None:
        lost_from = paused_at if start_at is None else max(paused_at, start_at)
        lost = 0 if ended_at <= lost_from else max(0, int((now - lost_from).total_seconds()))
        new_end = min(ended_at + timedelta(seconds=min(lost, paused_seconds)), MAX_ENDED_AT)
    return ResumeOutcome(
        paused_seconds=paused_seconds, total_paused_duration=total, ended_at=new_end
    )
