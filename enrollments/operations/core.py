"""`preview` and `apply`: the one place where an operation meets the database."""

import functools
import hashlib
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, fields, replace
from datetime import datetime

from django.core.exceptions import EmptyResultSet
from django.db import NotSupportedError, connections, router, transaction
from django.db.models import QuerySet

from enrollments import clock
from enrollments.errors import (
    ChangedSincePreview,
    CourseNotFound,
    EnrollmentChangedSincePreview,
    MembershipNotFound,
)
from enrollments.events.records import event_rows, save_events
from enrollments.models import Enrollment
from enrollments.operations import limits
from enrollments.operations.audit import Attribution, save_audit_rows
from enrollments.operations.base import Operation, Plan, Row, Skip, State
from enrollments.operations.collector import cyclic_gc_paused
from enrollments.operations.scope import actor_now, actor_scope
from enrollments.operations.selection import Selection
from enrollments.operations.writing import audit_rows
from lms.batching import BATCH_SIZE, chunked

#: Rows per UPDATE / INSERT statement: large enough to be set-based, small enough for SQLite's
#: bound-parameter limit and for steady memory.
CHUNK_SIZE = BATCH_SIZE

#: The columns a Row is read from: its own, then the State fields (columns of the same names).
_ROW_COLUMNS = (
    "pk",
    "user_id",
    "course_id",
    "start_at",
    "course__pause_freezes_access",
    "updated_at",
)
_STATE_COLUMNS = tuple(field.name for field in fields(State))


def preview(operation: Operation, selection: Selection, *, reason: str = "") -> Plan:
    """What `apply` would do to `selection` now, without locking or writing: the admin's
    preview page and the commands' `--dry-run`. Raises the operation's request-level
    DomainError (e.g. InvalidExtensionPeriod) before reading anything. `reason`: the one the
    change will be made with (a course may require one of its staff: operations/limits.py)."""
    now = clock.now()
    operation.validate(now=now)
    return _plan(operation, selection, now=now, lock=False, reason=reason)


def apply(
    operation: Operation,
    selection: Selection,
    by: Attribution,
    *,
    expected: str | None = None,
    snapshot: Mapping[uuid.UUID, datetime | None] | None = None,
    freezing: frozenset[uuid.UUID] | set[uuid.UUID] | None = None,
    batch_size: int | None = None,
    on_batch: Callable[[Plan, Sequence[uuid.UUID]], None] | None = None,
) -> Plan:
    """Applies `operation` to `selection` and writes one audit row per change, attributed to
    `by`, all sharing one `batch_id` (by's, else a new one).

    In one transaction: locks the rows in primary-key order, reads the clock after the lock,
    plans again under the lock, writes with set-based SQL, the audit rows and the events
    (enrollments/events/records.py). With `expected`
    (the fingerprint of the plan a door showed: the admin's Confirm), a plan that differs under
    the lock writes nothing and raises ChangedSincePreview carrying the new plan, so a preview
    confirmed twice applies once.

    With `snapshot` (each row's `updated_at` as a preview read it: a run bound to its preview,
    runs.py) a locked row whose `updated_at` differs is skipped with
    EnrollmentChangedSincePreview and not planned: never changed to something the preview did
    not show, checked on the one locked read. With it, `freezing` (the courses that froze
    access during pauses when the preview read them) skips as well a row whose course changed
    that since: the row is as it was, its plan would not be (a resume moving the end or not).

    With `batch_size` the selection is applied in parts of that many rows, one transaction
    each (a command over 100,000 rows: a crash loses one part, few rows are locked at a time);
    `on_batch(part, ids)` is called after each. Parts cannot be checked against one preview, so
    `expected` is refused then.
    """
    operation.validate(now=clock.now())
    by = replace(by, batch_id=by.batch_id or uuid.uuid4())
    if batch_size is None:
        return _apply_locked(
            operation, selection, by, expected=expected, snapshot=snapshot, freezing=freezing
        )
    if expected is not None or snapshot is not None:
        raise ValueError("a plan applied in batches cannot be checked against one preview")
    result = Plan(operation, batch_id=by.batch_id)
    for number, ids in enumerate(chunked(selection.ids_in_order(), batch_size)):
        if number:  # the actor as they are now: a role revoked meanwhile stops the next part
            by = replace(by, actor=actor_now(by.actor))
        part = _apply_locked(operation, selection.narrowed(ids), by, expected=None, snapshot=None)
        # A row that stopped matching the filter since the ids were read is left alone.
        decided = {c.enrollment_id for c in part.changes} | {s.enrollment_id for s in part.skips}
        part.unchanged += [pk for pk in ids if pk not in decided and pk not in part.unchanged]
        result.add(part)
        if on_batch is not None:
            on_batch(part, ids)
    return result


