"""Running a bulk operation over many enrollments in batches: the engine of extend_access,
pause_membership and resume_membership.

Each batch of ids is one call of the bulk service, so one transaction: a crash or a Ctrl-C
loses at most the batch in flight, and the rows locked at a time stay few. The selection's
filter is applied again inside each call (the service locks `filter & pk in batch`), so a row
that stopped matching since the ids were read is left alone. The batches share the reporting:
one progress bar, one summary, one list of failed rows.
"""

import sys
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import QuerySet

from enrollments import clock, selectors, services
from enrollments.errors import DomainError
from enrollments.management.output import (
    Progress,
    RowFailure,
    describe_error,
    enrollment_label,
    format_instant,
    progress,
)
from enrollments.models import AccessChange, Enrollment
from enrollments.rules import ExtensionRequest, PlannedChange, Skipped
from enrollments.services import BulkResult
from enrollments.services.locking import CHUNK_SIZE
from lms.batching import chunked
from lms.models import User

#: Enrollments per bulk-service call (one transaction): the services' own chunk size.
DEFAULT_BATCH_SIZE = CHUNK_SIZE

Plan = tuple[list[PlannedChange], list[Skipped]]


class Operation(ABC):
    """One change applied to many enrollments: the real call and its dry run."""

    #: What is done, for "would <verb> ..." and "<done> ..." lines.
    verb: str
    done: str

    @abstractmethod
    def describe(self) -> str: ...

    @abstractmethod
    def apply(
        self,
        queryset: QuerySet[Enrollment],
        *,
        actor: User | None,
        reason: str,
        batch_id: uuid.UUID,
    ) -> BulkResult:
        """The bulk service call (one transaction); every batch of a run shares `batch_id`."""

    @abstractmethod
    def preview(self, queryset: QuerySet[Enrollment]) -> Plan:
        """The same decision, without writing."""


@dataclass(frozen=True, slots=True)
class Extend(Operation):
    days: int | None = None
    until: datetime | None = None
    indefinite: bool = False
    verb, done = "extend", "extended"

    def _request(self) -> ExtensionRequest:
        return ExtensionRequest(days=self.days, until=self.until, indefinite=self.indefinite)

    def describe(self) -> str:
        if self.indefinite:
            return "grant indefinite access"
        if self.until is not None:
            return f"set the end of access to {format_instant(self.until)}"
        return f"extend access by {self.days} days"

    def validate(self) -> None:
        self._request().validate(now=clock.now())

    def apply(self, queryset, *, actor, reason, batch_id):
        return services.enrollments_extend_access_bulk(
            queryset=queryset,
            days=self.days,
            until=self.until,
            indefinite=self.indefinite,
            actor=actor,
            source=AccessChange.Source.COMMAND,
            reason=reason,
            batch_id=batch_id,
        )

    def preview(self, queryset):
        return selectors.extension_preview(
            queryset=queryset, days=self.days, until=self.until, indefinite=self.indefinite
        )


@dataclass(frozen=True, slots=True)
class StateChange(Operation):
    """Pausing or resuming: no parameters, just a bulk service and its preview."""

    verb: str
    done: str
    service: Callable[..., BulkResult]
    previewer: Callable[..., Plan]

    def describe(self) -> str:
        return self.verb

    def apply(self, queryset, *, actor, reason, batch_id):
        return self.service(
            queryset=queryset,
            actor=actor,
            source=AccessChange.Source.COMMAND,
            reason=reason,
            batch_id=batch_id,
        )

    def preview(self, queryset):
        return self.previewer(queryset=queryset)


PAUSE = StateChange(
    verb="pause",
    done="paused",
    service=services.enrollments_pause_bulk,
    previewer=selectors.pause_preview,
)
RESUME = StateChange(
    verb="resume",
    done="resumed",
    service=services.enrollments_resume_bulk,
    previewer=selectors.resume_preview,
)


