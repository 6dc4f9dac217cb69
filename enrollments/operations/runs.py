"""Runs: an operation applied to a large selection in chunks, by a background job or a command,
resumable after any crash, every row changed at most once with one audit row.

`apply(batch_size=...)` commits part by part but keeps no record of which parts committed: a
command killed half way and run again changed the first rows twice (issue 23). A run writes
its selection down first as chunks (`OperationRunChunk`, packed by run_chunks.py, in key
order, or in the table's physical order on PostgreSQL; `start`), then `advance` applies it a
chunk at a time. Each chunk is one transaction that

1. takes the run's next chunk not done (`FOR UPDATE SKIP LOCKED`: two runners of one run, such
   as a worker and `--resume`, or a worker and the job the sweep queued again, take different
   chunks and never the same chunk twice),
2. applies the operation to them through the core's `apply` (locks in key order, re-plans
   under the lock, set-based writes, audit rows with the run's one `batch_id`); for a run
   bound to its preview (an admin Confirm) the core skips, on that locked read, every
   enrollment whose `updated_at` moved since the selection was written down
   (ENROLLMENT_CHANGED_SINCE_PREVIEW: never changed to something that was not shown),
3. marks the chunk done with its counts and skipped rows, and adds to the run's counters.

A kill at any point rolls back the chunk in flight; it is still not done and the next
`advance` takes it. "Undo this batch" undoes every chunk: they share the batch id.

The selection is written down with its filter, so a row that stopped matching it since is left
alone (unchanged), as `apply(batch_size=...)` does. A filter is kept as its pickled
`QuerySet.query` (Django's documented way to keep a queryset); named selections need only
their rows.

Doors: the admin's Confirm above `RUNS["BACKGROUND_ABOVE"]` rows, a command (every run, so its
default run resumes too, and `--background`), the jobs (enrollments/jobs/runs.py), `manage.py
jobs`. They start, queue, resume, cancel and show runs through this module only.
"""

import base64
import pickle
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields, replace
from datetime import datetime, timedelta

from django.conf import settings
from django.db import (
    IntegrityError,
    InterfaceError,
    OperationalError,
    transaction,
)
from django.db.models import Exists, F, OuterRef, QuerySet
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_noop

from enrollments import clock
from enrollments.errors import (
    DomainError,
    Phrase,
    RunNotFound,
    RunUnfinished,
)
from enrollments.models import Enrollment, OperationRun, OperationRunChunk
from enrollments.operations import run_chunks
from enrollments.operations.access import Extend
from enrollments.operations.audit import Attribution
from enrollments.operations.base import Operation, Plan
from enrollments.operations.collector import cyclic_gc_paused
from enrollments.operations.core import apply, reads_one_table
from enrollments.operations.expiring import Expire
from enrollments.operations.pausing import Pause, Resume
from enrollments.operations.removing import Remove
from enrollments.operations.scope import actor_now, actor_scope
from enrollments.operations.selection import Selection
from enrollments.operations.shortening import Shorten
from enrollments.operations.undoing import Undo
from enrollments.retry import retry_on_conflict

State = OperationRun.State

#: The states a run can still move on from; `finished_at` is empty in them.
UNFINISHED = (State.PREVIEWED, State.QUEUED, State.RUNNING, State.FAILED)

#: The operations a run can hold: those applied to a selection of enrollments.
OPERATIONS: dict[str, type[Operation]] = {
    cls.__name__: cls for cls in (Extend, Expire, Shorten, Pause, Resume, Remove, Undo)
}

DEFAULTS = {
    # An admin Confirm of more rows than this runs in the background (a job).
    "BACKGROUND_ABOVE": 5000,
    # Rows per chunk (one transaction each), fixed when the selection is written down.
    "CHUNK_SIZE": 2000,
    # A running run whose runner committed nothing for this long lost it (a worker killed):
    # the sweep queues it again.
    "STALE_AFTER_SECONDS": 120,
    # A draft (a preview nobody confirmed) is deleted by the sweep after this long.
    "DRAFTS_KEPT_SECONDS": 24 * 3600,
}


