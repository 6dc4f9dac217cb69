"""The operations' pure plans: rows in, changes and skips out, no database."""

import uuid
from datetime import UTC, datetime, timedelta

from enrollments.models import AccessChange
from enrollments.operations import Extend, Pause, Resume, Row, State

NOW = datetime(2026, 1, 1, tzinfo=UTC)
DAY = timedelta(days=1)


def row(ended_at, *, paused_at=None, total=0, freezes=True, pk=None) -> Row:
    return Row(
        id=pk or uuid.uuid4(),
        user_id=uuid.uuid4(),
        course_id=uuid.uuid4(),
        start_at=NOW - 10 * DAY,
        state=State(ended_at, paused_at is not None, paused_at, total),
        pause_freezes_access=freezes,
    )


class TestExtend:
    def test_precedence_is_applied_on_construction(self):
        assert Extend(days=5, until=NOW, indefinite=True) == Extend(indefinite=True)
        assert Extend(days=5, until=NOW) == Extend(until=NOW)
        assert Extend(days=5).action is AccessChange.Action.EXTEND
        assert Extend(until=NOW).action is AccessChange.Action.SET_END
        assert Extend(indefinite=True).action is AccessChange.Action.GRANT_INDEFINITE

    def test_a_filter_skips_rows_left_still_expired_a_named_request_does_not(self):
        rows = [row(NOW + DAY), row(None), row(NOW - 90 * DAY)]
        filtered = Extend(days=30).plan(rows, now=NOW, named=False)
        assert [(c.enrollment_id, c.new_ended_at) for c in filtered.changes] == [
            (rows[0].id, NOW + 31 * DAY)
        ]
        assert [(s.enrollment_id, s.error.code) for s in filtered.skips] == [
            (rows[1].id, "NO_END_DATE"),
            (rows[2].id, "STILL_EXPIRED"),
        ]
        named = Extend(days=30).plan(rows, now=NOW, named=True)
        assert [(c.enrollment_id, c.new_ended_at) for c in named.changes] == [
            (rows[0].id, NOW + 31 * DAY),
            (rows[2].id, NOW - 60 * DAY),
        ]
        assert [s.error.code for s in named.skips] == ["NO_END_DATE"]

    def test_indefinite_leaves_indefinite_rows_unchanged(self):
        rows = [row(None), row(NOW)]
        plan = Extend(indefinite=True).plan(rows, now=NOW, named=False)
        assert [c.enrollment_id for c in plan.changes] == [rows[1].id]
        assert plan.unchanged == [rows[0].id] and plan.skips == []

    def test_past_the_2038_limit_is_skipped_either_way(self):
        late = row(datetime(2038, 1, 1, tzinfo=UTC))
        for named in (True, False):
            plan = Extend(days=30).plan([late], now=NOW, named=named)
            assert [s.error.code for s in plan.skips] == ["INVALID_EXTENSION_PERIOD"]

    def test_a_paused_row_is_extended(self):
        paused = row(NOW + DAY, paused_at=NOW - DAY)
        plan = Extend(days=1).plan([paused], now=NOW, named=False)
        assert plan.changes[0].after == paused.state.but(ended_at=NOW + 2 * DAY)


class TestPauseResume:
    def test_pause_skips_the_paused(self):
        running, paused = row(NOW), row(None, paused_at=NOW - DAY)
        plan = Pause().plan([running, paused], now=NOW, named=False)
        [change] = plan.changes
        assert (change.enrollment_id, change.old_ended_at, change.new_ended_at) == (
            running.id,
            NOW,
            NOW,
        )
        assert change.after == running.state.but(is_paused=True, paused_at=NOW)
        assert [(s.enrollment_id, s.error.code) for s in plan.skips] == [
            (paused.id, "ALREADY_PAUSED")
        ]

    def test_resume_uses_each_rows_pause(self):
        a = row(NOW + DAY, paused_at=NOW - 2 * DAY, total=10)
        b = row(NOW + DAY, paused_at=NOW - DAY, freezes=False)
        c = row(NOW + DAY)
        plan = Resume().plan([a, b, c], now=NOW, named=True)
        assert [
            (ch.enrollment_id, ch.new_ended_at, ch.paused_seconds, ch.total_paused_duration)
            for ch in plan.changes
        ] == [(a.id, NOW + 3 * DAY, 172800, 172810), (b.id, NOW + DAY, 86400, 86400)]
        assert [(s.enrollment_id, s.error.code) for s in plan.skips] == [(c.id, "NOT_PAUSED")]


class TestFingerprint:
    def test_it_names_the_request_and_each_rows_starting_state_not_the_clock(self):
        paused = row(NOW + DAY, paused_at=NOW - DAY)
        now, later = (
            Resume().plan([paused], now=at, named=True).fingerprint() for at in (NOW, NOW + DAY)
        )
        assert now == later  # a resume confirmed later counts the extra time, same decision
        moved = row(NOW + 2 * DAY, paused_at=NOW - DAY, pk=paused.id)
        assert Resume().plan([moved], now=NOW, named=True).fingerprint() != now

    def test_other_parameters_are_another_plan(self):
        rows = [row(NOW + DAY)]
        assert (
            Extend(days=30).plan(rows, now=NOW, named=False).fingerprint()
            != Extend(days=300).plan(rows, now=NOW, named=False).fingerprint()
        )


def test_rows_after_a_skipped_one_are_still_planned():
    """A removed row and a row the operation refuses are skipped; the rows after each are
    planned as usual (rows arrive in key order, so a skip can come first)."""
    removed = Row(
        id=uuid.UUID(int=1),
        user_id=uuid.uuid4(),
        course_id=uuid.uuid4(),
        start_at=NOW - 10 * DAY,
        state=State(NOW + DAY, False, None, 0, removed_at=NOW - DAY),
        pause_freezes_access=True,
    )
    paused = row(NOW + DAY, paused_at=NOW - DAY, pk=uuid.UUID(int=2))
    active = row(NOW + DAY, pk=uuid.UUID(int=3))

    plan = Pause().plan([removed, paused, active], now=NOW, named=True)

    assert [(s.enrollment_id, s.error.code) for s in plan.skips] == [
        (removed.id, "ENROLLMENT_REMOVED"),
        (paused.id, "ALREADY_PAUSED"),
    ]
    assert [c.enrollment_id for c in plan.changes] == [active.id]
