"""A run's cancel while a second runner of it has a chunk in flight (PostgreSQL, threads): the
run is CANCELLED, so its batch undoable, only once no chunk is in flight, so an undo restores
every row the run changed."""

import threading
from datetime import timedelta

import pytest
from django.db import connection

from enrollments import clock
from enrollments.errors import BatchRunUnfinished
from enrollments.models import AccessChange, Enrollment, OperationRun
from enrollments.operations import Extend, Selection, Undo, apply, runs
from enrollments.operations.audit import Attribution
from enrollments.operations.undoing import batch_selection
from tests.factories import CourseFactory, EnrollmentFactory
from tests.markers import requires_postgres

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]

BY = Attribution(None, AccessChange.Source.COMMAND, "runs")
State = OperationRun.State


def test_a_cancel_finishes_the_run_only_after_the_chunk_in_flight(monkeypatch):
    """Runner B has chunk 1 applied, locked and not committed when staff cancel and runner A
    (the sweep's second job) sees the cancel. A finished the run at once: the undo was
    admitted, restored the rows committed so far, and B's chunk then committed under the same
    batch and stayed changed. Now A leaves the run to B, which finishes it CANCELLED after
    its chunk, and the undo restores every row."""
    course, now = CourseFactory(), clock.now()
    rows = EnrollmentFactory.create_batch(
        6, course=course, start_at=now - timedelta(days=1), ended_at=now + timedelta(days=5)
    )
    original = {e.pk: e.ended_at for e in rows}
    run = runs.start(
        [(Extend(days=30), Selection.by_filter(Enrollment.objects.filter(course=course)))],
        BY,
        chunk_size=2,
    )
    in_flight, release = threading.Event(), threading.Event()
    record, recorded_by_b = runs._record, []

    def record_slowly_in_b(run_, chunk, plan):
        if threading.current_thread().name == "runner-b":
            recorded_by_b.append(chunk.seq)
            if len(recorded_by_b) == 2:  # the second chunk: changed, locked, not committed
                in_flight.set()
                assert release.wait(30)
        record(run_, chunk, plan)

    monkeypatch.setattr(runs, "_record", record_slowly_in_b)
    outcome = {}

    def runner_b():
        try:
            outcome["b"] = runs.advance(run.pk)
        finally:
            connection.close()

    thread = threading.Thread(target=runner_b, name="runner-b")
    thread.start()
    try:
        assert in_flight.wait(30)
        runs.cancel(run.pk)
        assert runs.advance(run.pk).finished_at is None  # runner A leaves the finish to B
        with pytest.raises(BatchRunUnfinished):
            batch_selection(run.batch_id)
    finally:
        release.set()
        thread.join(30)
    assert (outcome["b"].state, outcome["b"].changed) == (State.CANCELLED, 4)

    undo = apply(Undo(run.batch_id), batch_selection(run.batch_id), BY)
    assert len(undo.changes) == 4
    assert {e.pk: e.ended_at for e in Enrollment.objects.filter(course=course)} == original
