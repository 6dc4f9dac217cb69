"""The core's corrections of an end (operations/shortening.py): Shorten(days) row by row, and
restore_end_before(change), pure (plans of rows, no database) plus its choice of operation."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from enrollments.errors import (
    EndBeforeStart,
    EndChangedSince,
    InvalidAccessEnd,
    InvalidShortening,
    NoEndDate,
)
from enrollments.models import AccessChange
from enrollments.operations.base import Row, State
from enrollments.operations.shortening import (
    EndBackEarlier,
    EndBackLater,
    Shorten,
    restore_end_before,
)
from enrollments.permissions import EXPIRE_ACCESS, EXTEND_ACCESS

NOW = datetime(2026, 1, 1, tzinfo=UTC)
END = datetime(2026, 6, 1, tzinfo=UTC)
Action = AccessChange.Action


def row(ended_at, *, start_at=NOW - timedelta(days=30)) -> Row:
    return Row(uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), start_at, State(ended_at=ended_at))


@pytest.mark.parametrize("days", [0, -1, 36_501, True, 2.5, "3", None])
def test_shorten_refuses_a_bad_number_of_days(days):
    with pytest.raises(InvalidShortening):
        Shorten(days=days).validate(now=NOW)


def test_shorten_moves_each_end_earlier_and_keeps_its_rules():
    Shorten(days=36_500).validate(now=NOW)
    operation = Shorten(days=30)
    assert operation.describe() == "shorten access by 30 days"
    rows = [
        row(END),
        row(NOW + timedelta(days=10)),  # into the past: allowed, as "set end" allows
        row(NOW, start_at=NOW - timedelta(days=5)),  # before its start
        row(None),  # indefinite
        row(datetime(2020, 1, 20, tzinfo=UTC), start_at=datetime(2019, 1, 1, tzinfo=UTC)),
    ]
    plan = operation.plan(rows, now=NOW, named=True)
    assert [(c.enrollment_id, c.new_ended_at) for c in plan.changes] == [
        (rows[0].id, END - timedelta(days=30)),
        (rows[1].id, NOW - timedelta(days=20)),
    ]
    assert {c.action for c in plan.changes} == {Action.EXPIRE}
    assert [(s.enrollment_id, type(s.error)) for s in plan.skips] == [
        (rows[2].id, EndBeforeStart),
        (rows[3].id, NoEndDate),
        (rows[4].id, InvalidAccessEnd),
    ]
    assert Shorten.permission is EXPIRE_ACCESS


def change(action, old, new) -> AccessChange:
    return AccessChange(
        id=uuid.uuid4(), action=action, old_ended_at=old, new_ended_at=new, source="admin"
    )


def test_restore_end_before_picks_the_operation_by_direction():
    extension = change(Action.EXTEND, END, END + timedelta(days=300))
    earlier = restore_end_before(extension)
    assert isinstance(earlier, EndBackEarlier)
    assert (earlier.permission, earlier.action) == (EXPIRE_ACCESS, Action.EXPIRE)

    shortened = change(Action.EXPIRE, END, END - timedelta(days=5))
    later = restore_end_before(shortened)
    assert isinstance(later, EndBackLater)
    assert (later.permission, later.action) == (EXTEND_ACCESS, Action.SET_END)

    ended = change(Action.EXPIRE, None, END)  # an end given to indefinite access
    back = restore_end_before(ended)
    assert (back.permission, back.action, back.ended_at) == (
        EXTEND_ACCESS,
        Action.GRANT_INDEFINITE,
        None,
    )

    assert restore_end_before(change(Action.PAUSE, END, END)) is None
    assert restore_end_before(change(Action.ENROLL, None, END)) is None


def test_restore_end_applies_only_while_the_end_is_the_one_the_change_set():
    mistake = change(Action.EXTEND, END, END + timedelta(days=300))
    operation = restore_end_before(mistake)
    in_force, moved, restored = (
        row(END + timedelta(days=300)),
        row(END + timedelta(days=1)),
        row(END),
    )
    plan = operation.plan([in_force, moved, restored], now=NOW, named=True)
    assert [(c.enrollment_id, c.new_ended_at) for c in plan.changes] == [(in_force.id, END)]
    assert [(s.enrollment_id, type(s.error)) for s in plan.skips] == [(moved.id, EndChangedSince)]
    assert plan.unchanged == [restored.id]
    assert str(mistake.pk) in operation.describe()
