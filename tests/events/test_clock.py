"""The clock's events (enrollments/events/clock.py): access that ends when `ended_at` passes and
access that starts at a future `start_at`, recorded by the sweep once per enrollment and
instant, re-armed when a change moves the date; none for paused or removed learners or beyond
the look-back; two sweeps at once record one (PostgreSQL)."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import TestCase
from django_tasks_db.models import DBTaskResult

from enrollments.events import clock as clock_module
from enrollments.events.clock import ACCESS_ENDED, ACCESS_STARTED, sweep_clock
from enrollments.models import AccessChange, AccessEvent, Enrollment
from enrollments.operations import Expire, Extend, Pause, Remove, Resume, apply_to_one
from enrollments.operations.audit import Attribution
from tests.factories import EnrollmentFactory
from tests.markers import requires_postgres
from tests.threads import RowsHeld, run_at_once

BY = Attribution(None, AccessChange.Source.COMMAND, "clock")
HOUR = timedelta(hours=1)


def clock_events(action=ACCESS_ENDED) -> list[tuple]:
    return list(
        AccessEvent.objects.filter(action=action)
        .order_by("id")
        .values_list("enrollment_id", "instant", "event_type", "changed_fields")
    )


@pytest.mark.django_db
def test_access_that_ends_is_recorded_once_and_again_after_a_later_end(clock):
    ends = clock.current + HOUR
    enrollment = EnrollmentFactory(start_at=clock.current - 10 * HOUR, ended_at=ends)
    assert sweep_clock() == 0  # not yet

    clock.advance(hours=2)
    assert sweep_clock() == 1
    assert sweep_clock() == 0
    assert clock_events() == [
        (enrollment.pk, ends, "course_membership.updated", ["access_state", "has_access"])
    ]
    assert AccessEvent.objects.get(action=ACCESS_ENDED).occurred_at == ends

    apply_to_one(Extend(days=1), enrollment, BY)  # a new end: re-armed
    clock.advance(days=1)
    assert sweep_clock() == 1
    assert [instant for _, instant, _, _ in clock_events()] == [ends, ends + timedelta(days=1)]


@pytest.mark.django_db
def test_paused_removed_and_long_past_ends_record_nothing(clock, settings):
    start = clock.current - 100 * HOUR
    paused = EnrollmentFactory(start_at=start, ended_at=clock.current + HOUR)
    removed = EnrollmentFactory(start_at=start, ended_at=clock.current + HOUR)
    apply_to_one(Pause(), paused, BY)
    apply_to_one(Remove(), removed, BY)
    settings.EVENTS_CLOCK_LOOKBACK_SECONDS = 3600
    EnrollmentFactory(start_at=start, ended_at=clock.current - 2 * HOUR)  # before the look-back
    started_long_ago = EnrollmentFactory(start_at=clock.current - 2 * HOUR, ended_at=None)
    Enrollment.objects.filter(pk=started_long_ago.pk).update(created_at=start)
    live = EnrollmentFactory(start_at=start, ended_at=clock.current + HOUR)
    # Within the look-back (ended half an hour ago): only the live one is recorded, so the
    # paused and removed ones are left out for being paused and removed.
    clock.advance(hours=1, minutes=30)
    assert sweep_clock() == 1
    assert [pk for pk, _, _, _ in clock_events()] == [live.pk]
    assert clock_events(ACCESS_STARTED) == []


@pytest.mark.django_db
def test_access_that_starts_later_than_its_enrollment_is_recorded_when_it_starts(clock):
    starts = clock.current + HOUR
    later = EnrollmentFactory(start_at=starts, ended_at=None)
    Enrollment.objects.filter(pk=later.pk).update(created_at=clock.current)
    at_once = EnrollmentFactory(start_at=clock.current - HOUR, ended_at=None)
    Enrollment.objects.filter(pk=at_once.pk).update(created_at=clock.current - HOUR)
    clock.advance(hours=2)
    assert sweep_clock() == 1
    assert [(pk, instant) for pk, instant, _, _ in clock_events(ACCESS_STARTED)] == [
        (later.pk, starts)
    ]


def access_reports(enrollment) -> list[tuple]:
    """The enrollment's events that tell receivers its access changed."""
    return [
        (action, occurred_at)
        for action, occurred_at, fields in AccessEvent.objects.filter(enrollment=enrollment)
        .order_by("id")
        .values_list("action", "occurred_at", "changed_fields")
        if "access_state" in fields
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("at_hours", [None, -1], ids=["now", "an-hour-ago"])
def test_an_end_a_change_set_at_or_before_now_is_reported_once(clock, at_hours):
    """Ending access now, or moving the end into the past, lists the access fields in the
    change's own event; the sweep recorded an access_ended of the same instant again."""
    enrollment = EnrollmentFactory(start_at=clock.current - 10 * HOUR, ended_at=None)
    at = None if at_hours is None else clock.current + at_hours * HOUR
    apply_to_one(Expire(at=at), enrollment, BY)
    clock.advance(minutes=1)
    assert sweep_clock() == 0
    assert [action for action, _ in access_reports(enrollment)] == ["expire"]


@pytest.mark.django_db
def test_an_end_passed_during_a_pause_is_reported_by_the_resume_alone(clock):
    """Paused when its end passed (no event: it had no access), resumed an hour later in a
    course that does not freeze access: the resume's event says access is gone; an
    access_ended of an instant the membership spent paused would be wrong."""
    enrollment = EnrollmentFactory(
        start_at=clock.current - 10 * HOUR,
        ended_at=clock.current + HOUR,
        course__pause_freezes_access=False,
    )
    apply_to_one(Pause(), enrollment, BY)
    clock.advance(hours=2)
    assert sweep_clock() == 0
    apply_to_one(Resume(), Enrollment.objects.get(pk=enrollment.pk), BY)
    clock.advance(minutes=1)
    assert sweep_clock() == 0
    assert [action for action, _ in access_reports(enrollment)] == ["pause", "resume"]


@pytest.mark.django_db
def test_access_ended_before_it_started_records_neither_instant(clock):
    """Enrolled to start in an hour, access ended now (an end before the start): it gives
    access at no instant. The sweep recorded access_ended at the end and access_started at the
    start, ordered "ended" then "started" (a receiver ordering by sequence saw access begin)."""
    starts = clock.current + HOUR
    enrollment = EnrollmentFactory(start_at=starts, ended_at=starts + 10 * HOUR)
    Enrollment.objects.filter(pk=enrollment.pk).update(created_at=clock.current - HOUR)
    apply_to_one(Expire(), Enrollment.objects.get(pk=enrollment.pk), BY)
    for minutes in (1, 60, 1):
        clock.advance(minutes=minutes)
        assert sweep_clock() == 0
    assert clock_events(ACCESS_ENDED) == clock_events(ACCESS_STARTED) == []


@pytest.mark.django_db
def test_a_change_after_a_start_that_left_access_as_it_was_does_not_stand_in_for_it(clock):
    """Extended a few seconds after its start passed, before the sweep ran: the extension's
    event names only the end, so the clock still says access started."""
    starts = clock.current + HOUR
    later = EnrollmentFactory(start_at=starts, ended_at=starts + 10 * HOUR)
    Enrollment.objects.filter(pk=later.pk).update(created_at=clock.current)
    clock.advance(hours=1, seconds=5)
    apply_to_one(Extend(days=1), Enrollment.objects.get(pk=later.pk), BY)
    clock.advance(minutes=1)
    assert sweep_clock() == 1
    assert access_reports(later) == [(ACCESS_STARTED, starts)]


@pytest.mark.django_db
def test_a_start_and_an_end_passed_before_one_sweep_are_both_recorded_in_order(clock):
    """A window [start, end) that opened and closed while the sweep did not run (within the
    look-back): both transitions are recorded, access_started first (the lower sequence). The
    sweep recorded the end first, and its own access_ended (at the end, after the start) then
    stood in for the start: receivers heard access end without hearing it begin."""
    starts = clock.current + HOUR
    enrollment = EnrollmentFactory(start_at=starts, ended_at=starts + HOUR)
    Enrollment.objects.filter(pk=enrollment.pk).update(created_at=clock.current)
    clock.advance(hours=3)
    assert sweep_clock() == 2
    # In id order, the `sequence` receivers order by.
    assert access_reports(enrollment) == [(ACCESS_STARTED, starts), (ACCESS_ENDED, starts + HOUR)]


@pytest.mark.django_db
def test_an_end_moved_later_but_still_past_records_no_access_ended_that_never_happened(clock):
    """Access ended 30 hours ago, before the look-back; extended by a day, its end is 6 hours
    ago: still expired, so the extension's event names only the end. The sweep recorded an
    access_ended at that instant, when the membership had no access to lose."""
    enrollment = EnrollmentFactory(
        start_at=clock.current - 10 * 24 * HOUR, ended_at=clock.current - 30 * HOUR
    )
    assert sweep_clock() == 0  # ended before the look-back
    apply_to_one(Extend(days=1), enrollment, BY)
    enrollment.refresh_from_db()
    assert enrollment.ended_at == clock.current - 6 * HOUR
    assert AccessEvent.objects.get(enrollment=enrollment).changed_fields == ["ended_at"]
    clock.advance(minutes=1)
    assert sweep_clock() == 0
    assert clock_events() == []


@pytest.mark.django_db
def test_an_end_moved_earlier_after_the_clock_recorded_it_is_not_recorded_again(clock):
    """The clock recorded access_ended; an hour later the end is moved an hour earlier (still
    past, access already gone): the membership lost its access once, and receivers heard it."""
    ends = clock.current + HOUR
    enrollment = EnrollmentFactory(start_at=clock.current - 10 * HOUR, ended_at=ends)
    clock.advance(hours=2)
    assert sweep_clock() == 1
    apply_to_one(Expire(at=ends - HOUR), Enrollment.objects.get(pk=enrollment.pk), BY)
    clock.advance(minutes=1)
    assert sweep_clock() == 0
    assert access_reports(enrollment) == [(ACCESS_ENDED, ends)]


@pytest.mark.django_db
def test_an_end_moved_later_into_the_future_is_recorded_when_it_passes(clock):
    """The extension gave access back (its event lists the access fields, before the new end):
    the new end is news when it passes, as before."""
    enrollment = EnrollmentFactory(
        start_at=clock.current - 10 * 24 * HOUR, ended_at=clock.current - 30 * HOUR
    )
    apply_to_one(Extend(days=2), enrollment, BY)
    assert "access_state" in AccessEvent.objects.get(enrollment=enrollment).changed_fields
    clock.advance(hours=19)
    assert sweep_clock() == 1
    assert [instant for _, instant, _, _ in clock_events()] == [clock.current - HOUR]


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_record_one_event_each(clock):
    ends = clock.current + HOUR
    rows = EnrollmentFactory.create_batch(40, start_at=clock.current - HOUR, ended_at=ends)
    clock.advance(hours=2)
    results = run_at_once(2, lambda _: sweep_clock())
    assert all(isinstance(result, int) for result in results), results
    assert sum(results) == 40
    assert AccessEvent.objects.filter(action=ACCESS_ENDED).count() == len(rows)


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_a_start_left_locked_holds_back_its_end_until_the_next_sweep(clock, monkeypatch):
    """A change holds the row while the sweep passes the starts (SKIP LOCKED leaves it) and
    commits before the ends' pass: the end waits for the next sweep, which records the start,
    then the end. Recorded at once, the end would have stood in for the start for good."""
    starts = clock.current + HOUR
    enrollment = EnrollmentFactory(start_at=starts, ended_at=starts + HOUR)
    Enrollment.objects.filter(pk=enrollment.pk).update(created_at=clock.current)
    clock.advance(hours=3)
    record = clock_module._record
    with RowsHeld(Enrollment.objects.filter(pk=enrollment.pk)) as change:

        def record_then_commit_the_change(action, *args):
            result = record(action, *args)
            if action == ACCESS_STARTED:
                change.release()
            return result

        monkeypatch.setattr(clock_module, "_record", record_then_commit_the_change)
        assert sweep_clock() == 0
    assert sweep_clock() == 2
    assert access_reports(enrollment) == [(ACCESS_STARTED, starts), (ACCESS_ENDED, starts + HOUR)]


@pytest.mark.django_db
def test_the_cron_sweep_records_the_clock_and_fans_it_out(clock):
    EnrollmentFactory.create_batch(2, start_at=clock.current - HOUR, ended_at=clock.current + HOUR)
    clock.advance(hours=2)
    out = StringIO()
    with TestCase.captureOnCommitCallbacks(execute=True):
        call_command("jobs", "sweep", stdout=out)
    assert (
        "Recorded 2 events of the clock; fanned out 2 events; queued 0 webhook endpoints' "
        "deliveries." in out.getvalue()
    )
    # The events' fan-out was queued by their commit, and the sweep fanned them out too.
    assert list(DBTaskResult.objects.values_list("task_path", flat=True)) == [
        "enrollments.jobs.webhooks.fan_out_events"
    ]
    assert not AccessEvent.objects.filter(fanned_out=False).exists()
