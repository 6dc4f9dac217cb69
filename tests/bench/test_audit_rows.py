"""The audit rows the operation core writes with COPY on PostgreSQL (a fix made for issue 6's bulk
target, see docs/benchmarks.md): the same rows as `bulk_create` wrote, in the same transaction,
visible as one statement in Django's query log."""

import uuid
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from enrollments.models import AccessChange, Enrollment
from enrollments.operations import Extend, Pause, Selection, apply
from enrollments.operations.audit import Attribution, save_audit_rows
from tests.factories import CourseFactory, EnrollmentFactory, OperatorFactory, StaffFactory
from tests.markers import requires_postgres

pytestmark = [requires_postgres, pytest.mark.postgres, pytest.mark.django_db]


def test_bulk_extension_audit_rows_hold_every_value(clock):
    staff = OperatorFactory()
    course = CourseFactory()
    ends = [clock.current + timedelta(days=n) for n in (1, 2, 3)]
    enrollments = [
        EnrollmentFactory(course=course, start_at=clock.current, ended_at=end) for end in ends
    ]

    result = apply(
        Extend(days=7),
        Selection.by_filter(Enrollment.objects.filter(course=course)),
        Attribution(staff, AccessChange.Source.COMMAND, "térm break, ünïcode & 'quotes'\ttab"),
    )

    rows = {row.enrollment_id: row for row in AccessChange.objects.filter(batch_id=result.batch_id)}
    assert set(rows) == {enrollment.pk for enrollment in enrollments}
    for enrollment, end in zip(enrollments, ends, strict=True):
        row = rows[enrollment.pk]
        assert row.action == AccessChange.Action.EXTEND == "extend"
        assert row.source == "command"
        assert row.actor_id == staff.pk
        assert row.reason == "térm break, ünïcode & 'quotes'\ttab"
        assert (row.old_ended_at, row.new_ended_at) == (end, end + timedelta(days=7))
        assert row.old_is_paused is row.new_is_paused is row.paused_seconds is None
        assert row.created_at == clock.current
        assert isinstance(row.pk, uuid.UUID)


def test_bulk_pause_audit_rows_keep_nulls_and_booleans(clock):
    course = CourseFactory()
    enrollment = EnrollmentFactory(course=course, start_at=clock.current)

    result = apply(
        Pause(),
        Selection.by_filter(Enrollment.objects.filter(course=course)),
        Attribution(None, AccessChange.Source.SYSTEM),
    )

    row = AccessChange.objects.get(batch_id=result.batch_id)
    assert row.enrollment_id == enrollment.pk
    assert (row.action, row.source, row.actor_id, row.reason) == ("pause", "system", None, "")
    assert (row.old_is_paused, row.new_is_paused) == (False, True)


def test_rows_are_written_in_the_callers_transaction(clock):
    enrollment = EnrollmentFactory(start_at=clock.current)
    row = Attribution(None, AccessChange.Source.SYSTEM).audit_values(
        enrollment_id=enrollment.pk, action=AccessChange.Action.EXTEND, now=clock.current
    )

    with pytest.raises(RuntimeError), transaction.atomic():
        save_audit_rows([row])
        assert AccessChange.objects.filter(pk=row["id"]).exists()
        raise RuntimeError("roll back")

    assert not AccessChange.objects.filter(pk=row["id"]).exists()


def test_the_copy_shows_in_the_query_log_as_one_statement(clock):
    enrollments = [EnrollmentFactory(start_at=clock.current) for _ in range(3)]
    rows = [
        Attribution(None, AccessChange.Source.ADMIN).audit_values(
            enrollment_id=enrollment.pk, action=AccessChange.Action.SET_END, now=clock.current
        )
        for enrollment in enrollments
    ]

    with CaptureQueriesContext(connection) as captured:
        save_audit_rows(rows)

    assert len(captured) == 1
    assert captured[0]["sql"].startswith('COPY "enrollments_accesschange"')
    # As Django logs a statement: its duration in seconds, as text (debug tools add them up).
    assert 0 <= float(captured[0]["time"]) < 60
    assert AccessChange.objects.filter(pk__in=[row["id"] for row in rows]).count() == 3


def test_every_column_round_trips_through_the_binary_copy(clock):
    """COPY's binary format sends each value in its column's exact type: the widest values of
    each (an int4 at its end, an int8 past int4's, microseconds, a NUL-free unicode reason,
    False as distinct from NULL) read back as written."""
    enrollment = EnrollmentFactory(start_at=clock.current)
    staff = StaffFactory()
    moment = clock.current.replace(microsecond=123456)
    row = Attribution(
        staff, AccessChange.Source.GRAPHQL, reason="ünïcode ✓ 'x'\n", batch_id=None
    ).audit_values(
        enrollment_id=enrollment.pk,
        action=AccessChange.Action.RESUME,
        now=moment,
        old_ended_at=moment - timedelta(days=400),
        new_ended_at=moment + timedelta(days=9000),
        old_is_paused=True,
        new_is_paused=False,
        paused_seconds=2**31 - 1,
        old_paused_at=moment - timedelta(seconds=1),
        old_total_paused_duration=2**40,
        old_removed_at=None,
        undoes_batch_id=uuid.uuid4(),
    )

    save_audit_rows([row])

    stored = AccessChange.objects.get(pk=row["id"])
    assert {name: getattr(stored, name) for name in row} == row
    assert stored.new_is_paused is False and stored.old_removed_at is None
