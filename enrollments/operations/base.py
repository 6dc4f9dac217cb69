"""The shapes every operation shares: the state of an enrollment it plans from (`Row`), what it
decides for each row (`Change`, `Skip`, unchanged) and the whole decision (`Plan`), and the
`Operation` base class. See the package docstring for how they fit together."""

import hashlib
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from typing import ClassVar

from django.db.models import Q, QuerySet

from enrollments.errors import DomainError, EnrollmentRemoved
from enrollments.models import AccessChange, Enrollment
from enrollments.operations.writing import write_states
from enrollments.permissions import Permission
from enrollments.rules import access_now

#: A row's outcome when counted by SQL (Operation.outcome_cases) and not skipped.
CHANGED, UNCHANGED = "changed", "unchanged"
#: A condition no row meets, and one every row meets.
NO_ROW, EVERY_ROW = Q(pk__in=[]), Q(pk__isnull=False)
#: The enrollments whose end is measured against their pause, not now (rules.access_now): in
#: SQL, for `outcome_cases`.
MEASURED_AT_PAUSE = Q(is_paused=True, course__pause_freezes_access=True, paused_at__isnull=False)


@dataclass(frozen=True, slots=True)
class State:
    """The access fields of one enrollment: what an operation reads and writes."""

    ended_at: datetime | None
    is_paused: bool = False
    paused_at: datetime | None = None
    total_paused_duration: int = 0
    #: The removal mark: set when the learner was removed from the course (no access).
    removed_at: datetime | None = None

    def but(self, **changes) -> "State":
        """This state with some fields changed."""
        return replace(self, **changes)


@dataclass(frozen=True, slots=True)
class Row:
    """One enrollment as the core read it (under the row lock when applying).

    `facts` holds what the operation's `read_facts` returned for this row (None by default):
    data beyond the enrollment row that its plan needs, such as audit rows.
    """

    id: uuid.UUID
    user_id: uuid.UUID
    course_id: uuid.UUID
    start_at: datetime
    state: State
    pause_freezes_access: bool = True
    facts: object = None
    #: When the row last changed (`apply(snapshot=...)` compares it with what a preview read).
    updated_at: datetime | None = None

    def access_now(self, now: datetime) -> datetime:
        """The instant this enrollment's end is measured against (rules.access_now): `now`,
        or its pause's instant while paused in a course that freezes access."""
        return access_now(
            now=now,
            is_paused=self.state.is_paused,
            paused_at=self.state.paused_at,
            pause_freezes_access=self.pause_freezes_access,
        )


@dataclass(frozen=True, slots=True)
class Change:
    """What an operation does to one enrollment: its state `before` and `after`, the audit
    action, and (on resume) the paused seconds the audit row records. `before` is None for an
    enrollment the operation creates."""

    enrollment_id: uuid.UUID
    action: AccessChange.Action
    before: State | None
    after: State
    paused_seconds: int | None = None
    #: What decides the change beside `before` and the operation, when the fields it moves
    #: depend on the clock too, for the fingerprint to name instead of them. A resume moves
    #: the end and the total by the pause's whole seconds: none in the pause's first second,
    #: so its moved fields would differ between a preview in that second and a Confirm in the
    #: next; what is decided is whether the course freezes access during pauses.
    decided: str = ""

    @property
    def old_ended_at(self) -> datetime | None:
        return self.before.ended_at if self.before is not None else None

    @property
    def new_ended_at(self) -> datetime | None:
        return self.after.ended_at

    @property
    def total_paused_duration(self) -> int:
        return self.after.total_paused_duration

    @property
    def key(self) -> object:
        """What the fingerprint names the change by: its enrollment (an enrollment the change
        creates gets its id when planned, so such a change names its pair instead)."""
        return self.enrollment_id


@dataclass(frozen=True, slots=True)
class Skip:
    """An enrollment the operation leaves alone, and the domain error that says why."""

    enrollment_id: uuid.UUID
    error: DomainError


@dataclass(slots=True)
class Plan:
    """What an operation does to a selection: the changes, the skips (with their reasons) and
    the enrollments already as asked (`unchanged`). `preview` returns one; `apply` returns the
    plan it carried out, with the `batch_id` of its audit rows."""

    operation: "Operation"
    changes: list[Change] = field(default_factory=list)
    skips: list[Skip] = field(default_factory=list)
    unchanged: list[uuid.UUID] = field(default_factory=list)
    batch_id: uuid.UUID | None = None
    #: When `apply` wrote it (the clock read under the lock): the changed rows' `updated_at`.
    applied_at: datetime | None = None

    @property
    def changed_count(self) -> int:
        return len(self.changes)

    @property
    def skipped_count(self) -> int:
        return len(self.skips)

    @property
    def selected(self) -> int:
        return len(self.changes) + len(self.skips) + len(self.unchanged)

    def add(self, other: "Plan") -> None:
        """Appends another part of the same operation (a command's next batch)."""
        self.changes += other.changes
        self.skips += other.skips
        self.unchanged += other.unchanged

    def fingerprint(self) -> str:
        """Identifies the decision, not the clock: the operation with its parameters, and row
        by row the state each change starts from and which of its fields it changes, each
        skip's reason and the rows left unchanged. The `after` values are left out on purpose:
        they follow from `before`, the parameters and the time of applying (a resume confirmed
        a minute after its preview counts that minute too). Which fields change does not
        depend on the time, but on what the rules read beside the state: a course that stops
        freezing access during pauses between a preview and its Confirm resumes without moving
        the end, a different decision. `apply(expected=...)` compares this."""
        digest = hashlib.sha256(self.operation.describe().encode())
        for change in self.changes:
            moved = change.decided or _moved_fields(change.before, change.after)
            digest.update(f"|c:{change.key}:{change.action}:{change.before}:{moved}".encode())
        for skip in self.skips:
            digest.update(f"|s:{skip.enrollment_id}:{skip.error.code}".encode())
        for pk in self.unchanged:
            digest.update(f"|u:{pk}".encode())
        return digest.hexdigest()


