"""Edges that no test pinned until mutation testing (`make mutate`, docs/reliability.md) showed
that the rule could be broken with the suite still green (issue 14, finding 9). Each test
names the mutant it kills (mutated in the service modules that then held the rules; the
operation core has taken their bodies since). They go through the core's public API
(`apply_to_one`, `apply`) and rules.py's only, so they hold whatever the modules behind those
look like.
"""

import uuid
from contextlib import contextmanager
from datetime import datetime, timedelta

import pytest

from enrollments.access_window import MAX_ENDED_AT
from enrollments.errors import InvalidExtensionPeriod
from enrollments.models import AccessChange, Enrollment
from enrollments.operations import Extend, Pause, Resume, Selection, apply, apply_to_one
from enrollments.operations.audit import Attribution
from enrollments.progress import completion_rate
from enrollments.rules import ExtensionRequest
from tests.factories import CourseFactory, EnrollmentFactory

pytestmark = pytest.mark.django_db

SOURCE = AccessChange.Source.ADMIN
DAY = timedelta(days=1)
TICK = timedelta(microseconds=1)
HOUR = timedelta(hours=1)


@contextmanager
def not_in_the_future():
    """Expects the refusal of a new end that is not in the future (the detail the admin
    shows)."""
    with pytest.raises(InvalidExtensionPeriod) as refused:
        yield
    assert refused.value.detail == "the new end date is not in the future"


def snapshot() -> tuple[list[dict], list[dict]]:
    return (
        list(Enrollment.objects.order_by("pk").values()),
        list(AccessChange.objects.order_by("pk").values()),
    )


class TestANewEndMustBeInTheFuture:
    """`until <= now` in ExtensionRequest.validate: a mutant made it `<`, another dropped the
    check; the second check (after the current end) hides it unless the enrollment is
    expired."""

    def test_a_new_end_of_exactly_now_is_refused(self, clock):
        now = clock.current
        with not_in_the_future():
            ExtensionRequest(until=now).validate(now=now)
        ExtensionRequest(until=now + TICK).validate(now=now)  # a microsecond later is fine

    def test_the_core_refuses_exactly_now_on_an_expired_enrollment(self, clock):
        now = clock.current
        expired = EnrollmentFactory(start_at=now - 30 * DAY, ended_at=now - 10 * DAY)
        before = snapshot()
        with not_in_the_future():
            apply_to_one(Extend(until=now), expired, Attribution(None, SOURCE))
        assert snapshot() == before

    def test_a_past_end_after_the_current_one_is_refused(self, clock):
        """An expired enrollment (ended 10 days ago) and a new end 5 days ago: later than the
        current end, but not in the future."""
        now = clock.current
        expired = EnrollmentFactory(start_at=now - 30 * DAY, ended_at=now - 10 * DAY)
        request = ExtensionRequest(until=now - 5 * DAY)
        with not_in_the_future():
            request.new_ended_at(current=expired.ended_at, now=now)
        before = snapshot()
        with not_in_the_future():
            apply_to_one(Extend(until=now - 5 * DAY), expired, Attribution(None, SOURCE))
        with not_in_the_future():
            apply(
                Extend(until=now - 5 * DAY),
                Selection.by_filter(Enrollment.objects.filter(pk=expired.pk)),
                Attribution(None, SOURCE),
            )
        assert snapshot() == before


class TestTheBulkStillExpiredBoundary:
    """`new_end <= now` for a selection by filter: an end landing exactly on now leaves no
    access (the window's end is exclusive), so it is still expired."""

    def test_a_bulk_extension_skips_it_and_extends_the_row_a_microsecond_later(self, clock):
        now = clock.current
        on_now = EnrollmentFactory(start_at=now - 30 * DAY, ended_at=now - 3 * DAY)
        after = EnrollmentFactory(start_at=now - 30 * DAY, ended_at=now - 3 * DAY + TICK)
        result = apply(
            Extend(days=3),
            Selection.by_filter(Enrollment.objects.filter(pk__in=[on_now.pk, after.pk])),
            Attribution(None, SOURCE),
        )
        assert [(s.enrollment_id, s.error.code) for s in result.skips] == [
            (on_now.pk, "STILL_EXPIRED")
        ]
        assert [c.enrollment_id for c in result.changes] == [after.pk]
        on_now.refresh_from_db()
        after.refresh_from_db()
        assert on_now.ended_at == now - 3 * DAY
        assert after.ended_at == now + TICK
        assert list(AccessChange.objects.values_list("enrollment_id", flat=True)) == [after.pk]


