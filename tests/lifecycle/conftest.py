import pytest

from enrollments.models import AccessChange, Enrollment, OperationRun
from enrollments.operations import Extend, Selection, runs
from enrollments.operations.audit import Attribution
from tests.commands.conftest import *  # noqa: F403  (run_command, snapshot)
from tests.factories import CourseFactory, EnrollmentFactory
from tests.graphql.conftest import *  # noqa: F403  (api, make_key, manager, grant, ...)


@pytest.fixture
def failed_run(db) -> OperationRun:
    """A background run of two rows (a chunk each) whose worker died after its first chunk
    committed: FAILED, resumable, one audit row in its batch (the undo's BATCH_RUN_UNFINISHED)."""
    course = CourseFactory()
    EnrollmentFactory.create_batch(2, course=course)
    selection = Selection.by_filter(Enrollment.objects.filter(course=course))
    job = runs.start(
        [(Extend(days=3), selection)], Attribution(None, AccessChange.Source.SYSTEM), chunk_size=1
    )

    def the_worker_dies(chunk):
        raise RuntimeError("the worker died")

    with pytest.raises(RuntimeError):
        runs.advance(job.pk, on_chunk=the_worker_dies)
    job.refresh_from_db()
    assert job.state == OperationRun.State.FAILED
    assert AccessChange.objects.filter(batch_id=job.batch_id).count() == 1
    return job
