"""The pure access rules: precedence, limits, pause arithmetic, access state."""

from datetime import UTC, datetime, timedelta

import pytest

from enrollments.access_window import MAX_ENDED_AT, MAX_TOTAL_PAUSED_SECONDS
from enrollments.errors import InvalidExtensionPeriod, NoEndDate
from enrollments.models import AccessChange
from enrollments.rules import (
    AccessState,
    ExtensionRequest,
    access_state,
    resume_outcome,
)

NOW = datetime(2026, 1, 1, tzinfo=UTC)
DAY = timedelta(days=1)


class TestAccessState:
    def test_window_is_start_inclusive_end_exclusive(self):
        start, end = NOW - DAY, NOW + DAY
        state = access_state
        assert state(start_at=start, ended_at=end, is_paused=False, at=start) == "active"
        assert state(start_at=start, ended_at=end, is_paused=False, at=end) == "expired"
        assert (
            state(start_at=start, ended_at=end, is_paused=False, at=start - timedelta(seconds=1))
            == "not_started"
        )

    def test_indefinite_never_expires(self):
        far = datetime(2037, 12, 31, tzinfo=UTC)
        assert (
            access_state(start_at=NOW, ended_at=None, is_paused=False, at=far) is AccessState.ACTIVE
        )

    def test_paused_wins_over_the_window(self):
        assert (
            access_state(start_at=NOW, ended_at=NOW, is_paused=True, at=NOW) is AccessState.PAUSED
        )


class TestExtensionPrecedence:
    def test_indefinite_wins_over_everything(self):
        request = ExtensionRequest(days=-5, until=NOW - DAY, indefinite=True)
        assert request.new_ended_at(current=NOW, now=NOW) is None
        assert request.action == AccessChange.Action.GRANT_INDEFINITE

    def test_new_end_wins_over_days(self):
        until = NOW + 10 * DAY
        request = ExtensionRequest(days=3, until=until)
        assert request.new_ended_at(current=NOW + DAY, now=NOW) == until
        assert request.action == AccessChange.Action.SET_END

    def test_days_count_from_current_end_even_in_the_past(self):
        current = NOW - 40 * DAY
        request = ExtensionRequest(days=30)
        assert request.new_ended_at(current=current, now=NOW) == current + 30 * DAY
        assert request.action == AccessChange.Action.EXTEND

    def test_indefinite_on_indefinite_is_no_change(self):
        assert ExtensionRequest(indefinite=True).new_ended_at(current=None, now=NOW) is None


class TestExtensionErrors:
    @pytest.mark.parametrize(
        "request_",
        [
            ExtensionRequest(),
            ExtensionRequest(indefinite=False),
            ExtensionRequest(days=0),
            ExtensionRequest(days=-1),
            ExtensionRequest(days=-(2**31)),
            ExtensionRequest(days=2**31 - 1),
            ExtensionRequest(days=10**12),
            ExtensionRequest(until=NOW),
            ExtensionRequest(until=NOW - DAY),
            ExtensionRequest(until=MAX_ENDED_AT + timedelta(seconds=1)),
        ],
        ids=repr,
    )
    def test_invalid_period(self, request_):
        with pytest.raises(InvalidExtensionPeriod) as caught:
            request_.new_ended_at(current=NOW + DAY, now=NOW)
        assert str(caught.value) == "Invalid extension period"
        assert caught.value.code == "INVALID_EXTENSION_PERIOD"

    def test_new_end_must_be_after_the_current_end(self):
        with pytest.raises(InvalidExtensionPeriod):
            ExtensionRequest(until=NOW + DAY).new_ended_at(current=NOW + 2 * DAY, now=NOW)
        with pytest.raises(InvalidExtensionPeriod):
            ExtensionRequest(until=NOW + DAY).new_ended_at(current=NOW + DAY, now=NOW)

    def test_new_end_at_the_limit_is_accepted(self):
        request = ExtensionRequest(until=MAX_ENDED_AT)
        assert request.new_ended_at(current=NOW, now=NOW) == MAX_ENDED_AT

    def test_days_past_the_2038_limit(self):
        current = MAX_ENDED_AT - DAY
        assert ExtensionRequest(days=1).new_ended_at(current=current, now=NOW) == MAX_ENDED_AT
        with pytest.raises(InvalidExtensionPeriod):
            ExtensionRequest(days=2).new_ended_at(current=current, now=NOW)

    def test_naive_new_end_is_refused(self):
        with pytest.raises(InvalidExtensionPeriod):
            ExtensionRequest(until=datetime(2030, 1, 1)).new_ended_at(current=NOW, now=NOW)

    @pytest.mark.parametrize(
        "request_", [ExtensionRequest(days=1), ExtensionRequest(until=NOW + DAY)]
    )
    def test_no_end_date(self, request_):
        with pytest.raises(NoEndDate) as caught:
            request_.new_ended_at(current=None, now=NOW)
        assert str(caught.value) == "Current enrollment has no end date"

    def test_input_errors_come_before_state_errors(self):
        with pytest.raises(InvalidExtensionPeriod):
            ExtensionRequest(days=0).new_ended_at(current=None, now=NOW)


