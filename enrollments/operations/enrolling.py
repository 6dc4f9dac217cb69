"""Enrolling learners in courses (Teachify's `enrollStudentToCourse`: "enroll a student to a
specified course, or update existing enrollment details").

The (learner, course) pairs to enroll are the operation's parameters (`PairToEnroll`s, each with an
optional end of access); its selection is `Selection.named` of the pairs' existing enrollments
(`Enroll.selection()`), which the core locks and plans like any row. The rule, pair by pair:

- **No enrollment yet**: a new one starting now (or at `start_at`), ending at the target's
  `ended_at`, else at start + the course's `access_days` (indefinite when the course has no
  default). The audit row records the new state only (`Change.before` is None).
- **Removed** (the removal mark is set): enrolling again brings the *same* enrollment back.
  The mark is cleared and the end of access becomes the target's `ended_at`, else the course
  default counted from now; its progress, pause state and audit trail are kept.
- **Active** (enrolled, not removed): unchanged, unless the target gives an `ended_at`
  different from the current end, which then becomes the end of access.
- With `refuse_existing` (enrolling_learners.enrollment_create, the admin's "Add enrollment"
  form) any existing enrollment, removed or not, is skipped with ALREADY_ENROLLED instead.

Every change is audited with the ENROLL action. An `ended_at` outside 2020-01-01 ..
2038-01-19T03:14:07Z is refused as INVALID_ACCESS_END; a course default that would end after
2038-01-19 as ACCESS_END_OUT_OF_RANGE (the whole request: nothing is written).

Two concurrent enrollments of the same new pair are serialised by the unique (user, course)
constraint: the second insert fails its transaction. `enroll` applies the operation and, when
that happens, plans once more: the pair now has an enrollment, which is locked and planned as
above (already enrolled), so the loser gets an ordinary answer, never a server error. That
holds for many new pairs at once too: the plan lists its new enrollments in (user id, course
id) order, the order of that unique index, so two requests naming the same new pairs in any
order insert them in the same order (one INSERT per chunk of the plan) and the second waits at
the first pair they share; inserted in request order, each would hold a pair the other waits
for, a deadlock (PostgreSQL aborts one with a server error, not an answer).

A start given (`start_at`, the admin's add form) must lie within the instants the API can
write as 32-bit Unix seconds, 1901-12-13T20:45:52Z .. 2038-01-19T03:14:07Z (`check_start`).
"""

import hashlib
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import ClassVar

from django.db import IntegrityError
from django.db.models import QuerySet
from django.utils.translation import gettext_noop

from enrollments.access_window import INT32_MAX, MAX_ENDED_AT
from enrollments.errors import AccessEndOutOfRange, AlreadyEnrolled, InvalidAccessEnd, Phrase
from enrollments.models import AccessChange, Enrollment
from enrollments.operations.audit import Attribution
from enrollments.operations.base import Change, Operation, Plan, Row, Skip, State, instant_key
from enrollments.operations.core import apply
from enrollments.operations.scope import EVERYWHERE, Scope
from enrollments.operations.selection import Selection
from enrollments.operations.writing import write_states
from enrollments.permissions import ENROLL_LEARNERS
from lms.batching import chunked
from lms.models import Course, User

#: The earliest end of access a request may give (InvalidAccessEnd's message says so).
MIN_ENDED_AT = datetime(2020, 1, 1, tzinfo=UTC)
#: The earliest start an enrollment may be given: the first instant of 32-bit Unix seconds,
#: the counterpart of MAX_ENDED_AT (check_start says why).
MIN_START_AT = datetime.fromtimestamp(-INT32_MAX - 1, tz=UTC)


@dataclass(frozen=True, slots=True)
class PairToEnroll:
    """One pair to enroll, and the end of access asked for it (None: the course default)."""

    user: User
    course: Course
    ended_at: datetime | None = None

    @property
    def pair(self) -> tuple[uuid.UUID, uuid.UUID]:
        return (self.user.pk, self.course.pk)


@dataclass(frozen=True, slots=True)
class NewEnrollment(Change):
    """A change creating an enrollment (`before` is None): the pair and the start it gets."""

    user_id: uuid.UUID | None = None
    course_id: uuid.UUID | None = None
    start_at: datetime | None = None

    @property
    def key(self) -> object:
        # The id is drawn when planning: the fingerprint names the pair instead.
        return f"new:{self.user_id}:{self.course_id}"


def check_access_end(ended_at: datetime | None) -> None:
    """Raises InvalidAccessEnd for an end no door should accept: naive, before 2020-01-01 or
    after 2038-01-19T03:14:07Z (the API's 32-bit Unix seconds)."""
    if ended_at is None:
        return
    if ended_at.tzinfo is None or not MIN_ENDED_AT <= ended_at <= MAX_ENDED_AT:
        raise InvalidAccessEnd(
            Phrase(gettext_noop("%(end)s is out of range"), end=ended_at.isoformat())
        )


