"""Writing a chunk of planned changes with set-based SQL, and their audit rows."""

from collections.abc import Iterator, Sequence
from dataclasses import fields
from datetime import datetime

from django.db.models import QuerySet

from enrollments.ids import time_ordered_ids
from enrollments.models import Enrollment
from enrollments.operations.audit import Attribution


def update_locked(
    ids: Sequence, *, scope: QuerySet[Enrollment] | None = None, **values: object
) -> None:
    """One UPDATE of the rows `ids`, which the caller has locked, looked up within `scope`: the
    selection's own WHERE when it reads the enrollment table alone (core.write_scope). Within
    it, PostgreSQL scans for the write as it scanned for the lock (heap pages in physical
    order, the ids a hashed filter); by the id array alone it walks the primary key, a random
    page order: 100,000 rows took 5.2-6.6 s against 3.7 (docs/benchmarks.md).

    A locked row still matches its selection, so every id is written; a count that differs
    (a selection whose WHERE moved, such as a database clock read) raises before the
    transaction commits, so nothing is written rather than a part without its audit rows."""
    rows = (scope if scope is not None else Enrollment.objects).filter(pk__any_of=ids)
    written = rows.update(**values)
    if written != len(ids):
        raise RuntimeError(f"wrote {written} of {len(ids)} locked enrollments")


def write_states(
    changes: Sequence, *, now: datetime, scope: QuerySet[Enrollment] | None = None
) -> None:
    """Writes each change's `after` state: only the fields some change alters, with one UPDATE
    when every row gets the same values (a pause, a new end; within `scope`, update_locked)
    and one CASE UPDATE (bulk_update) when they differ (a resume)."""
    if not changes:
        return
    names = [f.name for f in fields(changes[0].after)]
    changed = [
        name
        for name in names
        if any(getattr(c.before, name) != getattr(c.after, name) for c in changes)
    ]
    ids = [change.enrollment_id for change in changes]
    values = {tuple(getattr(change.after, name) for name in changed) for change in changes}
    if len(values) == 1:
        update_locked(
            ids, scope=scope, **dict(zip(changed, values.pop(), strict=True)), updated_at=now
        )
        return
    Enrollment.objects.bulk_update(
        [
            Enrollment(
                pk=change.enrollment_id,
                updated_at=now,
                **{name: getattr(change.after, name) for name in changed},
            )
            for change in changes
        ],
        [*changed, "updated_at"],
    )


def audit_values(change, *, by: Attribution, now: datetime) -> dict[str, object]:
    """The audit row of one change, as column values: old and new end always, old and new
    pause state when the change moves it (or creates the enrollment), the paused seconds on
    resume, and
    the rest of the state before (paused_at, total paused seconds, removal mark): with
    old_ended_at and old_is_paused, the whole `before` State, which an undo restores
    (`before_state`). A change undoing a batch carries `undoes_batch_id`."""
    before, after = change.before, change.after
    old_paused = new_paused = None
    if before is None:
        new_paused = after.is_paused
    elif before.is_paused != after.is_paused:
        old_paused, new_paused = before.is_paused, after.is_paused
    return by.audit_values(
        enrollment_id=change.enrollment_id,
        action=change.action,
        now=now,
        old_ended_at=change.old_ended_at,
        new_ended_at=after.ended_at,
        old_is_paused=old_paused,
        new_is_paused=new_paused,
        paused_seconds=change.paused_seconds,
        old_paused_at=before.paused_at if before is not None else None,
        old_total_paused_duration=before.total_paused_duration if before is not None else None,
        old_removed_at=before.removed_at if before is not None else None,
        undoes_batch_id=getattr(change, "undoes_batch_id", None),
    )


def audit_rows(changes: Sequence, *, by: Attribution, now: datetime) -> Iterator[tuple]:
    """The audit rows of `changes`, as audit_values writes each, as tuples in
    audit.AUDIT_COLUMNS order (save_audit_rows takes either): what the core writes by the
    hundred thousand. The columns every row shares (who, through which door, why, the batch,
    when) are read once; per row no mapping of 17 names and no keyword call
    (docs/benchmarks.md, issue 22). tests/bench/test_audit_rows.py compares both, change by
    change."""
    shared = by.audit_values(enrollment_id=None, action=None, now=now)  # type: ignore[arg-type]
    actor_id, source, reason = shared["actor_id"], shared["source"], shared["reason"]
    batch_id, created_at = shared["batch_id"], shared["created_at"]
    # New ids in time order (enrollments/ids.py: the rows written together share index
    # pages), the random bytes of every row read in one call.
    for new_id, change in zip(time_ordered_ids(len(changes)), changes, strict=True):
        before, after = change.before, change.after
        if before is None:
            old_paused, new_paused = None, after.is_paused
            old_end = old_paused_at = old_total = old_removed = None
        else:
            if before.is_paused == after.is_paused:
                old_paused = new_paused = None
            else:
                old_paused, new_paused = before.is_paused, after.is_paused
            old_end, old_paused_at = before.ended_at, before.paused_at
            old_total, old_removed = before.total_paused_duration, before.removed_at
        yield (
            new_id,
            change.enrollment_id,
            change.action,
            old_end,
            after.ended_at,
            old_paused,
            new_paused,
            change.paused_seconds,
            actor_id,
            source,
            reason,
            batch_id,
            created_at,
            old_paused_at,
            old_total,
            old_removed,
            getattr(change, "undoes_batch_id", None),
        )
