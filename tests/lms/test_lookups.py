"""`pk__any_of`: the same rows as `pk__in`, one array parameter on PostgreSQL, no query at all
for an empty list (as `pk__in=[]`)."""

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from enrollments.models import Enrollment
from tests.factories import EnrollmentFactory

pytestmark = pytest.mark.django_db


def test_matches_what_in_matches():
    rows = [EnrollmentFactory() for _ in range(3)]
    wanted = [rows[0].pk, rows[2].pk, uuid.uuid4()]
    assert set(Enrollment.objects.filter(pk__any_of=wanted).values_list("pk", flat=True)) == {
        rows[0].pk,
        rows[2].pk,
    }
    assert Enrollment.objects.filter(pk__any_of=wanted).update(total_paused_duration=7) == 2


def test_an_empty_list_runs_no_query():
    EnrollmentFactory()
    with CaptureQueriesContext(connection) as queries:
        assert list(Enrollment.objects.filter(pk__any_of=[])) == []
        assert Enrollment.objects.filter(pk__any_of=[]).update(total_paused_duration=1) == 0
    assert len(queries) == 0


def test_one_parameter_for_many_ids_on_postgresql():
    ids = [uuid.uuid4() for _ in range(500)]
    sql, params = Enrollment.objects.filter(pk__any_of=ids).query.sql_with_params()
    if connection.vendor == "postgresql":
        assert "= ANY(%s::uuid[])" in sql and len(params) == 1
    else:
        assert len(params) == 500


def test_uuids_are_sent_as_the_text_of_one_array_on_postgresql():
    """The core's id lists: one string PostgreSQL parses (lms/lookups.py), the same rows."""
    rows = [EnrollmentFactory() for _ in range(3)]
    wanted = [rows[1].pk, uuid.uuid4(), rows[0].pk]
    queryset = Enrollment.objects.filter(pk__any_of=wanted)
    sql, params = queryset.query.sql_with_params()
    if connection.vendor == "postgresql":
        assert params == ("{" + ",".join(pk.hex for pk in wanted) + "}",)
    assert set(queryset.values_list("pk", flat=True)) == {rows[0].pk, rows[1].pk}


def test_ids_given_as_strings_take_the_general_path():
    """A list that is not all UUID objects (text ids) is prepared value by value, as before."""
    row = EnrollmentFactory()
    wanted = [str(row.pk), uuid.uuid4()]
    sql, params = Enrollment.objects.filter(pk__any_of=wanted).query.sql_with_params()
    if connection.vendor == "postgresql":
        assert len(params) == 1 and isinstance(params[0], list)
    assert list(Enrollment.objects.filter(pk__any_of=wanted).values_list("pk", flat=True)) == [
        row.pk
    ]
