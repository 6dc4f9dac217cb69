"""Audit rows reference their enrollment with a database constraint (migration 0010, issue 22,
item 2; 0009 had dropped it): the database refuses an audit row naming a missing enrollment,
whatever wrote it; an enrollment with audit rows cannot be deleted (PROTECT); the core writes
audit rows only for enrollments it has locked. The actor keeps its constraint too."""

import uuid
from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError

from enrollments.models import AccessChange, Enrollment
from enrollments.operations import Extend, Selection, apply
from enrollments.operations.audit import Attribution
from tests.factories import EnrollmentFactory, OperatorFactory
from tests.markers import requires_postgres

pytestmark = pytest.mark.django_db


def test_an_enrollment_with_audit_rows_cannot_be_deleted(clock):
    enrollment = EnrollmentFactory(ended_at=clock.current + timedelta(days=3))
    apply(Extend(days=1), Selection.named([enrollment.pk]), Attribution(None, "command"))
    with pytest.raises(ProtectedError):
        enrollment.delete()
    with pytest.raises(ProtectedError):
        Enrollment.objects.filter(pk=enrollment.pk).delete()
    assert Enrollment.objects.filter(pk=enrollment.pk).exists()


def test_deleting_the_actor_keeps_the_audit_row_without_them(clock):
    enrollment = EnrollmentFactory(ended_at=clock.current + timedelta(days=3))
    operator = OperatorFactory()
    plan = apply(Extend(days=1), Selection.named([enrollment.pk]), Attribution(operator, "admin"))
    operator.delete()
    row = AccessChange.objects.get(batch_id=plan.batch_id)
    assert row.actor is None and row.enrollment_id == enrollment.pk


def test_every_audit_row_names_an_existing_enrollment(clock):
    rows = EnrollmentFactory.create_batch(3, ended_at=clock.current + timedelta(days=3))
    apply(Extend(days=2), Selection.named([r.pk for r in rows]), Attribution(None, "command"))
    assert not AccessChange.objects.exclude(
        enrollment_id__in=Enrollment.objects.values("pk")
    ).exists()


def test_the_database_refuses_an_audit_row_naming_a_missing_enrollment(clock):
    """Written around the core (a bare UPDATE): the deferred check refuses it at commit, here
    forced with Django's check_constraints (SET CONSTRAINTS ALL IMMEDIATE on PostgreSQL,
    PRAGMA foreign_key_check on SQLite)."""
    enrollment = EnrollmentFactory(ended_at=clock.current + timedelta(days=3))
    plan = apply(Extend(days=1), Selection.named([enrollment.pk]), Attribution(None, "command"))
    with pytest.raises(IntegrityError), transaction.atomic():
        AccessChange.objects.filter(batch_id=plan.batch_id).update(enrollment_id=uuid.uuid4())
        connection.check_constraints(table_names=[AccessChange._meta.db_table])
    assert AccessChange.objects.get(batch_id=plan.batch_id).enrollment_id == enrollment.pk


@requires_postgres
def test_the_enrollment_and_the_actor_have_deferred_foreign_key_constraints():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT a.attname, c.confrelid::regclass::text, c.condeferrable, c.condeferred"
            " FROM pg_constraint c JOIN pg_attribute a"
            " ON a.attrelid = c.conrelid AND a.attnum = ANY(c.conkey)"
            " WHERE c.conrelid = %s::regclass AND c.contype = 'f' AND c.convalidated"
            " ORDER BY a.attname",
            [AccessChange._meta.db_table],
        )
        assert cursor.fetchall() == [
            ("actor_id", "lms_user", True, True),
            ("enrollment_id", "enrollments_enrollment", True, True),
        ]
