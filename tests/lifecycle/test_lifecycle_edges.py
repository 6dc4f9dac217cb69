"""The lifecycle operations' edges, each pinned where mutation testing (docs/reliability.md)
found no test that would notice it broken: enrollment's boundaries of the end of access, what
tells two enrollment requests apart (the fingerprint a Confirm is checked against), the rows a
refusal names, and the skips that name their enrollment."""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import ClassVar
from zoneinfo import ZoneInfo

import pytest

from enrollments.access_window import MAX_ENDED_AT
from enrollments.errors import AccessEndOutOfRange, ChangedSincePreview, InvalidAccessEnd
from enrollments.models import AccessChange, Enrollment
from enrollments.operations import Expire, Extend, Operation, Remove, Selection, apply, preview
from enrollments.operations.audit import Attribution
from enrollments.operations.enrolling import (
    MIN_ENDED_AT,
    Enroll,
    PairToEnroll,
    check_access_end,
    enroll,
)
from enrollments.operations.undoing import Undo, changed_fields
from enrollments.permissions import EXTEND_ACCESS
from tests.factories import CourseFactory, EnrollmentFactory, UserFactory

pytestmark = pytest.mark.django_db

SYSTEM = Attribution(None, AccessChange.Source.SYSTEM, "edges")
SECOND = timedelta(seconds=1)


def test_an_end_of_access_at_either_limit_is_accepted_and_one_second_beyond_refused(clock):
    course = CourseFactory(access_days=None)
    for end in (MIN_ENDED_AT, MAX_ENDED_AT):
        plan = preview(Enroll((PairToEnroll(UserFactory(), course, end),)), Selection.named([]))
        assert [change.new_ended_at for change in plan.changes] == [end]
    for end in (MIN_ENDED_AT - SECOND, MAX_ENDED_AT + SECOND):
        with pytest.raises(InvalidAccessEnd):
            preview(Enroll((PairToEnroll(UserFactory(), course, end),)), Selection.named([]))


def test_a_course_default_ending_exactly_at_the_limit_is_accepted(clock):
    days = 30
    course = CourseFactory(access_days=days)
    start = MAX_ENDED_AT - timedelta(days=days)
    plan = preview(
        Enroll((PairToEnroll(UserFactory(), course),), start_at=start), Selection.named([])
    )
    assert [change.new_ended_at for change in plan.changes] == [MAX_ENDED_AT]
    with pytest.raises(AccessEndOutOfRange):
        preview(
            Enroll((PairToEnroll(UserFactory(), course),), start_at=start + SECOND),
            Selection.named([]),
        )


def test_a_course_default_ending_before_2020_is_refused_as_an_end_given_would_be(clock):
    """A start typed in the admin (the one door that takes a start) must not make an end the
    API refuses when asked for, and cannot read back: its `ended_at` is a 32-bit Int."""
    days = 30
    course = CourseFactory(access_days=days)
    start = MIN_ENDED_AT - timedelta(days=days)
    plan = preview(
        Enroll((PairToEnroll(UserFactory(), course),), start_at=start), Selection.named([])
    )
    assert [change.new_ended_at for change in plan.changes] == [MIN_ENDED_AT]
    for early in (start - SECOND, datetime(1900, 1, 1, tzinfo=UTC)):
        with pytest.raises(InvalidAccessEnd):
            preview(
                Enroll((PairToEnroll(UserFactory(), course),), start_at=early),
                Selection.named([]),
            )
    # A course without a default length ends nowhere: any start the API can write as 32-bit
    # Unix seconds stays possible (enrolling.check_start), 1900 not.
    unbounded = CourseFactory(access_days=None)
    plan = preview(
        Enroll(
            (PairToEnroll(UserFactory(), unbounded),), start_at=datetime(1950, 1, 1, tzinfo=UTC)
        ),
        Selection.named([]),
    )
    assert [change.new_ended_at for change in plan.changes] == [None]
    with pytest.raises(InvalidAccessEnd):
        preview(
            Enroll(
                (PairToEnroll(UserFactory(), unbounded),),
                start_at=datetime(1900, 1, 1, tzinfo=UTC),
            ),
            Selection.named([]),
        )


