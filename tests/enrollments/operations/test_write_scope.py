"""How the core writes what it locked (issue 15): within the selection's own WHERE when it reads
the enrollment table alone (writing.update_locked), every locked row or nothing, in one UPDATE
on PostgreSQL. The cyclic collector's pause: test_collector.py."""

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from enrollments.models import AccessChange, Enrollment
from enrollments.operations import Extend, Pause, Selection, apply
from enrollments.operations.audit import Attribution
from enrollments.operations.core import write_scope
from enrollments.operations.writing import update_locked
from tests.factories import CourseFactory, EnrollmentFactory
from tests.markers import requires_postgres

pytestmark = pytest.mark.django_db

BY = Attribution(None, AccessChange.Source.COMMAND, "write scope")


def _updates(queries) -> list[str]:
    return [q["sql"] for q in queries if q["sql"].startswith("UPDATE")]


def test_a_one_table_selection_is_the_scope_of_its_writes(clock):
    course = CourseFactory()
    queryset = Enrollment.objects.filter(course=course)
    assert write_scope(Selection.by_filter(queryset)) is queryset
    assert write_scope(Selection.by_filter(Enrollment.objects.filter(course__slug="x"))) is None
    assert write_scope(Selection.named([EnrollmentFactory().pk])) is None


def test_a_filter_narrowed_to_ids_is_written_by_id(clock):
    """A run's chunk (and a command's batch) narrows its filter to a list of ids: the UPDATE
    names the changed ids alone, not the filter's WHERE with a second id array (PostgreSQL
    scanned the whole table for that, once per chunk: core.write_scope)."""
    course = CourseFactory()
    rows = EnrollmentFactory.create_batch(
        3, course=course, ended_at=clock.current + timedelta(days=9)
    )
    narrowed = Selection.by_filter(Enrollment.objects.filter(course=course)).narrowed(
        [rows[0].pk, rows[1].pk]
    )
    assert narrowed.narrowed_to_ids and write_scope(narrowed) is None
    with CaptureQueriesContext(connection) as queries:
        plan = apply(Extend(days=5), narrowed, BY)
    assert plan.changed_count == 2
    [update] = _updates(queries)
    assert '"course_id" =' not in update
    ends = dict(Enrollment.objects.values_list("pk", "ended_at"))
    assert ends[rows[2].pk] == clock.current + timedelta(days=9)
    assert {ends[rows[0].pk], ends[rows[1].pk]} == {clock.current + timedelta(days=14)}


@pytest.mark.parametrize("operation", [Extend(days=5), Pause()])
def test_the_update_carries_the_selections_where_and_the_ids(clock, operation):
    course = CourseFactory()
    rows = EnrollmentFactory.create_batch(
        3, course=course, ended_at=clock.current + timedelta(days=9)
    )
    other = EnrollmentFactory(ended_at=clock.current + timedelta(days=9))
    with CaptureQueriesContext(connection) as queries:
        plan = apply(operation, Selection.by_filter(Enrollment.objects.filter(course=course)), BY)
    assert plan.changed_count == 3
    [update] = _updates(queries)
    assert '"course_id" =' in update  # the selection's own condition
    written = Enrollment.objects.filter(pk__in=[r.pk for r in rows], updated_at=plan.applied_at)
    assert written.count() == 3
    other.refresh_from_db()
    assert other.updated_at != plan.applied_at


def test_a_write_that_misses_a_locked_row_raises_and_writes_nothing(clock):
    """A scope that no longer holds a row (here: one that never did) is refused before the
    transaction commits: no row of the chunk is written."""
    inside, outside = EnrollmentFactory.create_batch(2, ended_at=clock.current + timedelta(days=9))
    scope = Enrollment.objects.filter(pk=inside.pk)
    with (
        pytest.raises(RuntimeError, match="wrote 1 of 2 locked enrollments"),
        transaction.atomic(),
    ):
        update_locked([inside.pk, outside.pk], scope=scope, ended_at=None)
    inside.refresh_from_db()
    assert inside.ended_at is not None


def test_named_writes_stay_in_chunks(clock, monkeypatch):
    monkeypatch.setattr("enrollments.operations.core.CHUNK_SIZE", 2)
    course = CourseFactory()
    EnrollmentFactory.create_batch(5, course=course, ended_at=clock.current + timedelta(days=9))
    ids = list(Enrollment.objects.filter(course=course).values_list("pk", flat=True))
    with CaptureQueriesContext(connection) as queries:
        apply(Extend(days=1), Selection.named(ids), BY)
    assert len(_updates(queries)) == 3  # 2 + 2 + 1, by id alone


@pytest.mark.skipif(connection.vendor == "postgresql", reason="SQLite's bound-parameter limit")
def test_on_sqlite_scoped_writes_stay_in_chunks(clock, monkeypatch):
    """An id list is bound parameters there, so a scoped write is chunked too."""
    monkeypatch.setattr("enrollments.operations.core.CHUNK_SIZE", 2)
    course = CourseFactory()
    EnrollmentFactory.create_batch(5, course=course, ended_at=clock.current + timedelta(days=9))
    selection = Selection.by_filter(Enrollment.objects.filter(course=course))
    with CaptureQueriesContext(connection) as queries:
        plan = apply(Extend(days=1), selection, BY)
    assert plan.changed_count == 5 and len(_updates(queries)) == 3


@requires_postgres
def test_on_postgresql_a_scoped_selection_is_one_update_however_many_rows(clock, monkeypatch):
    monkeypatch.setattr("enrollments.operations.core.CHUNK_SIZE", 2)
    course = CourseFactory()
    EnrollmentFactory.create_batch(5, course=course, ended_at=clock.current + timedelta(days=9))
    with CaptureQueriesContext(connection) as queries:
        plan = apply(
            Extend(days=1), Selection.by_filter(Enrollment.objects.filter(course=course)), BY
        )
    assert plan.changed_count == 5 and len(_updates(queries)) == 1
    assert AccessChange.objects.filter(batch_id=plan.batch_id).count() == 5
