"""The start an enrollment is given (`Enroll.start_at`, the admin's add form through
`enrollment_create`) lies within the instants 32-bit Unix seconds can hold,
1901-12-13T20:45:52Z .. 2038-01-19T03:14:07Z, also in a course without a default length, where
no default end bounded it: a start of 9999-12-31 or 0001-01-01 UTC was stored, outside the
calendar in most zones."""

from datetime import UTC, datetime, timedelta

import pytest

from enrollments.access_window import MAX_ENDED_AT
from enrollments.errors import AccessEndOutOfRange, InvalidAccessEnd
from enrollments.models import AccessChange, Enrollment
from enrollments.operations import Selection, preview
from enrollments.operations.audit import Attribution
from enrollments.operations.enrolling import Enroll, PairToEnroll, enroll
from enrollments.operations.enrolling_learners import enrollment_create
from tests.factories import CourseFactory

pytestmark = pytest.mark.django_db

SYSTEM = Attribution(None, AccessChange.Source.SYSTEM)
SECOND = timedelta(seconds=1)
#: The first instant of 32-bit Unix seconds (-2**31), the counterpart of MAX_ENDED_AT.
MIN_START_AT = datetime(1901, 12, 13, 20, 45, 52, tzinfo=UTC)

LATE = [
    pytest.param(datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC), id="9999-12-31"),
    pytest.param(MAX_ENDED_AT + SECOND, id="after-2038"),
]
EARLY = [
    pytest.param(datetime(1, 1, 1, tzinfo=UTC), id="0001-01-01"),
    pytest.param(MIN_START_AT - SECOND, id="before-1901-12-13"),
    pytest.param(datetime(2026, 1, 1), id="naive"),
]


def test_the_window_is_that_of_32_bit_unix_seconds():
    assert MIN_START_AT.timestamp() == -(2**31)
    assert MAX_ENDED_AT.timestamp() == 2**31 - 1


@pytest.mark.parametrize("start", LATE)
@pytest.mark.parametrize("access_days", [None, 30])
def test_a_start_after_2038_is_refused_and_writes_nothing(clock, user, start, access_days):
    course = CourseFactory(access_days=access_days)
    with pytest.raises(AccessEndOutOfRange):
        enrollment_create(user=user, course=course, start_at=start)
    assert not Enrollment.objects.exists()
    assert not AccessChange.objects.exists()


@pytest.mark.parametrize("start", EARLY)
@pytest.mark.parametrize("access_days", [None, 30])
def test_an_earlier_start_is_refused_naming_it_and_writes_nothing(clock, user, start, access_days):
    course = CourseFactory(access_days=access_days)
    with pytest.raises(InvalidAccessEnd) as refused:
        enrollment_create(user=user, course=course, start_at=start)
    assert refused.value.detail == f"{start.isoformat()} is out of range"
    assert not Enrollment.objects.exists()
    assert not AccessChange.objects.exists()


def test_the_preview_refuses_it_too(clock, user):
    course = CourseFactory(access_days=None)
    operation = Enroll((PairToEnroll(user, course),), start_at=MAX_ENDED_AT + SECOND)
    with pytest.raises(AccessEndOutOfRange):
        preview(operation, Selection.named([]))


@pytest.mark.parametrize("start", [MIN_START_AT, MAX_ENDED_AT], ids=["first", "last"])
def test_the_window_includes_its_ends(clock, user, start):
    course = CourseFactory(access_days=None)
    plan = enroll(Enroll((PairToEnroll(user, course),), start_at=start), SYSTEM)
    assert plan.changed_count == 1
    enrollment = Enrollment.objects.get()
    assert (enrollment.start_at, enrollment.ended_at) == (start, None)


def test_an_end_given_with_the_start_does_not_lift_the_bound(clock, user):
    course = CourseFactory(access_days=None)
    target = PairToEnroll(user, course, ended_at=datetime(2030, 1, 1, tzinfo=UTC))
    with pytest.raises(InvalidAccessEnd):
        enroll(Enroll((target,), start_at=datetime(1, 1, 1, tzinfo=UTC)), SYSTEM)
    assert not Enrollment.objects.exists()
