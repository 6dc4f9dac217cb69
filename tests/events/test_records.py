"""Events recorded with the change (enrollments/events/records.py): each access change, through
the core, in the transaction of the change and its audit row, with Healthie's event type and the
API's names of the fields that changed; none for a change that rolled back; a per-membership
sequence; one fan-out queued per transaction however many chunks it wrote."""

from datetime import timedelta

import pytest

from enrollments.errors import AlreadyPaused
from enrollments.events.envelope import body, envelope
from enrollments.events.records import event_of
from enrollments.jobs.webhooks import fan_out_soon
from enrollments.models import AccessChange, AccessEvent, Enrollment
from enrollments.operations import (
    Enroll,
    Expire,
    Extend,
    Pause,
    Remove,
    Resume,
    Selection,
    Undo,
    apply,
    apply_to_one,
)
from enrollments.operations import core as core_module
from enrollments.operations.audit import Attribution
from enrollments.operations.enrolling import PairToEnroll, enroll
from enrollments.progress.completing import enrollment_complete_item
from tests.factories import CourseFactory, CourseItemFactory, EnrollmentFactory, UserFactory

pytestmark = pytest.mark.django_db

BY = Attribution(None, AccessChange.Source.COMMAND, "events")
DAY = timedelta(days=1)
CREATED, UPDATED, DELETED = (
    "course_membership.created",
    "course_membership.updated",
    "course_membership.deleted",
)


def events_of(enrollment) -> list[tuple]:
    return list(
        AccessEvent.objects.filter(enrollment=enrollment)
        .order_by("id")
        .values_list("event_type", "action", "changed_fields")
    )


def test_each_access_change_records_its_event(clock, enrollment):
    apply_to_one(Extend(days=5), enrollment, BY)
    apply_to_one(Pause(), enrollment, BY)
    clock.advance(days=1)
    apply_to_one(Resume(), enrollment, BY)
    apply_to_one(Expire(), enrollment, BY)
    apply_to_one(Remove(), enrollment, BY)

    access = ["access_state", "has_access"]
    assert events_of(enrollment) == [
        (UPDATED, "extend", ["ended_at"]),
        (UPDATED, "pause", ["is_paused", "paused_at", *access]),
        # A course that freezes access while paused moves the end by the paused day.
        (
            UPDATED,
            "resume",
            ["ended_at", "is_paused", "paused_at", "total_paused_duration", *access],
        ),
        (UPDATED, "expire", ["ended_at", *access]),
        (DELETED, "remove", []),
    ]


def test_has_access_is_listed_only_when_access_itself_comes_or_goes(clock):
    """Pausing an expired membership moves its state (expired -> paused) but it gave no
    access before and gives none after: access_state is listed, has_access is not."""
    expired = EnrollmentFactory(
        start_at=clock.current - timedelta(days=10), ended_at=clock.current - timedelta(days=1)
    )
    apply_to_one(Pause(), expired, BY)
    assert events_of(expired) == [(UPDATED, "pause", ["is_paused", "paused_at", "access_state"])]


def test_enrolling_creates_and_restoring_creates_again(clock):
    course, user = CourseFactory(access_days=30), UserFactory()
    [new] = enroll(Enroll((PairToEnroll(user, course),)), BY).changes
    enrollment = Enrollment.objects.get(pk=new.enrollment_id)
    removed = apply(Remove(), Selection.named([enrollment.pk]), BY)
    enroll(Enroll((PairToEnroll(user, course),)), BY)
    apply(Undo(removed.batch_id), Selection.named([enrollment.pk]), BY)  # changed since: skipped

    assert [event[:2] for event in events_of(enrollment)] == [
        (CREATED, "enroll"),
        (DELETED, "remove"),
        (CREATED, "enroll"),
    ]


def test_undoing_a_removal_is_a_creation(clock, enrollment):
    removed = apply(Remove(), Selection.named([enrollment.pk]), BY)
    apply(Undo(removed.batch_id), Selection.named([enrollment.pk]), BY)
    assert [event[:2] for event in events_of(enrollment)] == [
        (DELETED, "remove"),
        (CREATED, "undo"),
    ]


def test_an_event_carries_the_batch_and_grows_its_membership_sequence(clock):
    course = CourseFactory()
    rows = EnrollmentFactory.create_batch(3, course=course, ended_at=clock.current + DAY)
    first = apply(Extend(days=1), Selection.by_filter(Enrollment.objects.filter(course=course)), BY)
    second = apply(Extend(days=1), Selection.named([rows[0].pk]), BY)

    assert AccessEvent.objects.filter(batch_id=first.batch_id).count() == 3
    [one, two] = AccessEvent.objects.filter(enrollment=rows[0]).order_by("occurred_at", "id")
    assert (one.batch_id, two.batch_id) == (first.batch_id, second.batch_id)
    assert one.id < two.id
    assert one.occurred_at == first.applied_at


