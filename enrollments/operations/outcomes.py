"""The preview of a large selection by SQL: how many rows an operation would change, leave as
asked or skip (by reason), counted by one GROUP BY over the selection, and a sample of rows
planned in Python, instead of planning every row (about 10 s for 1,000,000 rows in Python;
the preview of a run must answer within a few seconds: issue 23).

The counts come from each operation's `outcome_cases` (its `plan_row` as conditions on the
enrollment's columns, next to it in the operation's module). Two statements of one rule, so a
test (tests/enrollments/operations/test_outcome_cases.py) checks, for every
operation on generated rows, that the SQL outcome of each row is its plan's. An operation
without `outcome_cases` (an undo, which reads audit rows) is summarized by planning every row.

What binds a Confirm to this preview is the run's snapshot (runs.start, taken before the
counts are read): a row that changes afterwards is skipped by the run, never changed to
something the preview did not count.
"""

from collections import Counter
from dataclasses import dataclass, field

from django.db.models import Case, CharField, Count, Value, When

from enrollments import clock
from enrollments.errors import MembershipNotFound
from enrollments.models import Enrollment
from enrollments.operations.base import CHANGED, UNCHANGED, Operation, Plan
from enrollments.operations.core import preview, reads_one_table
from enrollments.operations.selection import Selection

#: Rows of the sample the preview shows in full (the first in key order, planned in Python).
SAMPLE_SIZE = 100


@dataclass(slots=True)
class Summary:
    """A preview by counts: `counts` maps CHANGED, UNCHANGED and each skip's error code to its
    rows; `sample` is the plan of the first SAMPLE_SIZE rows in key order."""

    operation: Operation
    counts: Counter = field(default_factory=Counter)
    sample: Plan | None = None

    @property
    def selected(self) -> int:
        return sum(self.counts.values())

    @property
    def changed_count(self) -> int:
        return self.counts[CHANGED]

    @property
    def unchanged_count(self) -> int:
        return self.counts[UNCHANGED]

    @property
    def skipped_count(self) -> int:
        return self.selected - self.changed_count - self.unchanged_count

    def skipped_by_code(self) -> dict[str, int]:
        """Each skip reason's code and its rows, the most frequent first."""
        skipped = {c: n for c, n in self.counts.items() if c not in (CHANGED, UNCHANGED)}
        return dict(sorted(skipped.items(), key=lambda item: (-item[1], item[0])))


def summarize(
    operation: Operation,
    selection: Selection,
    *,
    sample_size: int | None = None,
    reason: str = "",
) -> Summary:
    """The counts of `operation` over `selection` now and a sample of its plan; no lock, no
    write. Raises the operation's request-level DomainError first, as `preview` does.

    A selection whose scope has courses where the actor acts within the course's staff limits
    (operations/limits.py) is planned row by row, `reason` included: the limits are not
    stated as SQL, and such a selection is one course's staff's, not a million rows."""
    now = clock.now()
    operation.validate(now=now)
    rows = _enrollments_of(selection)
    cases = operation.outcome_conditions(now=now, named=selection.named_rule)
    if selection.scope.limited:
        cases = None
    summary = Summary(operation)
    if cases is None:
        plan = preview(operation, selection, reason=reason)
        summary.counts.update({CHANGED: len(plan.changes), UNCHANGED: len(plan.unchanged)})
        summary.counts.update(skip.error.code for skip in plan.skips)
        summary.sample = plan
        return summary
    outcome = Case(
        *(When(condition, then=Value(code)) for condition, code in cases),
        default=Value(CHANGED),
        output_field=CharField(),
    )
    counted = rows.annotate(outcome=outcome).order_by().values("outcome").annotate(n=Count("pk"))
    summary.counts.update({row["outcome"]: row["n"] for row in counted})
    if selection.ids is not None:  # named enrollments that do not exist, as the plan skips them
        missing = len(selection.ids) - summary.selected
        if missing:
            summary.counts[MembershipNotFound.code] += missing
    first = list(rows.order_by("pk").values_list("pk", flat=True)[: sample_size or SAMPLE_SIZE])
    summary.sample = preview(operation, selection.narrowed(first), reason=reason)
    return summary


def outcomes_by_row(operation: Operation, selection: Selection) -> dict:
    """Each row's outcome by SQL (CHANGED, UNCHANGED or the skip's code), by id: what the
    property test compares with the plan."""
    now = clock.now()
    cases = operation.outcome_conditions(now=now, named=selection.named_rule)
    outcome = Case(
        *(When(condition, then=Value(code)) for condition, code in cases or ()),
        default=Value(CHANGED),
        output_field=CharField(),
    )
    return dict(_enrollments_of(selection).annotate(outcome=outcome).values_list("pk", "outcome"))


def _enrollments_of(selection: Selection):
    """The selection's enrollments within its scope, as a queryset of that table alone (a
    changelist's joins would count a row once per joined row)."""
    if selection.ids is not None:
        rows = Enrollment.objects.filter(pk__in=selection.ids)
    elif reads_one_table(selection.queryset):
        rows = selection.queryset
    else:
        rows = Enrollment.objects.filter(pk__in=selection.queryset.values("pk"))
    return selection.in_scope(rows)
