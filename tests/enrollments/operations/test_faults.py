"""Faults half way through a bulk operation leave no enrollment and no audit row changed."""

import psycopg
import pytest
from django.db import DatabaseError, connection

from enrollments.models import AccessChange, Enrollment
from enrollments.operations import Extend, Selection, apply
from enrollments.operations import core as core_module
from enrollments.operations.audit import Attribution
from tests.factories import EnrollmentFactory
from tests.markers import requires_postgres


def state_of_everything():
    return (
        sorted(Enrollment.objects.values_list("pk", "ended_at", "updated_at")),
        AccessChange.objects.count(),
    )


def kill_own_backend() -> None:
    """Ends this process's database session from another connection, as a failover or an
    operator's pg_terminate_backend would."""
    pid = connection.connection.info.backend_pid
    params = connection.settings_dict
    with psycopg.connect(
        host=params["HOST"],
        port=params["PORT"] or 5432,
        user=params["USER"],
        password=params["PASSWORD"] or None,
        dbname=params["NAME"],
        autocommit=True,
    ) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_connection_dropped_half_way_through_a_bulk_extension(monkeypatch):
    EnrollmentFactory.create_batch(6)
    before = state_of_everything()
    monkeypatch.setattr(core_module, "CHUNK_SIZE", 1)
    original_save = core_module.save_audit_rows
    chunks_written = []

    def save_then_drop(rows):
        original_save(rows)
        chunks_written.append(1)
        if len(chunks_written) == 3:
            kill_own_backend()

    monkeypatch.setattr(core_module, "save_audit_rows", save_then_drop)

    with pytest.raises(DatabaseError):
        # Through a join: written in chunks by id (one UPDATE on the enrollment table alone).
        apply(
            Extend(days=5),
            Selection.by_filter(Enrollment.objects.filter(user__is_active=True)),
            Attribution(None, "command"),
        )

    connection.close()  # the broken connection is replaced by a fresh one on next use
    assert len(chunks_written) == 3
    assert state_of_everything() == before
