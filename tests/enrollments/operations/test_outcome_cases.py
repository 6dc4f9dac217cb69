"""Each operation's `outcome_cases` (its plan as SQL conditions, for the preview of a run by
counts: operations/outcomes.py) agrees with its `plan`, row by row. Two statements of one rule:
this test is what keeps them one. It is exhaustive over the boundaries the rules compare with:
every operation below, named and by filter, against one row of every combination of an end
(none, now and its neighbours, the new end's neighbours, the pause's and 30 days before it,
2038's limit and its neighbours), a pause, a removal mark and a course that freezes access
during pauses or not."""

import itertools
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from enrollments.access_window import MAX_ENDED_AT, MAX_EXTENSION_DAYS
from enrollments.models import Enrollment
from enrollments.operations import Expire, Extend, Pause, Remove, Resume, Selection
from enrollments.operations.base import CHANGED, UNCHANGED
from enrollments.operations.core import preview
from enrollments.operations.outcomes import outcomes_by_row, summarize
from lms.models import Course, User

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 1, 1, tzinfo=UTC)
SECOND, DAY = timedelta(seconds=1), timedelta(days=1)
PAUSED_AT = NOW - DAY

#: The instants the rules compare an end with (now, now - 30 days, 2038 - 30 days, 2038) and
#: their neighbours.
INSTANTS = [
    NOW - 400 * DAY,
    NOW - 30 * DAY - SECOND,
    NOW - 30 * DAY,
    NOW - 30 * DAY + SECOND,
    # The paused rows' pause (NOW - DAY), against which a course that freezes access during
    # pauses measures their end (rules.access_now), 30 days before it, and their neighbours.
    PAUSED_AT - 30 * DAY - SECOND,
    PAUSED_AT - 30 * DAY,
    PAUSED_AT - 30 * DAY + SECOND,
    PAUSED_AT - SECOND,
    PAUSED_AT,
    PAUSED_AT + SECOND,
    NOW - SECOND,
    NOW,
    NOW + SECOND,
    NOW + 30 * DAY,
    MAX_ENDED_AT - 30 * DAY - SECOND,
    MAX_ENDED_AT - 30 * DAY,
    MAX_ENDED_AT - 30 * DAY + SECOND,
    MAX_ENDED_AT - SECOND,
    MAX_ENDED_AT,
]
#: (end, paused, removed, the course freezes access during pauses)
ROWS = list(itertools.product([None, *INSTANTS], [False, True], [False, True], [True, False]))

OPERATIONS = [
    # Up to the most days an extension may add (more is refused before any row is read).
    *(
        Extend(days=d, from_today=t)
        for d in (1, 30, 5000, 20_000, MAX_EXTENSION_DAYS)
        for t in (False, True)
    ),
    *(Extend(until=instant) for instant in INSTANTS if instant > NOW),
    Extend(indefinite=True),
    Expire(),
    *(Expire(at=instant) for instant in INSTANTS),
    Pause(),
    Resume(),
    Remove(),
]


@pytest.fixture
def every_row(db):
    courses = {
        freezes: Course.objects.create(
            slug=f"outcomes-{freezes}", title="Outcomes", pause_freezes_access=freezes
        )
        for freezes in (True, False)
    }
    users = User.objects.bulk_create(
        User(email=f"learner{n}@example.com") for n in range(len(ROWS))
    )
    Enrollment.objects.bulk_create(
        Enrollment(
            user=user,
            course=courses[freezes],
            start_at=NOW - 400 * DAY,
            ended_at=ended_at,
            is_paused=paused,
            paused_at=PAUSED_AT if paused else None,
            removed_at=NOW - DAY if removed else None,
        )
        for user, (ended_at, paused, removed, freezes) in zip(users, ROWS, strict=True)
    )
    return Enrollment.objects.filter(course__in=courses.values())


@pytest.mark.parametrize("named", [False, True], ids=["by filter", "named"])
@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda operation: operation.describe())
def test_the_sql_outcome_of_each_row_is_its_plans(monkeypatch, every_row, operation, named):
    monkeypatch.setattr("enrollments.clock.now", lambda: NOW)
    ids = list(every_row.values_list("pk", flat=True))
    selection = Selection.named(ids) if named else Selection.by_filter(every_row)

    plan = preview(operation, selection)
    planned = {change.enrollment_id: CHANGED for change in plan.changes}
    planned |= {pk: UNCHANGED for pk in plan.unchanged}
    planned |= {skip.enrollment_id: skip.error.code for skip in plan.skips}

    assert outcomes_by_row(operation, selection) == planned
    counted = summarize(operation, selection, sample_size=10)
    assert (counted.changed_count, counted.unchanged_count, counted.skipped_count) == (
        len(plan.changes),
        len(plan.unchanged),
        len(plan.skips),
    )
    assert counted.sample.selected == 10


def test_a_summary_counts_each_skip_reason_and_named_rows_that_do_not_exist(monkeypatch, every_row):
    monkeypatch.setattr("enrollments.clock.now", lambda: NOW)
    ids = [*every_row.values_list("pk", flat=True), uuid.uuid4()]
    counted = summarize(Pause(), Selection.named(ids))
    # Half the rows are removed, half of the others paused already (in either course).
    assert counted.skipped_by_code() == {
        "ENROLLMENT_REMOVED": len(ROWS) // 2,
        "ALREADY_PAUSED": len(ROWS) // 4,
        "NOT_FOUND": 1,
    }
    assert counted.changed_count == len(ROWS) // 4