def _moved_fields(before: "State | None", after: "State | None") -> str:
    """The names of the State fields a change moves, comma-separated (all for a new row)."""
    if before is None or after is None:
        return "*"
    return ",".join(
        f.name for f in fields(State) if getattr(before, f.name) != getattr(after, f.name)
    )


def instant_key(at: datetime) -> str:
    """An instant as `describe()` writes it: UTC, to the second, and to the microsecond when it
    has any (a parameter that differs by less than a second is another request: the
    fingerprint is made of this text)."""
    at = at.astimezone(UTC)
    return at.isoformat(timespec="microseconds" if at.microsecond else "seconds").replace(
        "+00:00", "Z"
    )


def before_state(row: AccessChange, *, after: State) -> "State | None":
    """The whole State before the change an audit row records, or None when the row does not
    hold it (it created its enrollment, or predates the old_* columns). `after` is the state
    the change left (the enrollment's current state when nothing changed it since): an
    old_is_paused of None means the pause state did not move."""
    if row.old_total_paused_duration is None:
        return None
    return State(
        ended_at=row.old_ended_at,
        is_paused=after.is_paused if row.old_is_paused is None else row.old_is_paused,
        paused_at=row.old_paused_at,
        total_paused_duration=row.old_total_paused_duration,
        removed_at=row.old_removed_at,
    )


class Operation:
    """One access operation: its parameters (the subclass's fields), the audit `action` of its
    changes, the `permission` a door asks for, and a pure `plan`. Subclasses are frozen
    dataclasses, so two equal requests are one operation (and hash alike)."""

    action: ClassVar[AccessChange.Action]
    permission: ClassVar[Permission]
    #: Whether `plan_row` sees enrollments with the removal mark. False (extend, pause,
    #: resume): the default `plan` skips them with ENROLLMENT_REMOVED, since a removed learner
    #: is enrolled again (which clears the mark) before their access changes.
    acts_on_removed: ClassVar[bool] = False

    def describe(self) -> str:
        """The operation and its parameters in words: shown by the doors, and the first part
        of a plan's fingerprint."""
        return repr(self)

    def validate(self, *, now: datetime) -> None:
        """Checks what can be checked without an enrollment (positive days, ...). Raises a
        DomainError; preview and apply call it before reading any row."""

    def read_facts(self, ids: Sequence[uuid.UUID]) -> Mapping[uuid.UUID, object]:
        """Data beyond the enrollment rows that `plan` needs, by enrollment id; read after the
        rows are locked. Default: none."""
        return {}

    def plan(self, rows: Iterable[Row], *, now: datetime, named: bool) -> Plan:
        """Decides every row: pure (no database, no clock but `now`). `named` is True when the
        request named its enrollments, False when it selected them by filter (the one rule
        that differs: see selection.Selection). Default: `plan_row` for each row."""
        plan = Plan(self)
        for row in rows:
            if row.state.removed_at is not None and not self.acts_on_removed:
                plan.skips.append(Skip(row.id, EnrollmentRemoved()))
                continue
            try:
                change = self.plan_row(row, now=now, named=named)
            except DomainError as error:
                # Without its traceback: it holds this frame, whose `plan` holds the error,
                # a reference cycle per skipped row that only the cyclic collector frees
                # (a run's chunk kept about 1,000 of them alive: docs/benchmarks.md).
                plan.skips.append(Skip(row.id, error.with_traceback(None)))
                continue
            if change is None:
                plan.unchanged.append(row.id)
            else:
                plan.changes.append(change)
        return plan

    def plan_row(self, row: Row, *, now: datetime, named: bool) -> Change | None:
        """One row's change; None when it is already as asked; raises a DomainError to skip
        it with that reason."""
        raise NotImplementedError

    def outcome_cases(self, *, now: datetime, named: bool) -> "list[tuple[Q, str]] | None":
        """`plan_row`'s decision as conditions on the enrollment's columns, for counting a
        selection of a million rows by SQL instead of planning each in Python (the preview of
        a run, operations/outcomes.py): ordered (condition, outcome) pairs, the first condition
        a row meets giving its outcome (UNCHANGED, or the skip's error code); a row meeting
        none is CHANGED. Removed rows are the base's (`outcome_conditions`). None (the
        default): not expressible, the preview plans every row. It must agree with `plan` row
        for row: tests/enrollments/operations/test_outcome_cases.py checks every operation's
        against its plan on generated rows."""
        return None

    def outcome_conditions(self, *, now: datetime, named: bool) -> "list[tuple[Q, str]] | None":
        """`outcome_cases` with the removed rows' skip first, as `plan` decides them."""
        cases = self.outcome_cases(now=now, named=named)
        if cases is None or self.acts_on_removed:
            return cases
        return [(Q(removed_at__isnull=False), EnrollmentRemoved.code), *cases]

    def write(
        self, changes: Sequence[Change], *, now: datetime, scope: QuerySet[Enrollment] | None = None
    ) -> None:
        """Writes a chunk of changes with set-based SQL (the audit rows are the core's), the
        rows looked up within `scope` when given (writing.update_locked). Default:
        writing.write_states, one UPDATE (or one CASE UPDATE) per chunk."""
        write_states(changes, now=now, scope=scope)