class TestResumeOutcome:
    def test_three_days_paused(self):
        outcome = resume_outcome(
            paused_at=NOW,
            total_paused_duration=100,
            ended_at=NOW + DAY,
            pause_freezes_access=True,
            now=NOW + 3 * DAY,
        )
        assert outcome.paused_seconds == 259200
        assert outcome.total_paused_duration == 259300
        assert outcome.ended_at == NOW + 4 * DAY

    @pytest.mark.parametrize(
        ("start_days", "end_days", "resumed_days", "moved_days"),
        [
            (30, 40, 30, 0),  # paused a month before a ten-day window, resumed as it opens
            (30, 40, 35, 5),  # resumed five days into it: five days given back
            (30, 40, 10, 0),  # resumed before it opens: nothing lost
            (-10, -1, 3, 0),  # paused a day after access ended: nothing lost
            (-10, 0, 3, 0),  # paused as it ended (the end is exclusive)
            (-10, 1, 3, 3),  # paused with a day left: the whole pause given back
        ],
    )
    def test_the_end_moves_by_the_access_the_pause_cost(
        self, start_days, end_days, resumed_days, moved_days
    ):
        """A pause never costs access time and gives none either: paused at NOW, the end moves
        by the time from the later of the pause and the start to the resume, none when access
        had ended at the pause. The total counts the whole pause all the same."""
        outcome = resume_outcome(
            paused_at=NOW,
            total_paused_duration=0,
            start_at=NOW + start_days * DAY,
            ended_at=NOW + end_days * DAY,
            pause_freezes_access=True,
            now=NOW + resumed_days * DAY,
        )
        assert outcome.ended_at == NOW + (end_days + moved_days) * DAY
        assert outcome.paused_seconds == outcome.total_paused_duration == resumed_days * 86400

    def test_not_frozen_keeps_the_end(self):
        outcome = resume_outcome(
            paused_at=NOW,
            total_paused_duration=0,
            ended_at=NOW + DAY,
            pause_freezes_access=False,
            now=NOW + 3 * DAY,
        )
        assert outcome.ended_at == NOW + DAY and outcome.total_paused_duration == 259200

    def test_fractions_of_a_second_are_floored_and_clock_skew_is_zero(self):
        outcome = resume_outcome(
            paused_at=NOW,
            total_paused_duration=0,
            ended_at=None,
            pause_freezes_access=True,
            now=NOW + timedelta(seconds=1.9),
        )
        assert outcome.paused_seconds == 1 and outcome.ended_at is None
        skewed = resume_outcome(
            paused_at=NOW,
            total_paused_duration=7,
            ended_at=None,
            pause_freezes_access=True,
            now=NOW - DAY,
        )
        assert skewed.paused_seconds == 0 and skewed.total_paused_duration == 7

    def test_results_are_clamped_to_what_the_api_can_show(self):
        outcome = resume_outcome(
            paused_at=NOW,
            total_paused_duration=MAX_TOTAL_PAUSED_SECONDS - 5,
            ended_at=MAX_ENDED_AT - DAY,
            pause_freezes_access=True,
            now=NOW + 3 * DAY,
        )
        assert outcome.total_paused_duration == MAX_TOTAL_PAUSED_SECONDS
        assert outcome.ended_at == MAX_ENDED_AT
