"""The event of each change, recorded in the transaction of the change.

An event is Healthie's `course_membership.*` (AccessEvent.EventType): `created` when the change
creates the membership or restores a removed one, `deleted` when it removes it, `updated`
otherwise, with the API's names of the fields that changed (`changed_fields`: the access fields
that differ, `access_state` when the access state changes at that instant, and `has_access`
when access itself comes or goes).

The core records the events of a chunk right after its audit rows (core._apply_locked), from
the same `Change` objects, set-based as they are (COPY on PostgreSQL): model signals would miss
set-based writes, and an event written after the commit could be lost with a crash.
"""

import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime

from django.db import transaction

from enrollments.ids import time_ordered_ids
from enrollments.models import AccessEvent
from enrollments.operations.bulk_insert import insert_rows
from enrollments.rules import AccessState, access_state

EventType = AccessEvent.EventType

#: The API's name of each access field an operation changes (State's field names); the removal
#: mark is no field of the API: it makes the event `deleted` (and its clearing `created`).
API_FIELDS = ("ended_at", "is_paused", "paused_at", "total_paused_duration")

#: The columns event_rows builds, in order (the id, a sequence, is the database's).
EVENT_COLUMNS = (
    "event_id",
    "enrollment_id",
    "event_type",
    "action",
    "changed_fields",
    "batch_id",
    "occurred_at",
    "instant",
    "fanned_out",
)


def event_of(change, *, start_at: datetime | None, now: datetime) -> tuple[str, list[str]]:
    """The event type and changed fields of one core `Change` (its `before` and `after`
    states), access judged at `now` from the enrollment's `start_at`."""
    before, after = change.before, change.after
    if before is None or (before.removed_at is not None and after.removed_at is None):
        return EventType.CREATED, []
    if after.removed_at is not None and before.removed_at is None:
        return EventType.DELETED, []
    changed = [name for name in API_FIELDS if getattr(before, name) != getattr(after, name)]
    if start_at is not None:
        was, is_now = _access(before, start_at, now), _access(after, start_at, now)
        if was != is_now:
            changed.append("access_state")
        # Pausing an expired membership changes its state, not whether it gives access.
        if (was is AccessState.ACTIVE) != (is_now is AccessState.ACTIVE):
            changed.append("has_access")
    return EventType.UPDATED, changed


def _access(state, start_at: datetime, now: datetime) -> AccessState:
    return access_state(
        start_at=start_at,
        ended_at=state.ended_at,
        is_paused=state.is_paused,
        at=now,
        removed_at=state.removed_at,
    )


def event_rows(
    changes: Sequence,
    *,
    batch_id: uuid.UUID | None,
    now: datetime,
    start_at: Mapping[object, datetime],
) -> Iterator[tuple]:
    """The events of `changes` as tuples in EVENT_COLUMNS order (`start_at`: each changed
    enrollment's, by id; an enrollment the change creates starts at its own `start_at`)."""
    for event_id, change in zip(time_ordered_ids(len(changes)), changes, strict=True):
        starts = start_at.get(change.enrollment_id, getattr(change, "start_at", None))
        event_type, changed = event_of(change, start_at=starts, now=now)
        yield (
            event_id,
            change.enrollment_id,
            event_type,
            str(change.action),
            changed,
            batch_id,
            now,
            None,
            False,
        )


def save_events(rows: Iterable[tuple]) -> None:
    """Inserts event rows (EVENT_COLUMNS order) in the caller's transaction, then `announce`."""
    insert_rows(AccessEvent, EVENT_COLUMNS, rows)
    announce()


def record(
    *,
    enrollment_id: object,
    event_type: str,
    action: str,
    changed_fields: list[str],
    now: datetime,
    batch_id: uuid.UUID | None = None,
) -> None:
    """Records one event (a door that changes one membership outside the core: progress)."""
    save_events(
        [
            (
                uuid.uuid4(),
                enrollment_id,
                event_type,
                action,
                changed_fields,
                batch_id,
                now,
                None,
                False,
            )
        ]
    )


def announce() -> None:
    """Once the current transaction commits (at once outside one), queues the fan-out of the
    events it recorded. Events whose fan-out job is lost are found by the sweep (unfanned)."""
    from enrollments.jobs.webhooks import fan_out_soon  # the jobs are a door over this package

    connection = transaction.get_connection()
    # Once per transaction, however many chunks recorded events in it.
    if not any(callback is fan_out_soon for _, callback, _ in connection.run_on_commit):
        transaction.on_commit(fan_out_soon)