class TestPauseAndResumeAuditRows:
    """The audit row's old_is_paused / new_is_paused (mutants set them to None or swapped
    them) and the bulk batch_id (a mutant dropped it: the rows then share None)."""

    def test_a_single_pause_and_resume_record_the_pause_state_before_and_after(self, clock):
        enrollment = EnrollmentFactory(start_at=clock.current - DAY, ended_at=clock.current + DAY)
        apply_to_one(Pause(), enrollment, Attribution(None, SOURCE))
        clock.advance(hours=2)
        apply_to_one(Resume(), enrollment, Attribution(None, SOURCE))
        rows = AccessChange.objects.filter(enrollment=enrollment).order_by("created_at")
        assert [(r.action, r.old_is_paused, r.new_is_paused) for r in rows] == [
            ("pause", False, True),
            ("resume", True, False),
        ]

    def test_bulk_pause_and_resume_mark_every_row_with_the_batch_and_the_pause_state(self, clock):
        course = CourseFactory()
        enrollments = [
            EnrollmentFactory(course=course, start_at=clock.current - DAY, ended_at=None)
            for _ in range(3)
        ]
        queryset = Enrollment.objects.filter(pk__in=[e.pk for e in enrollments])
        paused = apply(Pause(), Selection.by_filter(queryset), Attribution(None, SOURCE))
        clock.advance(hours=1)
        resumed = apply(Resume(), Selection.by_filter(queryset), Attribution(None, SOURCE))
        assert isinstance(paused.batch_id, uuid.UUID) and isinstance(resumed.batch_id, uuid.UUID)
        assert paused.batch_id != resumed.batch_id
        for action, result, states in (
            ("pause", paused, (False, True)),
            ("resume", resumed, (True, False)),
        ):
            rows = AccessChange.objects.filter(action=action)
            assert rows.count() == 3
            assert {(r.batch_id, r.old_is_paused, r.new_is_paused) for r in rows} == {
                (result.batch_id, *states)
            }

    def test_a_batch_id_given_is_the_one_recorded(self, clock):
        enrollment = EnrollmentFactory(start_at=clock.current - DAY, ended_at=None)
        queryset = Enrollment.objects.filter(pk=enrollment.pk)
        batch = uuid.uuid4()
        assert apply(
            Pause(), Selection.by_filter(queryset), Attribution(None, SOURCE, batch_id=batch)
        ).batch_id == (batch)
        assert apply(
            Resume(), Selection.by_filter(queryset), Attribution(None, SOURCE, batch_id=batch)
        ).batch_id == (batch)
        assert set(AccessChange.objects.values_list("batch_id", flat=True)) == {batch}


class TestOneEnrollmentsChangeReturnsTheRowAsStored:
    """The returned enrollment is the row as written, not a stale copy (GraphQL reloads the
    row, which hid a mutant that left is_paused, paused_at or updated_at unchanged)."""

    def test_resume_returns_the_resumed_enrollment(self, clock):
        course = CourseFactory(pause_freezes_access=True)
        enrollment = EnrollmentFactory(
            course=course, start_at=clock.current - DAY, ended_at=clock.current + DAY
        )
        end = enrollment.ended_at
        apply_to_one(Pause(), enrollment, Attribution(None, SOURCE))
        clock.advance(hours=5)
        resumed = apply_to_one(Resume(), enrollment, Attribution(None, SOURCE))
        stored = Enrollment.objects.get(pk=enrollment.pk)
        returned = (
            resumed.is_paused,
            resumed.paused_at,
            resumed.updated_at,
            resumed.total_paused_duration,
            resumed.ended_at,
        )
        assert returned == (False, None, clock.current, 5 * 3600, end + 5 * HOUR)
        assert returned == (
            stored.is_paused,
            stored.paused_at,
            stored.updated_at,
            stored.total_paused_duration,
            stored.ended_at,
        )

    def test_pause_returns_the_paused_enrollment(self, clock):
        enrollment = EnrollmentFactory(start_at=clock.current - DAY, ended_at=None)
        paused = apply_to_one(Pause(), enrollment, Attribution(None, SOURCE))
        stored = Enrollment.objects.get(pk=enrollment.pk)
        assert (paused.is_paused, paused.paused_at, paused.updated_at) == (
            True,
            clock.current,
            clock.current,
        )
        assert (stored.is_paused, stored.paused_at, stored.updated_at) == (
            True,
            clock.current,
            clock.current,
        )

    def test_extend_returns_the_extended_enrollment(self, clock):
        enrollment = EnrollmentFactory(start_at=clock.current - DAY, ended_at=clock.current + DAY)
        extended = apply_to_one(Extend(days=2), enrollment, Attribution(None, SOURCE))
        stored = Enrollment.objects.get(pk=enrollment.pk)
        assert (extended.ended_at, extended.updated_at) == (clock.current + 3 * DAY, clock.current)
        assert (stored.ended_at, stored.updated_at) == (extended.ended_at, extended.updated_at)


