"""Running an operation of the core over the enrollments a command picked: the engine of
extend_access, expire_access, pause_membership, resume_membership, remove_from_course (and
undo_batch).

A real run of the bulk commands is a *run* (enrollments/operations/runs.py): its selection is
written down first, then applied a chunk of `--batch-size` rows per transaction, each row
changed at most once; a run killed at any point is continued with `--resume RUN`, and an
identical request refuses to start while it is unfinished (`identity`). Without an identity
(undo_batch) the targets are applied with `operations.apply(batch_size=...)` as before. A dry
run is one `operations.preview`; `--expect` one `apply_together`. This module only reports:
one progress bar, the changed rows (dry run, or verbosity 2), the totals, and one failure per
skipped row.
"""

import sys
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.utils.translation import gettext

from enrollments.management.output import (
    Progress,
    RowFailure,
    describe_error,
    enrollment_label,
    format_instant,
    progress,
)
from enrollments.models import AccessChange, Enrollment, OperationRun
from enrollments.operations import Change, Operation, Plan, Selection, apply, preview, runs
from enrollments.operations.audit import Attribution
from enrollments.operations.core import CHUNK_SIZE, apply_together, fingerprint_of
from lms.models import User

#: Enrollments per transaction: the core's own chunk size.
DEFAULT_BATCH_SIZE = CHUNK_SIZE


@dataclass(slots=True)
class SelectedOperation:
    """Enrollments that get the same operation. CSV input names each enrollment by the row it
    came from (`where`, `lines`)."""

    operation: Operation
    selection: Selection
    where: dict[object, str] = field(default_factory=dict)
    lines: dict[object, int] = field(default_factory=dict)
    _size: int | None = None

    def size(self) -> int:
        """How many enrollments it selects within its scope (counted once, for the progress
        bar and summary): a filter's rows outside the `--actor`'s courses are not counted, as
        the core never reads them."""
        if self._size is None:
            selection = self.selection
            if selection.ids is not None:
                self._size = len(selection.ids)
            else:
                self._size = selection.in_scope(selection.queryset).count()
        return self._size


@dataclass(slots=True)
class Outcome:
    """The totals of a run over all its targets and batches."""

    total: int = 0
    changed: int = 0
    unchanged: int = 0
    failures: list[RowFailure] = field(default_factory=list)


def unknown_enrollment(pk: object) -> str:
    """How a line names an enrollment no longer there (deleted meanwhile): by its id."""
    return gettext("enrollment %(id)s") % {"id": pk}


def enrollment_labels(ids: Sequence[object]) -> dict[object, str]:
    """`learner@example.com in course-slug` for each id: one query per call."""
    rows = Enrollment.objects.filter(pk__in=list(ids)).values_list(
        "pk", "user__email", "course__slug"
    )
    return {pk: enrollment_label(email, slug) for pk, email, slug in rows}


