"""Two requests creating the same new rows, listed in opposite orders, at once (PostgreSQL,
threads): one creates them, the other gets an ordinary answer (already enrolled, the learner
found), never a deadlock. Inserted in request order, each held a key the other waited for
(enrollment_unique_user_course across INSERT chunks, lms_user_email_key between learners)
and PostgreSQL aborted one with a deadlock, which nothing retried."""

import pytest

from enrollments.models import AccessChange, Enrollment
from enrollments.operations.audit import Attribution
from enrollments.operations.core import CHUNK_SIZE
from enrollments.operations.enrolling import Enroll, PairToEnroll, enroll
from enrollments.operations.enrolling_learners import Entry, apply_entries
from lms.models import User
from tests.factories import CourseFactory
from tests.markers import requires_postgres
from tests.threads import run_at_once

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]

SYSTEM = Attribution(None, AccessChange.Source.SYSTEM)


def test_two_bulk_enrollments_of_the_same_new_pairs_in_opposite_orders():
    course = CourseFactory(access_days=None)
    count = 2 * CHUNK_SIZE + 1  # three INSERT chunks: the requests' chunks interleave
    users = User.objects.bulk_create(User(email=f"bulk{i}@example.com") for i in range(count))
    targets = [PairToEnroll(user, course) for user in users]

    def work(i):
        listed = targets if i == 0 else targets[::-1]
        return enroll(Enroll(tuple(listed)), SYSTEM)

    results = run_at_once(2, work)

    assert not [r for r in results if isinstance(r, Exception)], results
    # One request enrolled every pair; the other found them all enrolled.
    assert sorted(plan.changed_count for plan in results) == [0, count]
    assert sorted(len(plan.unchanged) for plan in results) == [0, count]
    assert Enrollment.objects.filter(course=course).count() == count
    assert AccessChange.objects.filter(enrollment__course=course).count() == count


def test_two_imports_creating_the_same_new_learners_in_opposite_orders():
    course = CourseFactory(access_days=None)
    emails = [f"new{i}@example.com" for i in range(60)]

    def work(i):
        listed = emails if i == 0 else emails[::-1]
        entries = [
            Entry(line=n + 1, user=email, course=course, name="New Learner")
            for n, email in enumerate(listed)
        ]
        return apply_entries(entries, create_users=True, by=SYSTEM)

    results = run_at_once(2, work)

    assert not [r for r in results if isinstance(r, Exception)], results
    for result in results:  # each reports its own entries, in its own line order
        assert [entry.line for entry, _note in result.rows()["enrolled"]] == list(range(1, 61))
    assert User.objects.filter(email__in=emails).count() == len(emails)
    assert Enrollment.objects.filter(course=course).count() == len(emails)
    assert AccessChange.objects.filter(enrollment__course=course).count() == len(emails)