def run_setting(name: str) -> int:
    """`settings.RUNS[name]`, else its default (read on each call: tests override it)."""
    return int(getattr(settings, "RUNS", {}).get(name, DEFAULTS[name]))


# -- what a run holds ------------------------------------------------------------------------


def operation_to_json(operation: Operation) -> dict:
    """The operation as JSON: its class name and its fields (datetimes ISO 8601, UUIDs text)."""
    values: dict[str, object] = {"kind": type(operation).__name__}
    for field in fields(operation):
        if not field.init:  # derived from the others (Extend.request)
            continue
        value = getattr(operation, field.name)
        if isinstance(value, datetime):
            value = {"datetime": value.isoformat()}
        elif isinstance(value, uuid.UUID):
            value = {"uuid": str(value)}
        values[field.name] = value
    return values


def operation_from_json(data: dict) -> Operation:
    """The operation `operation_to_json` wrote."""
    values = dict(data)
    cls = OPERATIONS[values.pop("kind")]
    for name, value in values.items():
        if isinstance(value, dict) and "datetime" in value:
            values[name] = datetime.fromisoformat(value["datetime"])
        elif isinstance(value, dict) and "uuid" in value:
            values[name] = uuid.UUID(value["uuid"])
    return cls(**values)


@dataclass(frozen=True, slots=True)
class Part:
    """One operation of a run and how its selection was made (a CSV's rows may ask for
    different operations: one part each). `query`: a filter's pickled `QuerySet.query`."""

    operation: Operation
    query: bytes | None = None

    @classmethod
    def of(cls, operation: Operation, selection: Selection) -> "Part":
        if selection.named_rule:
            return cls(operation)
        return cls(operation, pickle.dumps(selection.queryset.query))

    def to_json(self) -> dict:
        query = base64.b64encode(self.query).decode() if self.query is not None else None
        return {"operation": operation_to_json(self.operation), "query": query}

    @classmethod
    def from_json(cls, data: dict) -> "Part":
        query = base64.b64decode(data["query"]) if data["query"] is not None else None
        return cls(operation_from_json(data["operation"]), query)

    def selection_of(self, ids: Sequence[uuid.UUID]) -> Selection:
        """The part's selection among `ids`, named as it was (a filter applies again)."""
        if self.query is None:
            return Selection.named(ids)
        queryset = Enrollment.objects.all()
        queryset.query = pickle.loads(self.query)  # noqa: S301 -- written by start(), our own row
        return Selection.by_filter(queryset).narrowed(ids)


def parts_of(run: OperationRun) -> list[Part]:
    return [Part.from_json(data) for data in run.parts]


# -- starting --------------------------------------------------------------------------------