def test_a_change_that_rolls_back_records_no_event(clock, enrollment, monkeypatch):
    def fail_after_the_events(*args, **kwargs):
        original(*args, **kwargs)
        raise RuntimeError("the disk filled up")

    original = core_module.save_events
    monkeypatch.setattr(core_module, "save_events", fail_after_the_events)
    with pytest.raises(RuntimeError):
        apply_to_one(Extend(days=5), enrollment, BY)
    assert not AccessEvent.objects.exists()
    assert not AccessChange.objects.exists()


def test_no_event_without_a_change(clock, enrollment):
    apply_to_one(Expire(at=enrollment.ended_at), enrollment, BY)  # already ends there
    apply_to_one(Pause(), enrollment, BY)
    with pytest.raises(AlreadyPaused):
        apply_to_one(Pause(), enrollment, BY)
    assert [event[1] for event in events_of(enrollment)] == ["pause"]


def test_a_completed_item_records_a_progress_event(clock, enrollment):
    items = CourseItemFactory.create_batch(2, course=enrollment.course)
    enrollment_complete_item(enrollment=enrollment, item=items[0])
    enrollment_complete_item(enrollment=enrollment, item=items[1])
    enrollment_complete_item(enrollment=enrollment, item=items[1])  # again: no change, no event
    progress = ["completion_rate", "next_incomplete_item", "next_next_incomplete_item"]
    assert events_of(enrollment) == [
        (UPDATED, "progress", ["course_status", *progress]),  # not started -> in progress
        # -> completed: the next item goes; there was no next-but-one to lose.
        (UPDATED, "progress", ["course_status", "completion_rate", "next_incomplete_item"]),
    ]


@pytest.mark.parametrize(
    ("completed", "moved"),
    [
        (0, ["next_incomplete_item", "next_next_incomplete_item"]),
        (1, ["next_next_incomplete_item"]),
        (2, []),  # the next two are still the first two: listed only what changed
    ],
)
def test_a_progress_event_lists_the_next_items_only_when_they_move(
    clock, enrollment, completed, moved
):
    items = [CourseItemFactory(course=enrollment.course, position=n) for n in (1, 2, 3, 4)]
    enrollment_complete_item(enrollment=enrollment, item=items[completed])
    assert events_of(enrollment) == [
        (UPDATED, "progress", ["course_status", "completion_rate", *moved])
    ]


def test_one_fan_out_is_queued_per_transaction_however_many_chunks(
    clock, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(core_module, "CHUNK_SIZE", 2)
    course = CourseFactory()
    EnrollmentFactory.create_batch(5, course=course, ended_at=clock.current + DAY)
    with django_capture_on_commit_callbacks() as callbacks:
        apply(Extend(days=1), Selection.named(Enrollment.objects.values_list("pk", flat=True)), BY)
    # Three chunks of events (2 + 2 + 1), one fan-out queued.
    assert callbacks == [fan_out_soon]
    assert AccessEvent.objects.count() == 5


def test_the_envelope_is_healthies_four_keys_then_ours(clock, enrollment):
    plan = apply(Extend(days=5), Selection.named([enrollment.pk]), BY)
    event = AccessEvent.objects.get()
    sent = envelope(event)
    assert list(sent)[:4] == ["resource_id", "resource_id_type", "event_type", "changed_fields"]
    assert sent == {
        "resource_id": str(enrollment.pk),
        "resource_id_type": "CourseMembership",
        "event_type": UPDATED,
        "changed_fields": ["ended_at"],
        "event_id": str(event.event_id),
        "occurred_at": "2026-01-01T00:00:00Z",
        "action": "extend",
        "batch_id": str(plan.batch_id),
        "sequence": event.id,
    }
    raw = body(sent)
    assert b" " not in raw and raw.isascii()  # compact: Healthie's verifier re-serialises it
    assert b"@" not in raw  # thin: no e-mail


def test_event_of_a_change_that_moves_access_names_the_access_fields(clock, enrollment):
    """An end moved from the future to the past ends access now: access_state and has_access
    change too; a start in the future keeps access "not started" whatever the end."""
    plan = apply(Expire(), Selection.named([enrollment.pk]), BY)
    [change] = plan.changes
    assert event_of(change, start_at=enrollment.start_at, now=clock.current)[1] == [
        "ended_at",
        "access_state",
        "has_access",
    ]
    later = clock.current + 10 * DAY
    assert event_of(change, start_at=later, now=clock.current)[1] == ["ended_at"]
