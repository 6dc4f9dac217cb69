"""Python's cyclic collector while the core and a run work through many rows (collector.py):
paused while the core plans and writes and while a run applies a chunk, restored as it was
found, and with no reference cycle left behind for it to find."""

import gc
from datetime import timedelta

import pytest

from enrollments.errors import StillExpired
from enrollments.models import AccessChange, Enrollment
from enrollments.operations import Extend, Selection, apply, preview, run_chunks, runs
from enrollments.operations.audit import Attribution
from tests.factories import EnrollmentFactory

pytestmark = pytest.mark.django_db

BY = Attribution(None, AccessChange.Source.COMMAND, "collector")


class _Watching(Extend):
    """Extend, noting whether the cyclic collector runs while it plans."""

    seen: list = []

    def plan(self, rows, *, now, named):
        self.seen.append(gc.isenabled())
        return super().plan(rows, now=now, named=named)


def test_the_cyclic_collector_is_paused_while_planning_and_restored(clock):
    enrollment = EnrollmentFactory(ended_at=clock.current + timedelta(days=9))
    _Watching.seen = []
    assert gc.isenabled()
    preview(_Watching(days=1), Selection.named([enrollment.pk]))
    apply(_Watching(days=1), Selection.named([enrollment.pk]), BY)
    assert _Watching.seen == [False, False] and gc.isenabled()


def test_the_collector_is_restored_after_a_failure_and_left_off_if_it_was(clock):
    enrollment = EnrollmentFactory(ended_at=clock.current + timedelta(days=9))

    class Failing(Extend):
        def plan(self, rows, *, now, named):
            raise ZeroDivisionError

    with pytest.raises(ZeroDivisionError):
        apply(Failing(days=1), Selection.named([enrollment.pk]), BY)
    assert gc.isenabled()
    gc.disable()
    try:
        preview(Extend(days=1), Selection.named([enrollment.pk]))
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_run_applies_each_chunk_with_the_collector_paused(clock, monkeypatch):
    """The chunk's own objects (its ids, its query, its skips, its report) too, not only the
    core's part."""
    EnrollmentFactory.create_batch(3, ended_at=clock.current + timedelta(days=9))
    seen = []
    rows_of = run_chunks.rows_of

    def watching(chunk):
        seen.append(gc.isenabled())
        return rows_of(chunk)

    monkeypatch.setattr(run_chunks, "rows_of", watching)
    run = runs.start([(Extend(days=1), Selection.by_filter(Enrollment.objects.all()))], BY)
    assert gc.isenabled()
    run = runs.advance(run.pk, on_chunk=lambda chunk: seen.append(gc.isenabled()))
    # Read and reported with the collector paused; restored once the run is done.
    assert run.changed == 3 and seen == [False, False] and gc.isenabled()


def test_skipped_rows_leave_no_reference_cycle_behind(clock):
    """A skip keeps its error without the traceback, which held the planning frame and so the
    plan holding the error: a cycle per skipped row, which only the collector frees."""
    EnrollmentFactory.create_batch(3, ended_at=clock.current - timedelta(days=30))
    gc.collect()
    gc.disable()
    # What the collector frees is kept in gc.garbage for a look: none of it is a skip's error
    # (other cyclic garbage, the ORM's or the test tools', is no concern of this test).
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        plan = preview(Extend(days=1), Selection.by_filter(Enrollment.objects.all()))
        assert len(plan.skips) == 3
        assert all(skip.error.__traceback__ is None for skip in plan.skips)
        del plan
        gc.collect()
        assert not [found for found in gc.garbage if isinstance(found, StillExpired)]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
