"""enrollments 0021 carries runs written down as one row per enrollment over to chunks: a run
stopped half way before the upgrade resumes after it with only its pending rows, each changed
once, and a finished run keeps the skipped rows its job page lists."""

import uuid
from datetime import timedelta

import pytest

from enrollments.models import AccessChange, Enrollment, OperationRun
from enrollments.operations import Extend, Selection, runs
from enrollments.operations.audit import Attribution
from tests.factories import EnrollmentFactory, OperatorFactory
from tests.migrating import migrate, migrate_to_latest
from tests.run_chunks import pending_rows, written_ids

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("enrollments", "0020_verbose_names")]
AFTER = [("enrollments", "0021_operation_run_chunks")]


def test_rows_become_chunks_and_a_half_done_run_resumes_with_its_pending_rows_only(clock):
    operator = OperatorFactory()
    enrollments = sorted(
        (EnrollmentFactory(ended_at=clock.current + timedelta(days=5)) for _ in range(5)),
        key=lambda e: e.pk,
    )
    ghost = uuid.UUID(int=0)  # named, never found: the old run recorded it skipped
    run = runs.start(
        [(Extend(days=30), Selection.named([e.pk for e in enrollments]))],
        Attribution(operator, AccessChange.Source.COMMAND, "carried over"),
    )
    done_run = runs.start(
        [(Extend(days=1), Selection.named([ghost]))],
        Attribution(operator, AccessChange.Source.COMMAND, "finished before"),
    )
    runs.advance(done_run.pk)
    try:
        old_apps = migrate(BEFORE)
        Row = old_apps.get_model("enrollments", "OperationRunRow")
        # As the old code wrote them: the first two rows applied, three pending.
        for index, enrollment in enumerate(enrollments):
            Row.objects.create(
                run_id=run.pk,
                part=0,
                enrollment_id=enrollment.pk,
                updated_at=enrollment.updated_at,
                outcome="changed" if index < 2 else "pending",
            )
        Row.objects.create(
            run_id=done_run.pk,
            part=0,
            enrollment_id=ghost,
            outcome="skipped",
            skip_code="NOT_FOUND",
        )
        OperationRun.objects.filter(pk=run.pk).update(changed=2)

        migrate(AFTER)
        # Then on to the latest schema, which the code below reads (later migrations add
        # columns to the runs: 0023's freezing_courses).
        migrate_to_latest()

        assert pending_rows(run) == 3
        assert written_ids(run) == [e.pk for e in enrollments[2:]] + [e.pk for e in enrollments[:2]]
        assert list(runs.skipped_rows(done_run)) == [(ghost, "NOT_FOUND")]
        run = runs.advance(run.pk)
        assert (run.state, run.changed) == (OperationRun.State.DONE, 5)
        changed = set(
            AccessChange.objects.filter(batch_id=run.batch_id).values_list(
                "enrollment_id", flat=True
            )
        )
        # Only the pending three were applied now (the first two were "applied" before the
        # upgrade in this test's story, so they got no audit row here).
        assert changed == {e.pk for e in enrollments[2:]}
        ends = dict(Enrollment.objects.values_list("pk", "ended_at"))
        assert {ends[e.pk] for e in enrollments[2:]} == {clock.current + timedelta(days=35)}
        assert {ends[e.pk] for e in enrollments[:2]} == {clock.current + timedelta(days=5)}
    finally:
        migrate_to_latest()
