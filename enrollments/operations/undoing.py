"""Undoing a batch: every enrollment a bulk operation changed goes back to its state before it.

Every bulk operation (one admin Confirm, one command run, one API call) shares one `batch_id`
on its audit rows, and every audit row keeps the whole state before its change
(`base.before_state`). `Undo(batch_id)` restores that state, as a new audited batch of its
own whose rows name the batch they undo (`undoes_batch_id`, action UNDO):

- The selection is the batch's enrollments, named (`batch_selection`): a door asks it first,
  so an unknown batch id is BATCH_NOT_FOUND before anything is planned or locked.
- A row changed since the batch (an audit row of its enrollment outside the batch, at or
  after the batch's row, or a state other than the one the batch left: see
  BatchRow.left_otherwise) is left as it is: CHANGED_SINCE_BATCH. Audit rows are written only by
  the core, under the row locks the undo holds while it reads them, so what it reads cannot
  move before its commit. This also makes a second undo of the same batch change nothing: the
  first undo's own rows are later rows.
- A row whose audit row did not record the state before (written before the columns existed)
  is NOT_UNDOABLE. A row that *created* its enrollment (an enrollment) is undone by putting the
  removal mark on the enrollment: nothing is deleted (its progress and trail stay), and the
  learner loses the access the enrollment gave.
- Undoing an undo batch is allowed: its rows recorded the state before the undo too, so it
  applies the original batch again, under the same rules (rows changed since are skipped).
- A command batch applied in several transactions (`--batch-size`) shares one batch id and is
  undone as a whole.
- A background run's batch is undone once the run is over (done or cancelled): while it is
  queued, running or failed, the undo is refused whole (BATCH_RUN_UNFINISHED), since it
  would restore the chunks committed so far and the run would then change the rest under
  the same batch. Checked by the doors first (`batch_selection`) and again under the row
  locks (`read_facts`): a chunk holding a row of the batch commits before the undo reads.

An enrollment with two rows in the batch (a CSV naming it twice with different requests) goes
back to the state before the first of them.
"""

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import ClassVar

from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_noop

from enrollments.errors import (
    BatchNotFound,
    BatchRunUnfinished,
    ChangedSinceBatch,
    NotUndoable,
    Phrase,
)
from enrollments.models import AccessChange, Enrollment, OperationRun
from enrollments.operations.base import Change, Operation, Row, State, before_state
from enrollments.operations.scope import EVERYWHERE, Scope
from enrollments.operations.selection import Selection
from enrollments.permissions import UNDO_BATCH
from enrollments.selectors.batches import batch_enrollment_ids


@dataclass(frozen=True, slots=True)
class UndoChange(Change):
    """A change that undoes a batch: its audit row names that batch (writing.audit_values)."""

    undoes_batch_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class BatchRow:
    """What the undo knows of one enrollment (`Row.facts`): the batch's first audit row for it
    (`audit`, the state before), its last (`last`, the state it left), and whether a later
    audit row exists."""

    audit: AccessChange
    changed_since: bool
    last: AccessChange | None = None

    def left_otherwise(self, state: State) -> bool:
        """Whether `state` (the enrollment now) differs from what the batch left: its end, and
        its pause where the rows tell it (the last row's new value, or the state before when
        the batch did not move the pause). A change after the batch whose audit row reads an
        earlier instant (another server's clock a second behind) is seen here, where the
        instants alone would let the undo overwrite it."""
        last = self.last or self.audit
        if self.audit.old_total_paused_duration is None:
            return False  # a row from before the states were recorded: NOT_UNDOABLE decides
        if state.ended_at != last.new_ended_at:
            return True
        if last.new_is_paused is not None:
            return state.is_paused != last.new_is_paused
        return state.is_paused != (self.audit.old_paused_at is not None)