def check_start(start_at: datetime | None) -> None:
    """Refuses a start outside MIN_START_AT .. MAX_ENDED_AT, the instants 32-bit Unix seconds
    can hold (1901-12-13T20:45:52Z .. 2038-01-19T03:14:07Z). Those are the bounds the service
    already keeps for an enrollment's window, whose end the API renders as Unix seconds in a
    GraphQL Int (32-bit, as Teachify renders `ended_at`), and every zone's calendar holds any
    instant inside them (the admin, the exports and the e-mails show a start in the reader's
    zone). A start is not held to the ends' lower bound (2020-01-01, Teachify's rule for an
    end asked for): a start in December 2019 whose course default ends in 2020 stays accepted
    (`default_end` checks that end). The start is the one instant a door takes freely (the
    admin's add form); without a course default nothing else bounded it, and a start of
    9999-12-31 or 0001-01-01 UTC was stored, outside the calendar in most zones.

    The errors are those `default_end` gives for such a start in a course with a default, so
    a start is refused alike with or without one: after 2038 AccessEndOutOfRange, before 1901
    (or naive) InvalidAccessEnd naming it."""
    if start_at is None:
        return
    if start_at.tzinfo is not None and start_at > MAX_ENDED_AT:
        raise AccessEndOutOfRange()
    if start_at.tzinfo is None or start_at < MIN_START_AT:
        # The detail reuses check_access_end's words (and their translation): "<start> is out
        # of range", the instant being the start.
        raise InvalidAccessEnd(
            Phrase(gettext_noop("%(end)s is out of range"), end=start_at.isoformat())
        )


def default_end(course: Course, start: datetime) -> datetime | None:
    """start + the course's access days (None: indefinite). Raises AccessEndOutOfRange when
    that ends after 2038-01-19 (checked before adding: a start near year 9999 would overflow
    the calendar first), and InvalidAccessEnd when it ends before 2020-01-01, as an end a
    request gives would be (check_access_end). The admin's add form takes any start: an end
    in 1900 would be refused by the API, and could not be read back through it (its `ended_at`
    is a 32-bit Int of Unix seconds).

    The days are counted in UTC, as whole days of 24 hours: added to a start in a zone with
    daylight saving time, Python would count wall-clock days, one hour short or long when
    the clocks change in between."""
    if course.access_days is None:
        return None
    if start > MAX_ENDED_AT - timedelta(days=course.access_days):
        raise AccessEndOutOfRange()
    end = start.astimezone(UTC) + timedelta(days=course.access_days)
    check_access_end(end)
    return end