def test_a_course_default_counts_whole_days_whatever_the_starts_zone(clock):
    """A start in Berlin on 1 March, 30 days: the clocks go forward on 29 March, and wall-clock
    days would end an hour early (08:00 UTC); the core counts 30 x 24 hours."""
    course = CourseFactory(access_days=30)
    start = datetime(2026, 3, 1, 10, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    plan = preview(
        Enroll((PairToEnroll(UserFactory(), course),), start_at=start), Selection.named([])
    )
    assert [change.new_ended_at for change in plan.changes] == [
        datetime(2026, 3, 31, 9, 0, tzinfo=UTC)
    ]


def test_only_targets_without_an_end_of_their_own_are_checked_against_the_course_default(clock):
    course = CourseFactory(access_days=30)
    late_start = MAX_ENDED_AT - timedelta(days=10)  # the default would end after 2038
    with pytest.raises(AccessEndOutOfRange):
        preview(
            Enroll((PairToEnroll(UserFactory(), course),), start_at=late_start), Selection.named([])
        )
    own_end = PairToEnroll(UserFactory(), course, MAX_ENDED_AT)
    plan = preview(Enroll((own_end,), start_at=late_start), Selection.named([]))
    assert [change.new_ended_at for change in plan.changes] == [MAX_ENDED_AT]


def test_requests_differing_in_one_parameter_are_described_apart(clock):
    user, course = UserFactory(), CourseFactory()
    end = clock.current + timedelta(days=10)
    base = Enroll((PairToEnroll(user, course, end),))
    variants = [
        Enroll((PairToEnroll(user, course, end + SECOND),)),
        Enroll((PairToEnroll(user, course),)),
        Enroll((PairToEnroll(user, course, end),), start_at=clock.current),
        Enroll((PairToEnroll(user, course, end),), refuse_existing=True),
        Enroll((PairToEnroll(user, course, end), PairToEnroll(UserFactory(), course, end))),
    ]
    descriptions = {base.describe(), *(variant.describe() for variant in variants)}
    assert len(descriptions) == 1 + len(variants)


def test_refusing_existing_enrollments_names_each_and_still_enrolls_the_others(clock):
    course = CourseFactory(access_days=10)
    existing = EnrollmentFactory(course=course)
    newcomer = UserFactory()
    operation = Enroll(
        (PairToEnroll(existing.user, course), PairToEnroll(newcomer, course)), refuse_existing=True
    )
    plan = enroll(operation, SYSTEM)
    assert [(skip.enrollment_id, skip.error.code) for skip in plan.skips] == [
        (existing.pk, "ALREADY_ENROLLED")
    ]
    assert Enrollment.objects.filter(user=newcomer, course=course).exists()


def test_a_removed_enrollment_is_skipped_by_name(clock):
    enrollment = EnrollmentFactory()
    apply(Remove(), Selection.named([enrollment.pk]), SYSTEM)
    plan = preview(Extend(days=5), Selection.named([enrollment.pk]))
    assert [(skip.enrollment_id, skip.error.code) for skip in plan.skips] == [
        (enrollment.pk, "ENROLLMENT_REMOVED")
    ]


@dataclass(frozen=True, slots=True)
class Touch(Operation):
    """An operation that keeps the default `describe`."""

    days: int
    action: ClassVar = AccessChange.Action.EXTEND
    permission: ClassVar = EXTEND_ACCESS


def test_the_default_description_names_the_operation_and_its_parameters():
    assert Touch(days=3).describe() == "Touch(days=3)"
    assert Touch(days=3).describe() != Touch(days=4).describe()


def test_an_undo_preview_names_the_fields_it_restores(clock):
    enrollment = EnrollmentFactory(ended_at=clock.current + timedelta(days=5))
    batch = uuid.uuid4()
    apply(Extend(days=30), Selection.named([enrollment.pk]), Attribution(None, "admin", "", batch))
    plan = preview(Undo(batch), Selection.named([enrollment.pk]))
    [change] = plan.changes
    assert [(f.name, f.old, f.new) for f in changed_fields(change)] == [
        ("ended_at", clock.current + timedelta(days=35), clock.current + timedelta(days=5))
    ]


@pytest.mark.parametrize(
    "at,detail",
    [
        (datetime(2030, 1, 1), "the end has no time zone"),
        (MIN_ENDED_AT, "the end is not after 2020-01-01T00:00:00Z"),
        (MAX_ENDED_AT + SECOND, "the end is after 2038-01-19T03:14:07Z"),
    ],
)
def test_each_refused_end_says_why(clock, at, detail):
    """The detail is what the admin and the commands show after the message (as for the
    extension's refusals, tests/enrollments/operations/test_pinned_edges.py)."""
    with pytest.raises(InvalidAccessEnd) as refused:
        preview(Expire(at), Selection.named([]))
    assert refused.value.detail == detail


def test_a_refused_enrollment_end_names_the_instant(clock):
    late = MAX_ENDED_AT + SECOND
    with pytest.raises(InvalidAccessEnd) as refused:
        check_access_end(late)
    assert refused.value.detail == f"{late.isoformat()} is out of range"


@pytest.fixture
def lost_race(monkeypatch):
    """The pair's enrollment appears between the read of the targets' enrollments and the
    insert (a concurrent enrollment committed first): `selection()` finds none, the insert
    hits the unique constraint, and `enroll` plans again. Deterministic, on any database."""
    course = CourseFactory(access_days=10)
    user = UserFactory()
    operation = Enroll((PairToEnroll(user, course),))
    shown = preview(operation, operation.selection())  # "will be enrolled"
    winner = EnrollmentFactory(user=user, course=course)
    monkeypatch.setattr(Enroll, "selection", lambda self, scope=None: Selection.named([]))
    return operation, shown, winner


def test_an_enrollment_that_lost_the_race_answers_already_enrolled(clock, lost_race):
    operation, _shown, winner = lost_race
    plan = enroll(operation, SYSTEM)
    assert (plan.changes, plan.unchanged) == ([], [winner.pk])
    assert Enrollment.objects.filter(course=winner.course).count() == 1


def test_a_confirmed_enrollment_that_lost_the_race_applies_nothing(clock, lost_race):
    operation, shown, winner = lost_race
    with pytest.raises(ChangedSincePreview):
        enroll(operation, SYSTEM, expected=shown.fingerprint())
    assert Enrollment.objects.filter(course=winner.course).count() == 1
    assert not AccessChange.objects.filter(enrollment=winner).exists()
