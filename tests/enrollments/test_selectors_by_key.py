"""Finding users by id or e-mail and courses by id or slug (enrollments.selectors.by_key): one rule
for commands and CSV rows."""

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from enrollments.selectors.by_key import (
    course_id_find,
    course_ids_by_key,
    course_key,
    user_find,
    user_id_find,
    user_ids_by_key,
    user_key,
)
from tests.factories import CourseFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_a_user_is_found_by_id_or_by_email_in_any_case():
    ann = UserFactory(email="Ann@Example.com")

    assert user_find(str(ann.pk)) == ann
    assert user_find("ann@example.com") == ann
    assert user_find("  ANN@EXAMPLE.COM ") == ann
    assert user_id_find("ann@EXAMPLE.com") == ann.pk


def test_unknown_or_malformed_values_name_no_user():
    UserFactory(email="ann@example.com")

    assert user_find("bob@example.com") is None
    assert user_find(str(uuid.uuid4())) is None
    assert user_id_find("not-a-uuid-and-not-an-email") is None
    assert user_id_find("") is None


def test_a_course_is_found_by_id_or_by_its_exact_slug():
    course = CourseFactory(slug="python-basics")

    assert course_id_find(str(course.pk)) == course.pk
    assert course_id_find(" python-basics ") == course.pk
    assert course_id_find("Python-Basics") is None  # slugs are compared exactly
    assert course_id_find(str(uuid.uuid4())) is None


def test_the_bulk_forms_key_each_value_as_the_single_forms_do():
    ann, bob = UserFactory(email="Ann@Example.com"), UserFactory(email="bob@example.com")
    course = CourseFactory(slug="python-basics")
    values = ["ANN@example.com", str(bob.pk), "nobody@example.com"]

    users = user_ids_by_key(values)
    courses = course_ids_by_key(["python-basics", str(course.pk), "missing"])

    assert users == {"ann@example.com": ann.pk, bob.pk: bob.pk}
    assert {value: users.get(user_key(value)) for value in values} == {
        "ANN@example.com": ann.pk,
        str(bob.pk): bob.pk,
        "nobody@example.com": None,
    }
    assert courses == {"python-basics": course.pk, course.pk: course.pk}
    assert courses[course_key(str(course.pk))] == course.pk


def test_bulk_lookups_take_one_query_per_kind_and_chunk(django_assert_num_queries):
    UserFactory(email="ann@example.com")
    emails = [f"user{n}@example.com" for n in range(2500)]  # two chunks of at most 2000
    ids = [str(uuid.uuid4()) for _ in range(3)]

    with django_assert_num_queries(3):
        found = user_ids_by_key(["ann@example.com", *emails, *ids])
    with django_assert_num_queries(0):
        assert user_ids_by_key([]) == {}

    assert list(found) == ["ann@example.com"]


def test_the_single_forms_take_one_query(django_assert_num_queries):
    ann = UserFactory(email="ann@example.com")
    CourseFactory(slug="python-basics")

    with django_assert_num_queries(1):
        assert user_find("ANN@example.com") == ann
    with django_assert_num_queries(1):
        assert course_id_find("python-basics") is not None


def test_emails_are_compared_as_lower_email_the_expression_of_the_unique_index():
    UserFactory(email="ann@example.com")

    with CaptureQueriesContext(connection) as queries:
        user_ids_by_key(["Ann@Example.com"])

    (query,) = queries.captured_queries
    assert 'LOWER("lms_user"."email") IN' in query["sql"]
    assert "ann@example.com" in query["sql"]
