"""Users, courses and items: the constraints the rest of the app relies on."""

import pytest
from django.contrib.auth import authenticate
from django.core.exceptions import ValidationError
from django.db import DataError, IntegrityError, transaction

from lms.models import CourseItem, User
from tests.factories import CourseFactory, CourseItemFactory

pytestmark = pytest.mark.django_db


def test_email_is_unique_whatever_its_case():
    User.objects.create_user("Ann@Example.com", "pw-123456789")
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create_user("ann@example.com", "pw-123456789")


def test_log_in_with_the_email_in_any_case(rf):
    user = User.objects.create_user("Bob@Example.com", "pw-123456789")
    # authenticate() takes the request: django-axes (log-in throttling) counts by it.
    request = rf.post("/admin/login/")
    assert authenticate(request, username="bob@example.COM", password="pw-123456789") == user
    assert authenticate(request, username="bob@example.com", password="wrong") is None


def test_a_user_needs_an_email():
    with pytest.raises(ValueError):
        User.objects.create_user("", "pw")


def test_item_positions_are_unique_within_a_course_only():
    course = CourseFactory()
    CourseItemFactory(course=course, position=1)
    CourseItemFactory(position=1)  # another course
    with pytest.raises(IntegrityError), transaction.atomic():
        CourseItemFactory(course=course, position=1)


def test_item_position_fits_a_graphql_int():
    """The API serialises `position` as a 32-bit Int; SQLite would store a larger number."""
    course = CourseFactory()
    CourseItemFactory(course=course, position=2**31 - 1)
    # PostgreSQL's integer column refuses it itself (DataError); SQLite needs the constraint.
    with pytest.raises((IntegrityError, DataError)), transaction.atomic():
        CourseItem.objects.create(course=course, title="too far", position=2**31)
    with pytest.raises(ValidationError):
        CourseItem(course=course, title="too far", position=2**31).full_clean()
