"""The changes the clock makes, recorded as events by a periodic sweep: access that starts at a
future `start_at` (`access_started`) and access that ends when `ended_at` passes
(`access_ended`). Nothing writes anything when an end date passes; without this sweep no
system would hear of it (issue 24).

Each transition is recorded once per enrollment and instant: the unique (enrollment, action,
instant) constraint makes two sweeps at once (every app server runs it) record one event, and
a later change that moves the date re-arms it (a new instant). The sweep locks the rows it
records (key order, SKIP LOCKED: a row being changed is left for the next sweep) and reads
them again under the lock, so an event of the clock is never ordered before a change that
already moved the date. It looks back EVENTS_CLOCK_LOOKBACK_SECONDS (a day): a sweep that did
not run for longer misses what passed before, rather than sending years of history the first
time it runs.

An enrollment whose end is at or before its start (ended before it began) never gives access:
the clock records neither of its instants.

A transition a change already reported is not recorded again: a change made at or after the
instant (ending access now, an end moved into the past, a resume after the end passed during the
pause) lists `access_state` in its own event, or creates or deletes the membership; the clock's
event would tell receivers twice, the second time of an instant the membership may have spent
paused. A change after the instant that did not move access (an extension made a few seconds
after a start passed, before the sweep ran) does not stand in for the clock's event.

An end is the exception: a change made at or after the end it set (its event lists `ended_at`)
either listed `access_state` or found access already gone, as for an end moved later but still
past (ended 30 hours ago, extended by a day: expired before and after). Either way the
membership had no access to lose at that end, and the clock records none. A start has no such
rule (an extension after the start sets the end, not the start).

The clock's own events count too: an end moved earlier after the clock's access_ended leaves
access as it was (gone) and tells no one twice. So the sweep records starts before ends: a
window that opened and closed between two sweeps gets access_started, then access_ended (an
access_ended recorded first would stand in for the start, being after it). A row whose start
the sweep left (locked by a change) keeps its end for the next sweep, for the same reason.
"""

import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, TextField
from django.db.models.functions import Cast

from enrollments import clock
from enrollments.events.records import EventType, announce
from enrollments.models import AccessEvent, Enrollment
from lms.batching import chunked

ACCESS_STARTED, ACCESS_ENDED = "access_started", "access_ended"
#: Rows locked per transaction.
SWEEP_CHUNK = 1000


def lookback() -> timedelta:
    return timedelta(seconds=getattr(settings, "EVENTS_CLOCK_LOOKBACK_SECONDS", 86400))


def sweep_clock(now: datetime | None = None) -> int:
    """Records the clock's transitions up to `now` (default: the clock's); returns how many
    events were recorded."""
    now = now or clock.now()
    since = now - lookback()
    recorded = 0
    left: set = set()  # rows the start's pass left locked: their end waits for the next sweep
    # Only a window that opens has transitions: an end at or before the start (access ended
    # "now" before it started) gives no access at any instant, so neither passing is news.
    opens = Q(ended_at__isnull=True) | Q(ended_at__gt=F("start_at"))
    # Starts before ends: a window that opened and closed since the last sweep gets both, in
    # the order they happened (receivers order by sequence). The other way round, the clock's
    # access_ended (after the start, listing access_state) would stand in for the start; and
    # so would an end recorded for a row whose start was skipped as locked.
    for action, instant, due in (
        (
            ACCESS_STARTED,
            "start_at",
            Q(start_at__gt=since, start_at__lte=now, created_at__lt=F("start_at")) & opens,
        ),
        (ACCESS_ENDED, "ended_at", Q(ended_at__gt=since, ended_at__lte=now) & opens),
    ):
        recorded_already = AccessEvent.objects.filter(
            enrollment=OuterRef("pk"), action=action, instant=OuterRef(instant)
        )
        candidates = (
            _due(due, instant)
            .filter(~Exists(recorded_already))
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        for ids in chunked([pk for pk in candidates if pk not in left], SWEEP_CHUNK):
            created, skipped = _record(action, instant, due, ids, now)
            recorded += created
            left.update(skipped)
    return recorded


def _due(due: Q, instant: str):
    """The enrollments whose `instant` (a column) passed as `due` says, with access to lose or
    gain then (not removed, not paused), and whose transition no event has reported since."""
    reported = Q(event_type__in=(EventType.CREATED, EventType.DELETED)) | Q(
        fields__contains='"access_state"'
    )
    if instant == "ended_at":
        reported |= Q(fields__contains='"ended_at"')
    reported_since = (
        AccessEvent.objects.annotate(fields=Cast("changed_fields", TextField()))
        .filter(enrollment=OuterRef("pk"), occurred_at__gte=OuterRef(instant))
        .filter(reported)
    )
    return Enrollment.objects.filter(due, removed_at__isnull=True, is_paused=False).filter(
        ~Exists(reported_since)
    )


def _record(action: str, instant: str, due: Q, ids: list, now: datetime) -> tuple[int, set]:
    """Records `action` for those of `ids` still due; returns how many it recorded and the ids
    it left (locked by a change, or no longer due)."""
    with transaction.atomic():
        # Read again under the lock: a change committed since the candidates were read may
        # have moved the date, or reported the transition itself.
        locked = list(
            _due(due, instant)
            .filter(pk__in=ids)
            .order_by("pk")
            .select_for_update(skip_locked=True, of=("self",))
            .values_list("pk", instant)
        )
        events = [
            AccessEvent(
                event_id=uuid.uuid4(),
                enrollment_id=pk,
                event_type=EventType.UPDATED,
                action=action,
                changed_fields=["access_state", "has_access"],
                occurred_at=at,
                instant=at,
            )
            for pk, at in locked
        ]
        # Another sweep may have recorded some meanwhile: the constraint keeps theirs.
        AccessEvent.objects.bulk_create(events, ignore_conflicts=True)
        created = AccessEvent.objects.filter(event_id__in=[e.event_id for e in events]).count()
        if created:
            announce()
    return created, set(ids) - {pk for pk, _ in locked}
