"""Pause and resume, single and bulk."""

from datetime import timedelta

import pytest

from enrollments.access_window import MAX_ENDED_AT
from enrollments.errors import AlreadyPaused, MembershipNotFound, NotPaused
from enrollments.models import AccessChange, Enrollment
from enrollments.operations import Pause, Resume, Selection, apply, apply_to_one
from enrollments.operations.audit import Attribution
from enrollments.selectors.access import enrollment_has_access
from tests.factories import CourseFactory, EnrollmentFactory

DAY = timedelta(days=1)
SOURCE = AccessChange.Source.ADMIN

pytestmark = pytest.mark.django_db


def pause(enrollment):
    return apply_to_one(Pause(), enrollment, Attribution(None, SOURCE))


def resume(enrollment):
    return apply_to_one(Resume(), enrollment, Attribution(None, SOURCE))


class TestPauseThenResume:
    def test_three_days_paused_moves_the_end_three_days(self, enrollment, clock, operator):
        old_end = enrollment.ended_at
        paused = apply_to_one(Pause(), enrollment, Attribution(operator, SOURCE, "ill"))
        assert paused.is_paused and paused.paused_at == clock.current
        assert not enrollment_has_access(paused, at=clock.current)

        clock.advance(days=3)
        resumed = resume(enrollment)

        enrollment.refresh_from_db()
        assert enrollment.total_paused_duration == 259200 == resumed.total_paused_duration
        assert enrollment.ended_at == old_end + 3 * DAY
        assert not enrollment.is_paused and enrollment.paused_at is None
        assert enrollment_has_access(enrollment, at=clock.current)
        pause_row, resume_row = AccessChange.objects.order_by("created_at")
        assert (pause_row.action, pause_row.old_is_paused, pause_row.new_is_paused) == (
            AccessChange.Action.PAUSE,
            False,
            True,
        )
        assert (pause_row.actor, pause_row.reason) == (operator, "ill")
        assert resume_row.action == AccessChange.Action.RESUME
        assert resume_row.paused_seconds == 259200
        assert (resume_row.old_ended_at, resume_row.new_ended_at) == (old_end, old_end + 3 * DAY)

    def test_course_without_freeze_keeps_the_end(self, clock):
        enrollment = EnrollmentFactory(
            course=CourseFactory(pause_freezes_access=False), ended_at=clock.current + 10 * DAY
        )
        pause(enrollment)
        clock.advance(days=3)
        resume(enrollment)
        enrollment.refresh_from_db()
        assert enrollment.total_paused_duration == 259200
        assert enrollment.ended_at == clock.current + 7 * DAY

    def test_cycles_accumulate(self, enrollment, clock):
        old_end = enrollment.ended_at
        for seconds in (10, 20.7, 30):
            pause(enrollment)
            clock.advance(seconds=seconds)
            resume(enrollment)
        enrollment.refresh_from_db()
        assert enrollment.total_paused_duration == 60
        assert enrollment.ended_at == old_end + timedelta(seconds=60)

    def test_indefinite_enrollment_keeps_no_end(self, clock):
        forever = EnrollmentFactory(ended_at=None)
        pause(forever)
        clock.advance(days=1)
        resume(forever)
        forever.refresh_from_db()
        assert forever.ended_at is None and forever.total_paused_duration == 86400

    def test_resume_near_the_2038_limit_clamps_instead_of_failing(self, clock):
        near_limit = EnrollmentFactory(
            start_at=clock.current - DAY, ended_at=MAX_ENDED_AT - timedelta(seconds=5)
        )
        pause(near_limit)
        clock.advance(days=1)
        resume(near_limit)
        near_limit.refresh_from_db()
        assert near_limit.ended_at == MAX_ENDED_AT and not near_limit.is_paused


class TestErrors:
    def test_pause_twice(self, enrollment):
        pause(enrollment)
        with pytest.raises(AlreadyPaused) as caught:
            pause(enrollment)
        assert caught.value.code == "ALREADY_PAUSED"
        assert AccessChange.objects.count() == 1

    def test_resume_when_not_paused(self, enrollment):
        with pytest.raises(NotPaused) as caught:
            resume(enrollment)
        assert caught.value.code == "NOT_PAUSED"
        assert not AccessChange.objects.exists()
        enrollment.refresh_from_db()
        assert enrollment.total_paused_duration == 0

    def test_unknown_enrollment(self, enrollment):
        Enrollment.objects.filter(pk=enrollment.pk).delete()
        with pytest.raises(MembershipNotFound):
            pause(enrollment)


class TestBulk:
    def test_pause_skips_the_paused(self, clock):
        running = EnrollmentFactory.create_batch(3)
        already = EnrollmentFactory(is_paused=True, paused_at=clock.current - DAY)
        result = apply(
            Pause(), Selection.by_filter(Enrollment.objects.all()), Attribution(None, SOURCE)
        )
        assert {c.enrollment_id for c in result.changes} == {e.pk for e in running}
        assert [(s.enrollment_id, s.error.code) for s in result.skips] == [
            (already.pk, "ALREADY_PAUSED")
        ]
        assert Enrollment.objects.filter(is_paused=True, paused_at=clock.current).count() == 3
        assert set(AccessChange.objects.values_list("batch_id", flat=True)) == {result.batch_id}

    def test_resume_uses_each_rows_own_pause(self, clock):
        frozen_course = CourseFactory(pause_freezes_access=True)
        open_course = CourseFactory(pause_freezes_access=False)
        end = clock.current + 10 * DAY
        a = EnrollmentFactory(
            course=frozen_course,
            start_at=clock.current - 10 * DAY,
            ended_at=end,
            is_paused=True,
            paused_at=clock.current - 2 * DAY,
            total_paused_duration=5,
        )
        b = EnrollmentFactory(
            course=open_course, ended_at=end, is_paused=True, paused_at=clock.current - 1 * DAY
        )
        running = EnrollmentFactory()

        result = apply(
            Resume(), Selection.by_filter(Enrollment.objects.all()), Attribution(None, SOURCE)
        )

        a.refresh_from_db()
        b.refresh_from_db()
        assert (a.total_paused_duration, a.ended_at, a.is_paused) == (
            2 * 86400 + 5,
            end + 2 * DAY,
            False,
        )
        assert (b.total_paused_duration, b.ended_at, b.paused_at) == (86400, end, None)
        assert [(s.enrollment_id, s.error.code) for s in result.skips] == [
            (running.pk, "NOT_PAUSED")
        ]
        assert dict(AccessChange.objects.values_list("enrollment_id", "paused_seconds")) == {
            a.pk: 2 * 86400,
            b.pk: 86400,
        }

    def test_bulk_query_counts_are_flat(self, clock, django_assert_max_num_queries):
        EnrollmentFactory.create_batch(40, is_paused=True, paused_at=clock.current - DAY)
        with django_assert_max_num_queries(6):
            result = apply(
                Resume(), Selection.by_filter(Enrollment.objects.all()), Attribution(None, SOURCE)
            )
        assert result.changed_count == 40