def apply_together(
    parts: Sequence[tuple[Operation, Selection]], by: Attribution, *, expected: str
) -> list[Plan]:
    """Applies several (operation, selection) parts (a CSV whose rows ask for different
    changes) in one transaction, all or nothing, checked as a whole against `expected`, the
    `fingerprint_of` their previews (a command's dry run): a difference in any part writes
    nothing and raises ChangedSincePreview.

    Every part's rows are locked first, together, in primary-key order (`_lock_parts`); then
    each part is planned and written as `apply` does (its own lock of rows already held costs
    nothing). Locked part by part, two such calls naming the same enrollments in parts of
    opposite order would each hold a row of its first part that the other's first part waits
    for: a deadlock, and the command's --expect path does not retry one."""
    now = clock.now()
    for operation, _selection in parts:
        operation.validate(now=now)
    by = replace(by, batch_id=by.batch_id or uuid.uuid4())
    with transaction.atomic():
        _lock_parts(parts, by)
        plans = [
            _apply_locked(op, selection, by, expected=None, snapshot=None)
            for op, selection in parts
        ]
        if fingerprint_of(plans) != expected:
            raise ChangedSincePreview()
    return plans


def _lock_parts(parts: Sequence[tuple[Operation, Selection]], by: Attribution) -> None:
    """Locks the union of the parts' rows in primary-key order, in one statement (the
    caller's transaction holds the locks). Each part's rows are those `_apply_locked` would
    lock: its selection within its actor's scope for its permission, read here without a lock
    (a row matching a filter only later is locked by its part, as in `apply`). Nothing to do
    on a database without row locks (SQLite: one writer at a time) or for a single part."""
    if (
        len(parts) < 2
        or not connections[router.db_for_write(Enrollment)].features.has_select_for_update
    ):
        return
    ids: set[uuid.UUID] = set()
    for operation, selection in parts:
        selection = selection.within(actor_scope(by.actor, operation.permission))
        if selection.ids is not None:
            rows = selection.in_scope(Enrollment.objects.filter(pk__any_of=selection.ids))
            ids.update(rows.values_list("pk", flat=True))
        else:
            ids.update(selection.ids_in_order())
    if ids:
        locked = Enrollment.objects.filter(pk__any_of=sorted(ids)).order_by("pk")
        list(locked.select_for_update(of=("self",)).values_list("pk", flat=True))


def fingerprint_of(plans: Sequence[Plan]) -> str:
    """One fingerprint for the plans of several parts, in order."""
    return hashlib.sha256("|".join(plan.fingerprint() for plan in plans).encode()).hexdigest()


def _apply_locked(
    operation: Operation,
    selection: Selection,
    by: Attribution,
    *,
    expected: str | None,
    snapshot: Mapping[uuid.UUID, datetime | None] | None,
    freezing: frozenset[uuid.UUID] | set[uuid.UUID] | None = None,
) -> Plan:
    # Whatever scope the door gave, the actor acts only where they may (operations/scope.py).
    selection = selection.within(actor_scope(by.actor, operation.permission))
    with cyclic_gc_paused(), transaction.atomic():
        # Locks first; the clock is read after the lock so that audit rows follow the order the
        # changes happened in, and a pause is timed from when it happened.
        rows = _read_rows(selection, lock=True)
        now = clock.now()
        moved = [] if snapshot is None else _moved_since(rows, snapshot, freezing)
        if moved:
            gone = set(moved)
            rows = [row for row in rows if row.id not in gone]
        plan = _plan_rows(operation, selection, rows, now=now, reason=by.reason, moved=moved)
        plan.skips += [Skip(pk, EnrollmentChangedSincePreview()) for pk in moved]
        if expected is not None and plan.fingerprint() != expected:
            raise ChangedSincePreview(plan=plan)
        scope = write_scope(selection)
        starts = {row.id: row.start_at for row in rows} if plan.changes else {}
        for chunk in chunked(plan.changes, _chunk_size(scope, plan)):
            operation.write(chunk, now=now, scope=scope)
            save_audit_rows(audit_rows(chunk, by=by, now=now))
            # The events for other systems, in the same transaction (enrollments/events).
            save_events(event_rows(chunk, batch_id=by.batch_id, now=now, start_at=starts))
    plan.batch_id, plan.applied_at = by.batch_id, now
    return plan


