"""The end of a learner paused in a course that freezes access during pauses, measured against
the pause, not now (rules.access_now): their access time stands still, and the resume adds the
whole pause to the end. Ending their access "now", an extension by filter ("still expired")
and "from today" each read the stored end as lapsed before: an end-now changed nothing and
the resume gave access back; a paused learner was skipped as still expired; "from today"
counted the pause twice (once from now, once at the resume), past a course's staff limit."""

from datetime import timedelta

import pytest

from enrollments.errors import ExtensionOverCourseLimit
from enrollments.models import AccessChange, Enrollment
from enrollments.operations import Expire, Extend, Pause, Resume, Selection, apply, apply_to_one
from enrollments.operations.audit import Attribution
from enrollments.rules import AccessState
from enrollments.selectors.access import enrollment_access_state
from tests.factories import CourseFactory, CourseRoleFactory, EnrollmentFactory

DAY = timedelta(days=1)
BY = Attribution(None, AccessChange.Source.COMMAND, "support ticket")

pytestmark = pytest.mark.django_db


def paused_for(clock, *, days: int, ends_in: timedelta, freezes: bool = True, started=10 * DAY):
    """An enrollment paused now with `ends_in` left (negative: ended that long ago), in a
    course that freezes access during pauses or not; the clock then `days` later."""
    enrollment = EnrollmentFactory(
        course=CourseFactory(pause_freezes_access=freezes),
        start_at=clock.current - started,
        ended_at=clock.current + ends_in,
    )
    apply_to_one(Pause(), enrollment, BY)
    clock.advance(days=days)
    return reload(enrollment)


@pytest.fixture
def paused(clock):
    """Paused at T0 with one day left, in a course that freezes access; now T0 + 10 days."""
    return paused_for(clock, days=10, ends_in=DAY)


def reload(enrollment):
    return Enrollment.objects.get(pk=enrollment.pk)


def resume(enrollment):
    return apply_to_one(Resume(), reload(enrollment), BY)


def test_ending_access_now_ends_it_at_the_pause_and_the_resume_gives_nothing_back(paused, clock):
    paused_at = paused.paused_at
    plan = apply(Expire(), Selection.named([paused.pk]), BY)
    assert plan.changed_count == 1
    after = reload(paused)
    assert after.ended_at == paused_at and after.is_paused
    clock.advance(days=1)
    resumed = resume(paused)
    assert resumed.ended_at == paused_at  # access ended at the pause: the pause cost nothing
    assert enrollment_access_state(resumed, at=clock.current) is AccessState.EXPIRED


def test_ending_access_now_when_it_ended_before_the_pause_changes_nothing(clock):
    enrollment = paused_for(clock, days=3, ends_in=-DAY)
    plan = apply(Expire(), Selection.named([enrollment.pk]), BY)
    assert (plan.changed_count, plan.unchanged) == (0, [enrollment.pk])


def test_in_a_course_that_does_not_freeze_access_now_is_now(clock):
    """The pause costs access time there: the end is measured against now, as before."""
    enrollment = paused_for(clock, days=10, ends_in=DAY, freezes=False)
    plan = apply(Expire(), Selection.named([enrollment.pk]), BY)
    assert plan.unchanged == [enrollment.pk]  # it lapsed during the pause
    still = apply(Extend(days=5), Selection.by_filter(Enrollment.objects.all()), BY)
    assert [skip.error.code for skip in still.skips] == ["STILL_EXPIRED"]


def test_an_extension_by_filter_is_not_still_expired_while_the_new_end_is_after_the_pause(
    paused, clock
):
    plan = apply(Extend(days=5), Selection.by_filter(Enrollment.objects.all()), BY)
    assert plan.skips == [] and plan.changed_count == 1
    clock.advance(days=2)
    resumed = resume(paused)
    assert resumed.ended_at - clock.current == 6 * DAY  # the day left and the five


def test_an_extension_by_filter_ending_at_or_before_the_pause_is_still_expired(clock):
    paused_for(clock, days=10, ends_in=-5 * DAY, started=30 * DAY)
    plan = apply(Extend(days=5), Selection.by_filter(Enrollment.objects.all()), BY)
    assert [skip.error.code for skip in plan.skips] == ["STILL_EXPIRED"]


def test_from_today_counts_from_the_pause_not_twice(paused, clock):
    apply_to_one(Extend(days=30, from_today=True), paused, BY)
    clock.advance(days=2)
    resumed = resume(paused)
    assert resumed.ended_at - clock.current == 31 * DAY  # the day left and the thirty


def test_a_course_staff_limit_counts_from_the_pause(paused, clock):
    """Staff limited to 30 days: "from today" by 30 gives 31 days after the resume (within the
    limit as the learner lives it); 31 days by the end's own count is refused."""
    course = paused.course
    course.staff_max_extension_days = 30
    course.save()
    staff = CourseRoleFactory(course=course).user
    by_staff = Attribution(staff, AccessChange.Source.ADMIN, "ticket")
    end = paused.ended_at
    with pytest.raises(ExtensionOverCourseLimit):
        apply_to_one(Extend(until=end + 31 * DAY), paused, by_staff)
    apply_to_one(Extend(days=30, from_today=True), reload(paused), by_staff)
    assert reload(paused).ended_at == end + 30 * DAY
