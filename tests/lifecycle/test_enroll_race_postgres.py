"""Concurrent enrollments of the same pair (PostgreSQL, threads): the unique (user, course)
constraint lets one insert; the others are planned again and answer "already enrolled"
(unchanged), never a server error. The same for two requests creating the same new learner."""

import pytest

from enrollments.errors import AlreadyEnrolled
from enrollments.models import AccessChange, Enrollment
from enrollments.operations.audit import Attribution
from enrollments.operations.enrolling_learners import enrollment_create, enrollment_enroll
from lms.models import User
from tests.factories import CourseFactory, UserFactory
from tests.markers import requires_postgres
from tests.threads import run_at_once

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]

BY = Attribution(None, AccessChange.Source.GRAPHQL)


def test_concurrent_enrollments_of_one_pair_make_one_enrollment():
    user, course = UserFactory(), CourseFactory(access_days=30)

    results = run_at_once(
        6,
        lambda i: enrollment_enroll(course=course, user=User.objects.get(pk=user.pk), by=BY).pk,
    )

    assert not [r for r in results if isinstance(r, Exception)], results
    enrollment = Enrollment.objects.get(user=user, course=course)
    assert set(results) == {enrollment.pk}
    assert AccessChange.objects.filter(enrollment=enrollment).count() == 1


def test_concurrent_enrollments_by_a_new_address_create_one_learner():
    course = CourseFactory(access_days=None)

    results = run_at_once(
        6,
        lambda i: (
            enrollment_enroll(
                course=course, email="race@example.com", name="Race Condition", by=BY
            ).pk
        ),
    )

    assert not [r for r in results if isinstance(r, Exception)], results
    assert User.objects.filter(email="race@example.com").count() == 1
    assert Enrollment.objects.filter(course=course).count() == 1


def test_concurrent_admin_adds_refuse_the_losers_as_already_enrolled():
    user, course = UserFactory(), CourseFactory()

    results = run_at_once(4, lambda i: enrollment_create(user=user, course=course))

    assert len([r for r in results if isinstance(r, Enrollment)]) == 1
    assert all(isinstance(r, Enrollment | AlreadyEnrolled) for r in results), results
    assert Enrollment.objects.filter(user=user, course=course).count() == 1


def test_two_admin_confirms_of_one_preview_apply_once():
    from tests.admin.conftest import grant, logged_in
    from tests.factories import StaffFactory

    course = CourseFactory(access_days=30)
    UserFactory(email="ann@example.com")
    staff = grant(StaffFactory(), "view_enrollment", "enroll_learners")
    first, second = logged_in(staff), logged_in(staff)
    url = "/admin/enrollments/enrollment/enroll/"
    learners = "ann@example.com\nnew@example.com,New Person"
    shown = first.post(url, {"course": str(course.pk), "learners": learners, "_preview": "1"})
    confirm = {
        "course": str(course.pk),
        "learners": learners,
        "fingerprint": shown.context["fingerprint"],
        "_confirm": "1",
    }

    responses = run_at_once(2, lambda i: (first, second)[i].post(url, confirm))

    assert sorted(r.status_code for r in responses) == [200, 302]
    again = next(r for r in responses if r.status_code == 200)
    assert "changed since the preview" in again.content.decode()
    assert Enrollment.objects.filter(course=course).count() == 2
    assert User.objects.filter(email="new@example.com").count() == 1
    assert AccessChange.objects.filter(enrollment__course=course).count() == 2