@dataclass(slots=True)
class Target:
    """Enrollments that get the same operation.

    `queryset` is the selection's filter, checked again at lock time; `ids` are the enrollments
    it matched when read. CSV input gives each id the row it came from (`where`, `line`).
    """

    operation: Operation
    ids: Sequence[object]
    queryset: QuerySet[Enrollment] = field(default_factory=Enrollment.objects.all)
    where: dict[object, str] = field(default_factory=dict)
    lines: dict[object, int] = field(default_factory=dict)


@dataclass(slots=True)
class Outcome:
    """The totals of a run over all its targets and batches."""

    total: int = 0
    changed: int = 0
    unchanged: int = 0
    failures: list[RowFailure] = field(default_factory=list)


def enrollment_labels(ids: Sequence[object]) -> dict[object, str]:
    """`learner@example.com in course-slug` for each id: one query per call."""
    rows = Enrollment.objects.filter(pk__in=list(ids)).values_list(
        "pk", "user__email", "course__slug"
    )
    return {pk: enrollment_label(email, slug) for pk, email, slug in rows}


class BulkRun:
    """Runs targets batch by batch, printing changes (dry run, or verbosity 2) as it goes."""

    def __init__(
        self,
        *,
        stdout,
        actor: User | None,
        reason: str,
        dry_run: bool,
        batch_size: int = DEFAULT_BATCH_SIZE,
        show_changes: bool = False,
    ) -> None:
        self.stdout = stdout
        self.actor, self.reason, self.dry_run = actor, reason, dry_run
        # A huge --batch-size means one batch; islice (chunked) takes at most sys.maxsize.
        self.batch_size = min(batch_size, sys.maxsize)
        self.show_changes = show_changes or dry_run
        self.outcome = Outcome()
        #: One audit batch id for the whole run, however many transactions it takes.
        self.batch_id = uuid.uuid4()

    def run(self, targets: Sequence[Target]) -> Outcome:
        self.outcome.total += sum(len(target.ids) for target in targets)
        with progress(self.stdout, total=self.outcome.total) as bar:
            for target in targets:
                for batch in chunked(target.ids, self.batch_size):
                    self._run_batch(target, batch, bar)
                    bar.update(len(batch))
        return self.outcome

    def _run_batch(self, target: Target, batch: Sequence[object], bar: Progress) -> None:
        queryset = target.queryset.filter(pk__in=batch)
        try:
            if self.dry_run:
                changes, skipped = target.operation.preview(queryset)
            else:
                result = target.operation.apply(
                    queryset, actor=self.actor, reason=self.reason, batch_id=self.batch_id
                )
                changes, skipped = result.changed, result.skipped
        except DomainError as error:  # the request is invalid for every row of the batch
            changes, skipped = [], [Skipped(pk, error) for pk in batch]
        self.outcome.changed += len(changes)
        self.outcome.unchanged += len(batch) - len(changes) - len(skipped)
        shown = [change.enrollment_id for change in changes] if self.show_changes else []
        labels = self._labels(target, shown + [skip.enrollment_id for skip in skipped])
        for change in changes if self.show_changes else ():
            bar.write(self._change_line(target.operation, change, labels))
        for skip in skipped:
            self.outcome.failures.append(
                RowFailure(
                    where=labels.get(skip.enrollment_id, f"enrollment {skip.enrollment_id}"),
                    reason=describe_error(skip.error),
                    line=target.lines.get(skip.enrollment_id, 0),
                )
            )

    def _labels(self, target: Target, ids: list[object]) -> dict[object, str]:
        missing = [pk for pk in ids if pk not in target.where]
        labels = enrollment_labels(missing) if missing else {}
        labels.update((pk, target.where[pk]) for pk in ids if pk in target.where)
        return labels

    def _change_line(self, operation: Operation, change: PlannedChange, labels) -> str:
        verb = f"would {operation.verb}" if self.dry_run else operation.done
        where = labels.get(change.enrollment_id, f"enrollment {change.enrollment_id}")
        if change.old_ended_at == change.new_ended_at:
            return f"{verb} {where}: access ends {format_instant(change.old_ended_at)}"
        return (
            f"{verb} {where}: access ends {format_instant(change.old_ended_at)} -> "
            f"{format_instant(change.new_ended_at)}"
        )