def start(
    parts: Sequence[tuple[Operation, Selection]],
    by: Attribution,
    *,
    bound_to_preview: bool = False,
    identity: str = "",
    state: State = State.QUEUED,
    chunk_size: int | None = None,
) -> OperationRun:
    """Writes a run down: the run with its operations, and each selection's enrollments with
    the `updated_at` each has now, in chunks of `chunk_size` (default RUNS["CHUNK_SIZE"]; in
    the order run_chunks.py gives). `state` PREVIEWED makes a draft that
    `confirm` queues (the admin writes it down before its preview, so the rows are bound to
    what the preview read: see `advance`).

    `identity` (a command's request): refused with RunUnfinished naming the run while an
    identical one is unfinished (a database constraint, so two at once cannot both start).
    Raises the operations' request-level DomainError before writing anything."""
    now = clock.now()
    for operation, _selection in parts:
        operation.validate(now=now)
    try:
        with transaction.atomic():
            run = OperationRun.objects.create(
                parts=[Part.of(operation, selection).to_json() for operation, selection in parts],
                description="; ".join(operation.describe() for operation, _ in parts),
                state=state,
                bound_to_preview=bound_to_preview,
                identity=identity,
                batch_id=by.batch_id or uuid.uuid4(),
                actor=by.actor,
                source=by.source,
                reason=by.reason,
                created_at=now,
            )
            size, seq = chunk_size or run_setting("CHUNK_SIZE"), 0
            freezing: set[str] = set()
            for index, (operation, selection) in enumerate(parts):
                # Only the rows the actor may act on are written down (operations/scope.py).
                scoped = selection.within(actor_scope(by.actor, operation.permission))
                written, seq = _write(run, index, scoped, size=size, first_seq=seq)
                run.total += written
                if bound_to_preview:
                    freezing |= _freezing_courses(scoped)
            run.freezing_courses = sorted(freezing) if bound_to_preview else None
            run.save(update_fields=["total", "freezing_courses"])
    except IntegrityError:
        unfinished = unfinished_twin(identity) if identity else None
        if unfinished is None:
            raise
        raise RunUnfinished(_run_phrase(unfinished.pk), run_id=unfinished.pk) from None
    return run


def unfinished_twin(identity: str) -> OperationRun | None:
    """The unfinished run of this identity, if any."""
    return OperationRun.objects.filter(identity=identity, finished_at__isnull=True).first()


def _write(
    run: OperationRun, part: int, selection: Selection, *, size: int, first_seq: int
) -> tuple[int, int]:
    """Writes the selection's rows down (within its scope) as the part's chunks."""
    if selection.ids is not None:
        rows = run_chunks.rows_named(selection.ids, selection.in_scope(Enrollment.objects.all()))
        return run_chunks.write(run, part, rows, size=size, first_seq=first_seq)
    return run_chunks.write_filter(run, part, _filtered(selection), size=size, first_seq=first_seq)


def _filtered(selection: Selection) -> QuerySet[Enrollment]:
    """A filter selection's enrollments within its scope, each once."""
    queryset = selection.queryset
    if not reads_one_table(queryset):
        # Joins of a changelist's filters may repeat a row: its ids, once each.
        queryset = Enrollment.objects.filter(pk__in=queryset.values("pk"))
    return selection.in_scope(queryset)


def _freezing_courses(selection: Selection) -> set[str]:
    """The ids of the selection's courses that freeze access during pauses now: one probe of
    the selection per such course (few), not a pass over its rows."""
    from lms.models import Course  # lms.models imports the core's model mixins

    if selection.ids is not None:
        rows = selection.in_scope(Enrollment.objects.filter(pk__any_of=selection.ids))
    else:
        rows = _filtered(selection)
    courses = Course.objects.filter(pause_freezes_access=True).filter(
        Exists(rows.filter(course_id=OuterRef("pk")))
    )
    return {str(pk) for pk in courses.values_list("pk", flat=True)}


def confirm(run_id: uuid.UUID, by: Attribution) -> OperationRun:
    """Queues a PREVIEWED run as `by` confirmed it (their reason). Only its own author may:
    anyone else, or a run no longer a draft, is RunNotFound (a second Confirm of one preview
    queues nothing twice)."""
    with transaction.atomic():
        run = (
            OperationRun.objects.select_for_update()
            .filter(pk=run_id, state=State.PREVIEWED, actor=by.actor)
            .first()
        )
        if run is None:
            raise RunNotFound(_run_phrase(run_id))
        run.state, run.reason, run.batch_id = State.QUEUED, by.reason, by.batch_id or run.batch_id
        run.save(update_fields=["state", "reason", "batch_id"])
    return run


# -- running ---------------------------------------------------------------------------------


@dataclass(slots=True)
class Chunk:
    """What one chunk did: the core's plan of its rows (changed, skipped with reasons,
    unchanged), for a door to report as it goes."""

    run: OperationRun
    plan: Plan


