"""The operation interface is enough for a new operation: one written here, outside the core,
plans from audit rows (`read_facts`, read under the row locks) and goes through preview, apply,
the fingerprint check, the default set-based write and the core's audit rows unchanged. (The
lifecycle issue's undo of a batch has this shape.)"""

from dataclasses import dataclass
from datetime import timedelta
from typing import ClassVar

import pytest

from enrollments.errors import ChangedSincePreview, DomainError
from enrollments.models import AccessChange, Enrollment
from enrollments.operations import (
    Change,
    Extend,
    Operation,
    Selection,
    State,
    apply,
    apply_to_one,
    preview,
)
from enrollments.operations.audit import Attribution
from enrollments.operations.writing import audit_values
from enrollments.permissions import EXTEND_ACCESS
from tests.factories import EnrollmentFactory

pytestmark = pytest.mark.django_db

BY = Attribution(None, AccessChange.Source.COMMAND, "interface test")


class NothingToRevert(DomainError):
    code = "NOTHING_TO_REVERT"
    message = "No end-of-access change to revert"


@dataclass(frozen=True, slots=True)
class RevertLastEnd(Operation):
    """Sets each enrollment's end back to what its latest audit row says it was before."""

    action: ClassVar = AccessChange.Action.SET_END
    permission: ClassVar = EXTEND_ACCESS

    def describe(self) -> str:
        return "revert the last change of the end"

    def read_facts(self, ids):
        latest = {}
        for enrollment_id, old_end in (
            AccessChange.objects.filter(enrollment_id__in=ids)
            .order_by("enrollment_id", "-created_at", "-id")
            .values_list("enrollment_id", "old_ended_at")
        ):
            latest.setdefault(enrollment_id, old_end)
        return latest

    def plan_row(self, row, *, now, named):
        if row.facts is None:
            raise NothingToRevert()
        return Change(row.id, self.action, row.state, row.state.but(ended_at=row.facts))


def test_an_operation_planned_from_audit_rows(clock):
    changed, untouched = EnrollmentFactory(), EnrollmentFactory()
    original_end = changed.ended_at
    apply_to_one(Extend(days=300), changed, Attribution(None, "admin"))
    selection = Selection.named([changed.pk, untouched.pk])

    shown = preview(RevertLastEnd(), selection)
    assert [(c.enrollment_id, c.new_ended_at) for c in shown.changes] == [
        (changed.pk, original_end)
    ]
    assert [(s.enrollment_id, s.error.code) for s in shown.skips] == [
        (untouched.pk, "NOTHING_TO_REVERT")
    ]
    done = apply(RevertLastEnd(), selection, BY, expected=shown.fingerprint())

    assert Enrollment.objects.get(pk=changed.pk).ended_at == original_end
    row = AccessChange.objects.get(batch_id=done.batch_id)
    assert (row.action, row.old_ended_at, row.new_ended_at, row.reason) == (
        "set_end",
        original_end + timedelta(days=300),
        original_end,
        "interface test",
    )


def test_its_facts_are_part_of_the_plan_a_confirm_checks(clock):
    enrollment = EnrollmentFactory()
    apply_to_one(Extend(days=300), enrollment, Attribution(None, "admin"))
    selection = Selection.named([enrollment.pk])
    shown = preview(RevertLastEnd(), selection)
    apply_to_one(Extend(days=1), enrollment, Attribution(None, "admin"))

    with pytest.raises(ChangedSincePreview):
        apply(RevertLastEnd(), selection, BY, expected=shown.fingerprint())
    assert AccessChange.objects.count() == 2


def test_a_change_that_creates_an_enrollment_is_audited_with_its_new_state_only(clock):
    enrollment = EnrollmentFactory()
    created = Change(enrollment.pk, AccessChange.Action.ENROLL, None, State(enrollment.ended_at))
    row = AccessChange(**audit_values(created, by=BY, now=clock.current))
    assert (row.action, row.old_ended_at, row.new_ended_at) == (
        "enroll",
        None,
        enrollment.ended_at,
    )
    assert (row.old_is_paused, row.new_is_paused) == (None, False)
