"""The order enrolling writes new rows in: new enrollments in the unique (user, course) index's
order whatever order the request lists them in, new learners in the order of their lower-cased
addresses, and the doors' reports still in the entries' order. Two requests naming the same
new pairs or learners in different orders then meet at their first shared key instead of
deadlocking (the race itself: test_enrolling_order_postgres.py)."""

import pytest

from enrollments.models import AccessChange, Enrollment
from enrollments.operations import Selection, enrolling_learners, preview
from enrollments.operations.audit import Attribution
from enrollments.operations.enrolling import Enroll, NewEnrollment, PairToEnroll, enroll
from enrollments.operations.enrolling_learners import Entry, apply_entries
from tests.factories import CourseFactory, EnrollmentFactory, UserFactory

pytestmark = pytest.mark.django_db

SYSTEM = Attribution(None, AccessChange.Source.SYSTEM)


def _pair(change):
    return (change.user_id, change.course_id)


def test_new_enrollments_are_planned_and_inserted_in_key_order_whatever_the_listing(clock):
    course = CourseFactory()
    users = UserFactory.create_batch(6)
    listed = sorted(users, key=lambda user: user.pk, reverse=True)  # the opposite of key order

    plan = enroll(Enroll(tuple(PairToEnroll(user, course) for user in listed)), SYSTEM)

    # The core writes a plan's changes chunk by chunk in this order: the INSERTs' order.
    assert [_pair(change) for change in plan.changes] == [
        (user.pk, course.pk) for user in reversed(listed)
    ]
    assert Enrollment.objects.filter(course=course).count() == len(users)


def test_the_changes_of_existing_enrollments_keep_their_places(clock):
    course = CourseFactory()
    removed = EnrollmentFactory(course=course, removed_at=clock.current)
    new = sorted(UserFactory.create_batch(3), key=lambda user: user.pk, reverse=True)
    targets = [PairToEnroll(new[0], course), PairToEnroll(removed.user, course)]
    targets += [PairToEnroll(user, course) for user in new[1:]]

    plan = enroll(Enroll(tuple(targets)), SYSTEM)

    kinds = [isinstance(change, NewEnrollment) for change in plan.changes]
    assert kinds == [True, False, True, True]
    assert plan.changes[1].enrollment_id == removed.pk
    created = [_pair(change) for change in plan.changes if isinstance(change, NewEnrollment)]
    assert created == sorted(created)


def test_the_same_new_pairs_in_any_order_are_planned_alike(clock):
    course = CourseFactory()
    targets = tuple(PairToEnroll(user, course) for user in UserFactory.create_batch(5))

    forward = preview(Enroll(targets), Selection.named([]))
    backward = preview(Enroll(tuple(reversed(targets))), Selection.named([]))

    assert [_pair(c) for c in forward.changes] == [_pair(c) for c in backward.changes]


def test_new_learners_are_created_in_address_order_and_reported_in_line_order(clock, monkeypatch):
    course = CourseFactory(access_days=None)
    emails = ["Zoe@example.com", "adam@example.com", "Mia@example.com", "bea@example.com"]
    entries = [
        Entry(line=n + 1, user=email, course=course, name="New Learner")
        for n, email in enumerate(emails)
    ]
    created = []
    real = enrolling_learners.learner_find_or_create

    def spy(*, email, name):
        created.append(email)
        return real(email=email, name=name)

    monkeypatch.setattr(enrolling_learners, "learner_find_or_create", spy)

    result = apply_entries(entries, create_users=True, by=SYSTEM)

    assert created == sorted(emails, key=str.lower)
    assert [entry.line for entry, _note in result.rows()["enrolled"]] == [1, 2, 3, 4]
    assert Enrollment.objects.filter(course=course).count() == len(emails)