def advance(
    run_id: uuid.UUID,
    *,
    on_chunk: Callable[[Chunk], None] | None = None,
    resume_failed: bool = True,
) -> OperationRun:
    """Applies the run's chunks not done, one per transaction, until none is left (DONE),
    a cancel was asked (CANCELLED: what committed stays, undoable), or something fails
    (FAILED, with the error: the chunk in flight rolled back, `advance` again resumes). A
    deadlock is retried (retry.py); a database that went away leaves the run RUNNING for the
    sweep. A run
    already finished is returned as it is; so is a draft (PREVIEWED: nobody confirmed it), and
    a FAILED run unless `resume_failed` (a command's --resume; a job resumes only what staff
    retried, which queues it: a second job the sweep queued before the failure must not
    resume it unasked). Raises RunNotFound."""
    run = _take(run_id, resume_failed=resume_failed)
    if run.state not in (State.RUNNING,):
        return run
    parts = parts_of(run)
    by = Attribution(run.actor, run.source, run.reason, run.batch_id)
    try:
        more = True
        while more:
            # The collector paused for the whole chunk, reported included, not only for the
            # core's part of it: the chunk's ids, query, plan and skips are freed with
            # _advance_one's frame, before the collector runs again (collector.py).
            with cyclic_gc_paused():
                more = _advance_one(run, parts, by, on_chunk)
    except DomainError as error:  # the request went invalid (an --until that passed)
        _fail(run, f"{error.code}: {error.message}")
        raise
    except (OperationalError, InterfaceError, SystemExit, KeyboardInterrupt):
        # The database went away (restarted, a connection cut), or the runner is being
        # stopped (a worker's second stop signal, Ctrl-C): the run stays RUNNING, and the
        # sweep queues it again once it is stale, as for a runner killed with -9. A run marked
        # FAILED would wait for staff's Retry instead.
        raise
    except BaseException as error:
        _fail(run, f"{type(error).__name__}: {error}")
        raise
    run.refresh_from_db()
    return run


def _advance_one(
    run: OperationRun,
    parts: Sequence[Part],
    by: Attribution,
    on_chunk: Callable[[Chunk], None] | None,
) -> bool:
    """One chunk applied (and reported), or the run finished: whether to go on."""
    if OperationRun.objects.filter(pk=run.pk, cancel_requested=True).exists():
        _finish_cancelled(run)
        return False
    chunk = retry_on_conflict(_apply_chunk)(run, parts, by)
    if chunk is None:
        if not OperationRunChunk.objects.filter(run=run, done=False).exists():
            _finish(run, State.DONE)
        return False  # else: another runner holds the last chunk and finishes the run
    if on_chunk is not None:
        on_chunk(chunk)
    return True


def _take(run_id: uuid.UUID, *, resume_failed: bool) -> OperationRun:
    """The run, now RUNNING (queued or running ones, and failed ones when `resume_failed`; a
    running one may have lost its runner, and two runners share a run safely)."""
    now = clock.now()
    takes = (State.QUEUED, State.RUNNING, *((State.FAILED,) if resume_failed else ()))
    with transaction.atomic():
        run = OperationRun.objects.select_for_update().filter(pk=run_id).first()
        if run is None:
            raise RunNotFound(_run_phrase(run_id))
        if run.state in takes:
            run.state, run.heartbeat_at, run.error = State.RUNNING, now, ""
            run.started_at = run.started_at or now
            run.save(update_fields=["state", "heartbeat_at", "error", "started_at"])
    return run