class TestAnInvalidPeriodIsRefusedBeforeAnyQuery:
    """days <= 0 (or nothing asked) is invalid for every enrollment: refused before the row is
    locked (a mutant moved the check after the lock; the result was the same error, one
    locking query later)."""

    @pytest.mark.parametrize("kwargs", [{"days": 0}, {"days": -1}, {}])
    def test_one_enrollment(self, clock, django_assert_num_queries, kwargs):
        enrollment = EnrollmentFactory(start_at=clock.current - DAY, ended_at=clock.current + DAY)
        with django_assert_num_queries(0), pytest.raises(InvalidExtensionPeriod):
            apply_to_one(Extend(**kwargs), enrollment, Attribution(None, SOURCE))

    def test_in_bulk(self, clock, django_assert_num_queries):
        EnrollmentFactory(start_at=clock.current - DAY, ended_at=clock.current + DAY)
        with django_assert_num_queries(0), pytest.raises(InvalidExtensionPeriod):
            apply(
                Extend(days=0),
                Selection.by_filter(Enrollment.objects.all()),
                Attribution(None, SOURCE),
            )


def audit_rows(action: str) -> list[tuple]:
    return [
        (
            row.enrollment_id,
            row.actor_id,
            row.source,
            row.reason,
            row.old_ended_at,
            row.new_ended_at,
            row.old_is_paused,
            row.new_is_paused,
            row.paused_seconds,
            row.created_at,
        )
        for row in AccessChange.objects.filter(action=action).order_by("enrollment_id")
    ]


class TestBulkPauseAndResumeWriteEverything:
    """Every field the bulk pause and resume write, rows and audit rows (mutants dropped the
    actor, the reason, updated_at or the audit row's ends, with the suite green)."""

    @pytest.fixture
    def rows(self, clock):
        freezing = CourseFactory(pause_freezes_access=True)
        running = CourseFactory(pause_freezes_access=False)
        start = clock.current - 10 * DAY
        return [
            EnrollmentFactory(course=freezing, start_at=start, ended_at=clock.current + DAY),
            EnrollmentFactory(course=running, start_at=start, ended_at=clock.current + 2 * DAY),
            EnrollmentFactory(course=freezing, start_at=start, ended_at=None),
        ]

    def test_with_an_actor_and_a_reason(self, rows, clock, operator):
        queryset = Enrollment.objects.filter(pk__in=[e.pk for e in rows])
        ends = {e.pk: e.ended_at for e in rows}
        paused_at = clock.current
        apply(Pause(), Selection.by_filter(queryset), Attribution(operator, SOURCE, " leave "))
        assert audit_rows("pause") == sorted(
            (pk, operator.pk, SOURCE, "leave", end, end, False, True, None, paused_at)
            for pk, end in ends.items()
        )
        assert set(queryset.values_list("is_paused", "paused_at", "updated_at")) == {
            (True, paused_at, paused_at)
        }

        clock.advance(hours=3)
        apply(Resume(), Selection.by_filter(queryset), Attribution(operator, SOURCE, "back"))
        seconds = 3 * 3600
        frozen_end = ends[rows[0].pk] + timedelta(seconds=seconds)
        expected = {
            rows[0].pk: frozen_end,  # the course freezes access: the end moves
            rows[1].pk: ends[rows[1].pk],  # it does not: the clock kept running
            rows[2].pk: None,  # indefinite stays indefinite
        }
        assert audit_rows("resume") == sorted(
            (pk, operator.pk, SOURCE, "back", ends[pk], end, True, False, seconds, clock.current)
            for pk, end in expected.items()
        )
        stored = {
            e.pk: (e.is_paused, e.paused_at, e.total_paused_duration, e.ended_at, e.updated_at)
            for e in queryset
        }
        assert stored == {
            pk: (False, None, seconds, end, clock.current) for pk, end in expected.items()
        }

    def test_without_a_reason_the_reason_is_empty(self, rows, clock):
        queryset = Enrollment.objects.filter(pk__in=[e.pk for e in rows])
        apply(Pause(), Selection.by_filter(queryset), Attribution(None, SOURCE))
        apply(Resume(), Selection.by_filter(queryset), Attribution(None, SOURCE))
        apply_to_one(Pause(), rows[0], Attribution(None, SOURCE))
        apply_to_one(Resume(), rows[0], Attribution(None, SOURCE))
        apply_to_one(Extend(days=1), rows[1], Attribution(None, SOURCE))
        apply(Extend(days=1), Selection.by_filter(queryset), Attribution(None, SOURCE))
        assert set(AccessChange.objects.values_list("reason", "actor_id")) == {("", None)}


