"""Fixtures for the admin tests: staff with and without the access permissions."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from tests.factories import CourseFactory, EnrollmentFactory, StaffFactory


def grant(user, *codenames: str):
    """Gives `user` the enrollments permissions named (e.g. "extend_access")."""
    perms = Permission.objects.filter(content_type__app_label="enrollments", codename__in=codenames)
    assert perms.count() == len(codenames), codenames
    user.user_permissions.add(*perms)
    return user


@pytest.fixture
def operator(db):
    """Staff who can see enrollments and extend, pause and resume them."""
    return grant(
        StaffFactory(), "view_enrollment", "change_enrollment", "extend_access", "pause_enrollment"
    )


@pytest.fixture
def viewer(db):
    """Staff who can see enrollments but hold neither access permission."""
    return grant(StaffFactory(), "view_enrollment", "change_enrollment")


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def enroller_client(db):
    """Staff who may see enrollments and enroll learners ("Enroll learners…")."""
    return logged_in(grant(StaffFactory(), "view_enrollment", "enroll_learners"))


@pytest.fixture
def operator_client(operator):
    return logged_in(operator)


@pytest.fixture
def viewer_client(viewer):
    return logged_in(viewer)


@pytest.fixture
def three_enrollments(clock):
    """Three active enrollments in one course, ending in 5, 10 and 15 days."""
    course = CourseFactory(title="Python Basics", slug="python-basics")
    return [
        EnrollmentFactory(
            course=course,
            start_at=clock.current - timedelta(days=10),
            ended_at=clock.current + timedelta(days=days),
        )
        for days in (5, 10, 15)
    ]