def _apply_chunk(run: OperationRun, parts: Sequence[Part], by: Attribution) -> Chunk | None:
    with transaction.atomic():
        # Of a run not finished: a runner that finished it cancelled (_finish_cancelled) held
        # every chunk not done while it did, so none is taken from a run cancelled meanwhile.
        taken = (
            OperationRunChunk.objects.filter(run=run, done=False, run__finished_at__isnull=True)
            .order_by("seq")
            .select_for_update(skip_locked=True, of=("self",))
            .first()
        )
        if taken is None:
            return None
        rows = run_chunks.rows_of(taken)
        ids = rows.ids
        # Bound to its preview: the core skips, on its one locked read, every row whose
        # updated_at is not the one written down (ENROLLMENT_CHANGED_SINCE_PREVIEW).
        snapshot = rows.updated_at() if run.bound_to_preview else None
        recorded = run.freezing_courses if snapshot is not None else None
        freezing = None if recorded is None else {uuid.UUID(pk) for pk in recorded}
        part = parts[taken.part]
        # Its actor as they are now (a role revoked since the last chunk stops this one).
        by = replace(by, actor=actor_now(by.actor))
        plan = apply(
            part.operation, part.selection_of(ids), by, snapshot=snapshot, freezing=freezing
        )
        decided = {c.enrollment_id for c in plan.changes} | {s.enrollment_id for s in plan.skips}
        decided |= set(plan.unchanged)
        plan.unchanged += [pk for pk in ids if pk not in decided]
        _record(run, taken, plan)
    return Chunk(run, plan)


def _record(run: OperationRun, chunk: OperationRunChunk, plan: Plan) -> None:
    """The chunk done, with its counts and skipped rows, and the run's counters, in the
    chunk's transaction: two UPDATEs whatever the chunk's size."""
    skips = sorted((str(skip.enrollment_id), skip.error.code) for skip in plan.skips)
    OperationRunChunk.objects.filter(run=run, seq=chunk.seq).update(
        done=True,
        changed=len(plan.changes),
        skipped=len(plan.skips),
        unchanged=len(plan.unchanged),
        skips=[list(skip) for skip in skips],
    )
    OperationRun.objects.filter(pk=run.pk).update(
        changed=F("changed") + len(plan.changes),
        skipped=F("skipped") + len(plan.skips),
        unchanged=F("unchanged") + len(plan.unchanged),
        heartbeat_at=clock.now(),
    )


def _finish(run: OperationRun, state: State) -> None:
    OperationRun.objects.filter(pk=run.pk, finished_at__isnull=True).update(
        state=state, finished_at=clock.now()
    )


def _finish_cancelled(run: OperationRun) -> None:
    """The run CANCELLED, unless another runner's chunk is in flight: a finished run's batch
    may be undone at once, and a chunk committing after the undo's read would stay changed
    under that batch. So the chunks not done are locked first (SKIP LOCKED); one held by a
    runner leaves the finish to that runner, which sees the cancel before its next chunk (a
    runner killed meanwhile: the sweep queues the run again, and its next runner finishes it).
    Held here, none can be taken (`_apply_chunk` checks the run is not finished under its
    chunk's lock)."""
    with transaction.atomic():
        pending = OperationRunChunk.objects.filter(run=run, done=False)
        free = len(pending.select_for_update(skip_locked=True).values_list("seq", flat=True))
        if free == pending.count():
            _finish(run, State.CANCELLED)


def _fail(run: OperationRun, error: str) -> None:
    OperationRun.objects.filter(pk=run.pk, finished_at__isnull=True).update(
        state=State.FAILED, error=error[:2000]
    )


# -- staff's and operators' controls ---------------------------------------------------------


def cancel(run_id: uuid.UUID) -> OperationRun:
    """Asks the run to stop between chunks (what committed stays, undoable); a run not running
    yet stops at once. Raises RunNotFound, also for a draft (an admin preview nobody confirmed
    is no job: cancelled, it would show as one and outlive the drafts' clean-up); a finished
    run is returned as it is."""
    with transaction.atomic():
        run = (
            OperationRun.objects.select_for_update()
            .filter(pk=run_id)
            .exclude(state=State.PREVIEWED)
            .first()
        )
        if run is None:
            raise RunNotFound(_run_phrase(run_id))
        if run.finished_at is None:
            run.cancel_requested = True
            fields_ = ["cancel_requested"]
            if run.state != State.RUNNING:
                run.state, run.finished_at = State.CANCELLED, clock.now()
                fields_ += ["state", "finished_at"]
            run.save(update_fields=fields_)
    return run


