"""Audit rows reference their enrollment without a database constraint (migration 0009, issue
15); what the constraint guaranteed still holds: an enrollment with audit rows cannot be
deleted (PROTECT, the ORM's), and the core writes audit rows only for enrollments it has
locked, so none names a missing enrollment. The actor keeps its database constraint."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import ProtectedError

from enrollments.models import AccessChange, Enrollment
from enrollments.operations import Extend, Selection, apply
from enrollments.operations.audit import Attribution
from tests.factories import EnrollmentFactory, StaffFactory
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
    staff = StaffFactory()
    plan = apply(Extend(days=1), Selection.named([enrollment.pk]), Attribution(staff, "admin"))
    staff.delete()
    row = AccessChange.objects.get(batch_id=plan.batch_id)
    assert row.actor is None and row.enrollment_id == enrollment.pk


def test_every_audit_row_names_an_existing_enrollment(clock):
    rows = EnrollmentFactory.create_batch(3, ended_at=clock.current + timedelta(days=3))
    apply(Extend(days=2), Selection.named([r.pk for r in rows]), Attribution(None, "command"))
    assert not AccessChange.objects.exclude(
        enrollment_id__in=Enrollment.objects.values("pk")
    ).exists()


@requires_postgres
def test_only_the_actor_keeps_a_foreign_key_constraint():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT a.attname FROM pg_constraint c JOIN pg_attribute a"
            " ON a.attrelid = c.conrelid AND a.attnum = ANY(c.conkey)"
            " WHERE c.conrelid = %s::regclass AND c.contype = 'f'",
            [AccessChange._meta.db_table],
        )
        assert [name for (name,) in cursor.fetchall()] == ["actor_id"]
