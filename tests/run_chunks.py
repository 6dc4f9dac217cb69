"""What a run wrote down, read back for the tests (enrollments/operations/run_chunks.py packs
it; the code itself never needs these totals)."""

import uuid

from enrollments.models import OperationRun, OperationRunChunk
from enrollments.operations.run_chunks import rows_of


def pending_rows(run: OperationRun) -> int:
    """How many of the run's rows are in chunks not done yet."""
    return sum(OperationRunChunk.objects.filter(run=run, done=False).values_list("size", flat=True))


def written_ids(run: OperationRun) -> list[uuid.UUID]:
    """Every enrollment the run wrote down, in its chunks' order."""
    return [pk for chunk in run.chunks.order_by("seq") for pk in rows_of(chunk).ids]