#: How the doors name each State field when they show what an undo restores.
FIELD_LABELS: Mapping[str, str] = {
    "ended_at": "end of access",
    "is_paused": "paused",
    "paused_at": "paused since",
    "total_paused_duration": "total paused seconds",
    "removed_at": "removed",
}


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One field a change moves: its State name, its label, and the values before and after."""

    name: str
    label: str
    old: object
    new: object


def changed_fields(change: Change) -> list[FieldChange]:
    """The fields `change` moves, in State order (an undo may move any of them)."""
    before = change.before or State(ended_at=None)
    return [
        FieldChange(f.name, FIELD_LABELS[f.name], getattr(before, f.name), new)
        for f in fields(State)
        if (new := getattr(change.after, f.name)) != getattr(before, f.name)
    ]


def batch_selection(batch_id: uuid.UUID, *, scope: Scope = EVERYWHERE) -> Selection:
    """The enrollments of a batch, named; raises BatchNotFound when it has no audit rows, or
    when any of them lies outside `scope` (a course manager undoes their course's batches
    whole, and cannot tell another course's batch from none). Then BatchRunUnfinished when its
    run is not over: only for a batch in scope, or the state of another course's run would
    tell that batch from none."""
    ids = batch_enrollment_ids(batch_id)
    outside = Enrollment.objects.filter(pk__in=ids).exclude(scope.condition())
    if not scope.everywhere and outside.exists():
        raise BatchNotFound(
            Phrase(gettext_noop("batch %(batch)s is outside the actor's courses"), batch=batch_id)
        )
    refuse_while_its_run_is_unfinished(batch_id)
    return Selection.named(ids, scope=scope)


def unfinished_runs(batch_id: uuid.UUID):
    """The runs of `batch_id` not over yet (queued, running or failed; a draft never wrote a
    row)."""
    return OperationRun.objects.filter(batch_id=batch_id, finished_at__isnull=True).exclude(
        state=OperationRun.State.PREVIEWED
    )


def refuse_while_its_run_is_unfinished(batch_id: uuid.UUID) -> None:
    """Raises BatchRunUnfinished when `batch_id` is the batch of a run not over yet."""
    if unfinished_runs(batch_id).exists():
        raise BatchRunUnfinished()


@dataclass(frozen=True, slots=True)
class Undo(Operation):
    """Restores each enrollment of `batch_id` to its state before the batch (see the module)."""

    batch_id: uuid.UUID

    action: ClassVar = AccessChange.Action.UNDO
    permission: ClassVar = UNDO_BATCH
    #: Undoing a removal clears the mark; undoing anything else leaves it as the batch found it.
    acts_on_removed: ClassVar = True

    def describe(self) -> str:
        return f"undo batch {self.batch_id}"

    def read_facts(self, ids: Sequence[uuid.UUID]) -> Mapping[uuid.UUID, BatchRow]:
        """One query: the batch's audit rows of `ids`, oldest first, each with whether its
        enrollment has an audit row outside the batch at or after it. "At" counts too (two
        changes in the same clock tick): skipping a row that could have been undone is safe,
        overwriting a later change is not. Refuses the whole undo while the batch's run is
        unfinished, read under the row locks (see the module)."""
        later = AccessChange.objects.filter(
            enrollment_id=OuterRef("enrollment_id"), created_at__gte=OuterRef("created_at")
        ).exclude(batch_id=self.batch_id)
        rows = (
            AccessChange.objects.filter(batch_id=self.batch_id, enrollment_id__in=list(ids))
            .annotate(
                changed_since=Exists(later), run_unfinished=Exists(unfinished_runs(self.batch_id))
            )
            .order_by("created_at")
        )
        facts: dict[uuid.UUID, BatchRow] = {}
        for audit in rows:
            if audit.run_unfinished:
                raise BatchRunUnfinished()
            first = facts.get(audit.enrollment_id)
            facts[audit.enrollment_id] = (
                BatchRow(audit, audit.changed_since, audit)
                if first is None
                else BatchRow(first.audit, first.changed_since, audit)
            )
        return facts

    def plan_row(self, row: Row, *, now: datetime, named: bool) -> Change | None:
        facts = row.facts
        if not isinstance(facts, BatchRow):  # not in the batch (a door's own selection)
            raise NotUndoable()
        if facts.changed_since or facts.left_otherwise(row.state):
            raise ChangedSinceBatch()
        after = before_state(facts.audit, after=row.state)
        if after is None:
            if facts.audit.action != AccessChange.Action.ENROLL:
                raise NotUndoable()
            # The batch created this enrollment: undone, the learner is removed again.
            after = row.state.but(removed_at=row.state.removed_at or now)
        if after == row.state:
            return None
        return UndoChange(row.id, self.action, row.state, after, undoes_batch_id=self.batch_id)