@dataclass(frozen=True, slots=True)
class Enroll(Operation):
    """Enrolls each target's learner in its course, restores a removed enrollment, or sets an
    active one's end (see the module for the rule). `start_at` (default: now) is the start of
    the enrollments it creates."""

    targets: tuple[PairToEnroll, ...]
    start_at: datetime | None = None
    refuse_existing: bool = False

    action: ClassVar = AccessChange.Action.ENROLL
    permission: ClassVar = ENROLL_LEARNERS
    acts_on_removed: ClassVar = True

    def __post_init__(self) -> None:
        # One target per pair (the first): a pair cannot be enrolled twice by one request.
        unique = {target.pair: target for target in reversed(self.targets)}
        object.__setattr__(self, "targets", tuple(t for t in self.targets if unique[t.pair] is t))

    def describe(self) -> str:
        digest = hashlib.sha256()
        for target in self.targets:
            end = target.ended_at.isoformat() if target.ended_at else "-"
            digest.update(f"{target.user.pk}:{target.course.pk}:{end}|".encode())
        start = f" from {instant_key(self.start_at)}" if self.start_at else ""
        refuse = ", refusing existing enrollments" if self.refuse_existing else ""
        return f"enroll {len(self.targets)} learner(s){start}{refuse} [{digest.hexdigest()[:16]}]"

    def validate(self, *, now: datetime) -> None:
        for target in self.targets:
            check_access_end(target.ended_at)
        check_start(self.start_at)
        start = self.start_at or now
        for course in {target.course for target in self.targets if target.ended_at is None}:
            default_end(course, start)

    def existing(self) -> dict[tuple[uuid.UUID, uuid.UUID], uuid.UUID]:
        """{(user id, course id): enrollment id} of the targets that have an enrollment
        (removed or not): a query per chunk of learners."""
        wanted = {target.pair for target in self.targets}
        found = {}
        user_ids = list({user_id for user_id, _course in wanted})
        for chunk in chunked(user_ids):
            rows = Enrollment.objects.filter(
                user_id__in=chunk, course_id__in={course for _user, course in wanted}
            ).values_list("user_id", "course_id", "pk")
            for user_id, course_id, pk in rows:
                if (user_id, course_id) in wanted:
                    found[(user_id, course_id)] = pk
        return found

    def selection(self, *, scope: Scope = EVERYWHERE) -> Selection:
        """The targets' existing enrollments, named (the core locks and plans them), within
        `scope` (a pair in a course outside it is refused: core._refuse_new_outside)."""
        return Selection.named(self.existing().values(), scope=scope)

    def plan(self, rows: Iterable[Row], *, now: datetime, named: bool) -> Plan:
        plan = Plan(self)
        by_pair = {(row.user_id, row.course_id): row for row in rows}
        start = self.start_at or now
        for target in self.targets:
            row = by_pair.get(target.pair)
            if row is None:
                end = target.ended_at if target.ended_at else default_end(target.course, start)
                plan.changes.append(
                    NewEnrollment(
                        uuid.uuid4(),
                        self.action,
                        None,
                        State(ended_at=end),
                        decided=_end_decided(target),
                        user_id=target.user.pk,
                        course_id=target.course.pk,
                        start_at=start,
                    )
                )
                continue
            if self.refuse_existing:
                plan.skips.append(Skip(row.id, AlreadyEnrolled()))
                continue
            change = self._existing_change(row, target, now=now)
            if change is None:
                plan.unchanged.append(row.id)
            else:
                plan.changes.append(change)
        _new_in_key_order(plan.changes)
        return plan

    def _existing_change(self, row: Row, target: PairToEnroll, *, now: datetime) -> Change | None:
        state = row.state
        if state.removed_at is not None:
            end = target.ended_at if target.ended_at else default_end(target.course, now)
            after = state.but(removed_at=None, ended_at=end)
            return Change(row.id, self.action, state, after, decided=_end_decided(target))
        if target.ended_at is None or target.ended_at == state.ended_at:
            return None
        return Change(row.id, self.action, state, state.but(ended_at=target.ended_at))

    def write(
        self, changes: Sequence[Change], *, now: datetime, scope: QuerySet[Enrollment] | None = None
    ) -> None:
        """Inserts the new enrollments (one bulk INSERT), writes the others' new state. The
        new rows' created_at / updated_at are the model's own (auto_now_add, auto_now)."""
        new = [change for change in changes if isinstance(change, NewEnrollment)]
        Enrollment.objects.bulk_create(
            [
                Enrollment(
                    pk=change.enrollment_id,
                    user_id=change.user_id,
                    course_id=change.course_id,
                    start_at=change.start_at,
                    ended_at=change.after.ended_at,
                )
                for change in new
            ]
        )
        write_states([c for c in changes if not isinstance(c, NewEnrollment)], now=now, scope=scope)


def _end_decided(target: PairToEnroll) -> str:
    """What decides the end of an enrollment created or restored (Change.decided, for the
    fingerprint): the target's own end, which describe() names, or the course's length as it
    was read. The end itself follows the clock (start + days), so the fingerprint leaves it out;
    without this, a dry run of "30 days" confirmed with --expect after the course became
    indefinite applied the other plan."""
    if target.ended_at:
        return "*"
    days = target.course.access_days
    return "* course default: indefinite" if days is None else f"* course default: {days} days"


def _new_in_key_order(changes: list[Change]) -> None:
    """Puts the new enrollments among `changes` in (user id, course id) order, in place, each
    other change keeping its place. The core writes a plan's changes chunk by chunk in the
    plan's order, so this is the order the rows go into the unique (user, course) index for the
    whole request, not only within a chunk: two requests creating the same pairs then insert
    them in one order, and the second waits at the first pair they share and takes the
    IntegrityError path (`enroll`) instead of deadlocking. The doors report by their own order
    (EntriesPlan.rows: the entries' lines), not by the plan's."""
    slots = [i for i, change in enumerate(changes) if isinstance(change, NewEnrollment)]
    ordered = sorted((changes[i] for i in slots), key=lambda c: (c.user_id, c.course_id))
    for i, change in zip(slots, ordered, strict=True):
        changes[i] = change


def enroll(
    operation: Enroll, by: Attribution, *, expected: str | None = None, scope: Scope = EVERYWHERE
) -> Plan:
    """Applies `operation` to its targets' existing enrollments. When a concurrent enrollment
    of a pair wins the race (the unique constraint refuses this insert), plans once more under
    the lock: the pair is then already enrolled. With `expected` (a preview's fingerprint) that
    new plan differs, so nothing is written and ChangedSincePreview is raised."""
    try:
        return apply(operation, operation.selection(scope=scope), by, expected=expected)
    except IntegrityError:
        existing = operation.existing()
        if not any(target.pair in existing for target in operation.targets):
            raise  # not the race this retry is for
        selection = Selection.named(existing.values(), scope=scope)
        return apply(operation, selection, by, expected=expected)