def stale(now: datetime | None = None) -> list[OperationRun]:
    """Runs that lost their runner: RUNNING with no chunk committed for STALE_AFTER_SECONDS
    (a worker or command killed), or QUEUED that long without a runner taking it (its job was
    lost). The sweep queues them again (`mark_requeued`); a duplicate runner is harmless (see
    the module)."""
    cutoff = (now or clock.now()) - timedelta(seconds=run_setting("STALE_AFTER_SECONDS"))
    return list(
        OperationRun.objects.filter(
            finished_at__isnull=True, state__in=(State.RUNNING, State.QUEUED)
        )
        .annotate(seen=Coalesce("heartbeat_at", "created_at"))
        .filter(seen__lt=cutoff)
    )


def requeue(run_id: uuid.UUID) -> OperationRun:
    """Puts an unfinished run back in the queue (a FAILED one retried by staff, a stale one):
    QUEUED, its stale clock restarted, so that if its new job is lost too the sweep finds it
    again. The caller queues the job (enrollments.jobs.runs.retry does both). A finished run
    is returned as it is. Raises RunNotFound."""
    with transaction.atomic():
        run = OperationRun.objects.select_for_update().filter(pk=run_id).first()
        if run is None:
            raise RunNotFound(_run_phrase(run_id))
        if run.finished_at is None and run.state != State.PREVIEWED:
            run.state, run.heartbeat_at, run.error = State.QUEUED, clock.now(), ""
            run.save(update_fields=["state", "heartbeat_at", "error"])
    return run


def discard_old_drafts(now: datetime | None = None) -> int:
    """Deletes the drafts (PREVIEWED runs: a preview nobody confirmed) older than
    DRAFTS_KEPT_SECONDS, with their chunks; returns how many. The admin writes one per preview of
    a large selection; staff who leave the page never confirm it."""
    cutoff = (now or clock.now()) - timedelta(seconds=run_setting("DRAFTS_KEPT_SECONDS"))
    with transaction.atomic():
        # Locked first (a draft being confirmed now is skipped: `confirm` locks it too), so a
        # Confirm and this delete never cross; the chunks go with their run.
        old = list(
            OperationRun.objects.filter(state=State.PREVIEWED, created_at__lt=cutoff)
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)
        )
        return OperationRun.objects.filter(pk__in=old).delete()[1].get(OperationRun._meta.label, 0)


def mark_requeued(run: OperationRun) -> None:
    """Restarts the run's stale clock: queued again, it is not stale again before its time."""
    OperationRun.objects.filter(pk=run.pk).update(heartbeat_at=clock.now())


def skipped_rows(run: OperationRun, *, limit: int = 100) -> Iterable[tuple[uuid.UUID, str]]:
    """The run's skipped enrollments and their reasons' codes (the first `limit`, in the order
    the run applied them)."""
    found: list[tuple[uuid.UUID, str]] = []
    chunks = (
        OperationRunChunk.objects.filter(run=run, done=True, skipped__gt=0)
        .order_by("seq")
        .values_list("skips", flat=True)
    )
    for skips in chunks.iterator(chunk_size=10):
        found += [(uuid.UUID(pk), code) for pk, code in skips[: limit - len(found)]]
        if len(found) >= limit:
            break
    return found


def _run_phrase(run_id: object) -> Phrase:
    """How a run error's detail names the run ("run 12"), in the reader's language at a door."""
    # Translators: a background run named in an error's detail: "run 12".
    return Phrase(gettext_noop("run %(run)s"), run=run_id)