def _plan(operation: Operation, selection: Selection, *, now, lock: bool, reason: str) -> Plan:
    with cyclic_gc_paused():
        rows = _read_rows(selection, lock=lock)
        return _plan_rows(operation, selection, rows, now=now, reason=reason)


def _moved_since(
    rows: list[Row],
    snapshot: Mapping[uuid.UUID, datetime | None],
    freezing: frozenset[uuid.UUID] | set[uuid.UUID] | None,
) -> list:
    """The rows whose `updated_at` is not the one `snapshot` holds for them, or (`freezing`
    given) whose course's freezing of access during pauses is not what the preview read."""
    return [
        row.id
        for row in rows
        if row.id in snapshot
        and (
            row.updated_at != snapshot[row.id]
            or (freezing is not None and row.pause_freezes_access != (row.course_id in freezing))
        )
    ]


def _plan_rows(
    operation: Operation,
    selection: Selection,
    rows: list[Row],
    *,
    now,
    reason: str,
    moved: Sequence[uuid.UUID] = (),
) -> Plan:
    """The operation's plan of `rows` (with its facts), less the changes the course limits
    refuse the actor (limits.py), plus a MembershipNotFound skip for each named enrollment
    that does not exist (any more) or lies outside the selection's scope (`moved`: rows
    found but left out, not missing)."""
    facts = operation.read_facts([row.id for row in rows])
    if facts:
        rows = [replace(row, facts=facts.get(row.id)) for row in rows]
    plan = operation.plan(rows, now=now, named=selection.named_rule)
    if not selection.scope.everywhere:
        _refuse_new_outside(plan, selection)
    limits.enforce(plan, rows, selection.scope, reason=reason, now=now)
    if selection.ids is not None and len(rows) + len(moved) < len(selection.ids):
        found = {row.id for row in rows} | set(moved)
        plan.skips += [Skip(pk, MembershipNotFound()) for pk in selection.ids if pk not in found]
    return plan


def _refuse_new_outside(plan: Plan, selection: Selection) -> None:
    """Changes that create an enrollment (they carry its `course_id`: enrolling) in a course
    outside the scope become CourseNotFound skips: the actor may not enroll there."""
    kept = []
    for change in plan.changes:
        course_id = getattr(change, "course_id", None)
        if course_id is not None and not selection.scope.covers(course_id):
            plan.skips.append(Skip(change.enrollment_id, CourseNotFound()))
        else:
            kept.append(change)
    plan.changes = kept


def _read_rows(selection: Selection, *, lock: bool) -> list[Row]:
    """The selection's enrollments in primary-key order, locked when `lock`.

    The selection's queryset may carry joins, annotations or DISTINCT (an admin changelist
    does): it is then used only as a subquery of ids, so a lock applies to enrollment rows
    alone. A queryset of conditions on the enrollment table alone (a command's `--course`, a
    benchmark's id range) is read with its own WHERE: as `id IN (subquery)` PostgreSQL joins the
    subquery back to the whole table (a sequential scan of 1,000,000 rows to lock 20,000,
    docs/benchmarks.md).
    """
    if selection.ids is not None:
        rows: QuerySet = Enrollment.objects.filter(pk__any_of=selection.ids)
    elif reads_one_table(selection.queryset):
        rows = selection.queryset
    else:
        rows = Enrollment.objects.filter(pk__in=selection.queryset.values("pk"))
    rows = selection.in_scope(rows).order_by("pk").values_list(*_ROW_COLUMNS, *_STATE_COLUMNS)
    # Locking: every row is fetched (so locked) before the caller reads the clock.
    values = list(rows.select_for_update(of=("self",))) if lock else rows.iterator(5000)
    width = len(_ROW_COLUMNS)
    return [
        Row(
            id=value[0],
            user_id=value[1],
            course_id=value[2],
            start_at=value[3],
            pause_freezes_access=value[4],
            updated_at=value[5],
            state=State(*value[width:]),
        )
        for value in values
    ]