class TestBulkExtensionsStampTheRows:
    """A mutant dropped updated_at from the bulk UPDATE of a new end or indefinite access."""

    @pytest.mark.parametrize("mode", ["until", "indefinite", "days"])
    def test_every_changed_row_gets_the_operations_instant(self, clock, mode):
        kwargs = {
            "until": {"until": clock.current + 10 * DAY},
            "indefinite": {"indefinite": True},
            "days": {"days": 2},
        }[mode]
        rows = [
            EnrollmentFactory(start_at=clock.current - DAY, ended_at=clock.current + DAY)
            for _ in range(2)
        ]
        clock.advance(hours=1)
        result = apply(
            Extend(**kwargs),
            Selection.by_filter(Enrollment.objects.filter(pk__in=[e.pk for e in rows])),
            Attribution(None, SOURCE),
        )
        assert len(result.changes) == 2
        assert set(Enrollment.objects.values_list("updated_at", flat=True)) == {clock.current}


def test_the_completion_rate_never_passes_one():
    """More completions than items (items removed from the course after being completed)."""
    assert completion_rate(completed=3, total=2) == 1.0
    assert completion_rate(completed=1, total=2) == 0.5
    assert completion_rate(completed=0, total=0) == 0.0


def test_a_single_pause_and_resume_keep_their_reasons(clock, operator):
    """A mutant dropped the resume's reason (the pause's was pinned, the resume's not)."""
    enrollment = EnrollmentFactory(start_at=clock.current - DAY, ended_at=None)
    apply_to_one(Pause(), enrollment, Attribution(operator, SOURCE, "leave"))
    apply_to_one(Resume(), enrollment, Attribution(operator, SOURCE, " back "))
    rows = AccessChange.objects.filter(enrollment=enrollment).order_by("created_at", "action")
    assert [(r.action, r.reason, r.actor_id) for r in rows] == [
        ("pause", "leave", operator.pk),
        ("resume", "back", operator.pk),
    ]


@pytest.mark.parametrize(
    ("request_", "current", "detail"),
    [
        (
            ExtensionRequest(until=datetime(2027, 1, 1)),
            None,
            "the new end date has no time zone",
        ),
        (ExtensionRequest(), None, "no extension days, new end date or indefinite given"),
        (ExtensionRequest(days=0), None, "extension days must be positive"),
        (
            ExtensionRequest(until=MAX_ENDED_AT + TICK),
            None,
            "the new end date is after 2038-01-19T03:14:07Z",
        ),
        (
            ExtensionRequest(until=MAX_ENDED_AT - DAY),
            MAX_ENDED_AT - DAY,
            "the new end date is not after the current one",
        ),
        (
            ExtensionRequest(days=2),
            MAX_ENDED_AT - DAY,
            "the extension ends after 2038-01-19T03:14:07Z",
        ),
        (
            ExtensionRequest(days=10**9),
            MAX_ENDED_AT - DAY,
            "the extension ends after 2038-01-19T03:14:07Z whatever the current end",
        ),
    ],
)
def test_each_refusal_says_why(clock, request_, current, detail):
    """The detail is what the admin and the commands show after the contract's message
    ("Invalid extension period: ..."); mutants blanked or altered each one."""
    with pytest.raises(InvalidExtensionPeriod) as refused:
        request_.new_ended_at(current=current or clock.current + DAY, now=clock.current)
    assert refused.value.detail == detail
    assert str(refused.value) == "Invalid extension period"