class BulkRun:
    """Runs targets through the core, printing changes (dry run, or verbosity 2) as it goes."""

    def __init__(
        self,
        *,
        stdout,
        actor: User | None,
        reason: str,
        dry_run: bool,
        batch_size: int = DEFAULT_BATCH_SIZE,
        show_changes: bool = False,
        verbs: tuple[str, str] | None = None,
        identity: str | None = None,
    ) -> None:
        self.stdout = stdout
        #: The request's identity (run_options.request_identity): a real run is a durable run
        #: (runs.start). None: applied by `operations.apply(batch_size=...)`, as undo_batch is.
        self.identity = identity
        #: The durable run, once started or resumed.
        self.op_run: OperationRun | None = None
        #: How a change line starts: "would <verb>" in a dry run, else "<done>" (translated).
        self.verb, self.done = verbs or (gettext("change"), gettext("changed"))
        self.dry_run = dry_run
        # A huge --batch-size means one batch; islice (chunked) takes at most sys.maxsize.
        self.batch_size = min(batch_size, sys.maxsize)
        self.show_changes = show_changes or dry_run
        self.outcome = Outcome()
        #: One audit batch id for the whole run, however many transactions it takes.
        self.batch_id = uuid.uuid4()
        self.by = Attribution(actor, AccessChange.Source.COMMAND, reason, self.batch_id)
        #: A dry run's plans, one per target: their fingerprint is what `--expect` takes.
        self.plans: list[Plan] = []

    @property
    def fingerprint(self) -> str:
        return fingerprint_of(self.plans)

    def run(self, targets: Sequence[SelectedOperation], *, expect: str | None = None) -> Outcome:
        """Runs every target; with `expect` (a dry run's fingerprint) all of them in one
        transaction that applies only the plan the dry run showed (ChangedSincePreview)."""
        sizes = [target.size() for target in targets]
        self.outcome.total += sum(sizes)
        with progress(self.stdout, total=self.outcome.total) as bar:
            if expect is not None:
                parts = [(target.operation, target.selection) for target in targets]
                plans = apply_together(parts, self.by, expected=expect)
                for target, plan in zip(targets, plans, strict=True):
                    self._report(target, plan, bar)
                    bar.update(plan.selected)
                return self.outcome
            if self.identity is not None and not self.dry_run:
                if self.outcome.total:  # nothing selected: no run to write down
                    self.op_run = runs.start(
                        self._parts(targets),
                        self.by,
                        identity=self.identity,
                        chunk_size=self.batch_size,
                    )
                    self._advance(self.op_run, targets, bar)
                return self.outcome
            for target, size in zip(targets, sizes, strict=True):
                self._run_target(target, size, bar)
        return self.outcome

    @staticmethod
    def _parts(targets: Sequence[SelectedOperation]) -> list[tuple[Operation, Selection]]:
        return [(target.operation, target.selection) for target in targets]

    def start_background(self, targets: Sequence[SelectedOperation]) -> OperationRun | None:
        """Writes the run down, QUEUED, for a job to apply (the caller queues it); None when
        nothing is selected. Raises RunUnfinished naming an identical unfinished run."""
        self.outcome.total = sum(target.size() for target in targets)
        if not self.outcome.total:
            return None
        self.op_run = runs.start(self._parts(targets), self.by, identity=self.identity or "")
        return self.op_run

    def resume(self, run: OperationRun) -> Outcome:
        """Continues `run` in the foreground to its end: its pending rows only, so a row it
        changed before is never changed again. The outcome counts what this resumption did."""
        self.op_run, self.batch_id = run, run.batch_id
        pending = run.total - run.done
        self.outcome.total = pending
        with progress(self.stdout, total=pending) as bar:
            self._advance(run, [], bar)
        return self.outcome

    def _advance(
        self, run: OperationRun, targets: Sequence[SelectedOperation], bar: Progress
    ) -> None:
        """Advances the run a chunk per transaction (`batch_size` rows, set when it was written
        down), reporting each chunk as it commits. A failure leaves the run FAILED (the chunk
        in flight rolled back) and propagates; `self.op_run` names the run for the message."""
        by_operation = {target.operation: target for target in targets}

        def report(chunk: runs.Chunk) -> None:
            plan = chunk.plan
            target = by_operation.get(plan.operation) or SelectedOperation(
                plan.operation, Selection.named([])
            )
            self._report(target, plan, bar)
            bar.update(plan.selected)

        self.op_run = runs.advance(run.pk, on_chunk=report)

    def _run_target(self, target: SelectedOperation, size: int, bar: Progress) -> None:
        def report(part: Plan, ids: Sequence[object]) -> None:
            self._report(target, part, bar)
            bar.update(len(ids))

        # A request invalid for every row raises (the command checked it already: only the
        # clock passing an --until meanwhile gets here) and ends the run with exit status 1.
        if self.dry_run:
            # The reason too: a course may require one of its staff (operations/limits.py).
            self.plans.append(preview(target.operation, target.selection, reason=self.by.reason))
            report(self.plans[-1], range(size))
        else:
            by, size_ = self.by, self.batch_size
            apply(target.operation, target.selection, by, batch_size=size_, on_batch=report)

    def _report(self, target: SelectedOperation, part: Plan, bar: Progress) -> None:
        self.outcome.changed += len(part.changes)
        self.outcome.unchanged += len(part.unchanged)
        shown = [change.enrollment_id for change in part.changes] if self.show_changes else []
        labels = self._labels(target, shown + [skip.enrollment_id for skip in part.skips])
        for change in part.changes if self.show_changes else ():
            bar.write(self._change_line(change, labels))
        for skip in part.skips:
            self.outcome.failures.append(
                RowFailure(
                    where=labels.get(skip.enrollment_id) or unknown_enrollment(skip.enrollment_id),
                    reason=describe_error(skip.error),
                    line=target.lines.get(skip.enrollment_id, 0),
                )
            )

    def _labels(self, target: SelectedOperation, ids: list[object]) -> dict[object, str]:
        missing = [pk for pk in ids if pk not in target.where]
        labels = enrollment_labels(missing) if missing else {}
        labels.update((pk, target.where[pk]) for pk in ids if pk in target.where)
        return labels

    def change_verb(self) -> str:
        """How a change line starts: "would extend" in a dry run, "extended" otherwise."""
        if self.dry_run:
            # Translators: a dry run's change line starts "would extend", "would pause", ...
            return gettext("would %(verb)s") % {"verb": self.verb}
        return self.done

    def _change_line(self, change: Change, labels) -> str:
        where = labels.get(change.enrollment_id) or unknown_enrollment(change.enrollment_id)
        values = {
            "verb": self.change_verb(),
            "where": where,
            "old": format_instant(change.old_ended_at),
            "new": format_instant(change.new_ended_at),
        }
        if change.old_ended_at == change.new_ended_at:
            # Translators: "extended ann@example.com in python-basics: access ends <instant>".
            return gettext("%(verb)s %(where)s: access ends %(old)s") % values
        return gettext("%(verb)s %(where)s: access ends %(old)s -> %(new)s") % values