def write_scope(selection: Selection) -> QuerySet[Enrollment] | None:
    """What the writes look the locked rows up within (writing.update_locked): the selection's
    queryset when it reads the enrollment table alone, else None (by id alone).

    A filter narrowed to a list of ids (a run's chunk) is written by id: within its own WHERE
    the UPDATE carries two id arrays (the chunk's and the changes'), and PostgreSQL planned
    that as a sequential scan of the whole table, once per chunk (351 ms for the 207 changes
    of one 2,000-row chunk at 1,000,000 rows, 999,793 rows removed by the filter), where the
    changes' ids alone are a few index probes."""
    if selection.narrowed_to_ids:
        return None
    if selection.ids is None and reads_one_table(selection.queryset):
        return selection.in_scope(selection.queryset)
    return None


def _chunk_size(scope: QuerySet[Enrollment] | None, plan: Plan) -> int:
    """Changes per UPDATE: CHUNK_SIZE, or on PostgreSQL within a scope every change at once.
    Each scoped UPDATE scans the selection again (its ids are one array parameter), so one
    UPDATE of 100,000 rows instead of fifty; the audit rows are streamed all the same."""
    if scope is not None and connections[router.db_for_write(Enrollment)].vendor == "postgresql":
        return max(CHUNK_SIZE, len(plan.changes))
    return CHUNK_SIZE


def reads_one_table(queryset: QuerySet) -> bool:
    """Whether `queryset` is enrollments filtered on their own columns: no join, annotation,
    DISTINCT, grouping, slice, extra() or set operation, so its WHERE selects the same rows
    when locked and re-ordered.

    Decided from its SQL (the queryset's public `query`, as `print(queryset.query)` shows it)
    rather than from the ORM's internals: without its ordering it must read
    `SELECT <every enrollment column> FROM <the enrollment table>`, exactly as the bare
    model's query does, optionally followed by a WHERE. A join a filter set up and then
    trimmed (a foreign key compared by id) is not in the SQL, so it does not count. Anything
    unexpected answers False: the selection is then read as `id IN (subquery)`, which is
    always right, only slower on a large table."""
    if queryset.model is not Enrollment:
        return False
    try:
        # filter() refuses a union/intersection, order_by() a slice: neither is one table.
        # select_related() joins only for the columns it adds, which the core does not read.
        sql = str(queryset.select_related(None).order_by().filter().query)
    except (EmptyResultSet, NotSupportedError, TypeError):
        return False
    bare = _bare_enrollment_sql()
    return (sql == bare or sql.startswith(f"{bare} WHERE ")) and " GROUP BY " not in sql


@functools.cache
def _bare_enrollment_sql() -> str:
    """`SELECT <every column> FROM <the enrollment table>`, as Django writes it."""
    return str(Enrollment.objects.order_by().query)


def apply_to_one(operation: Operation, enrollment: Enrollment, by: Attribution) -> Enrollment:
    """`apply` for one named enrollment, for doors that answer with an error rather than a
    report (the API): the skip's error is raised (nothing was written), and `enrollment` is
    returned with its new state. Raises MembershipNotFound when it no longer exists."""
    plan = apply(operation, Selection.named([enrollment.pk]), by)
    if plan.skips:
        raise plan.skips[0].error
    if plan.changes:
        for name, value in asdict(plan.changes[0].after).items():
            setattr(enrollment, name, value)
        # As stored: a caller answering from this object must not show a stale updated_at.
        enrollment.updated_at = plan.applied_at
    return enrollment
