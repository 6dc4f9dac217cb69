"""Property-based tests (hypothesis) over the core's operations: any input gives a result or a
documented domain error, and on error nothing changes."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from enrollments import clock as clock_module
from enrollments.access_window import MAX_ENDED_AT, MAX_TOTAL_PAUSED_SECONDS
from enrollments.errors import DomainError
from enrollments.models import AccessChange, Enrollment
from enrollments.operations import Extend, Pause, Resume, apply_to_one
from enrollments.operations.audit import Attribution
from tests.factories import CourseFactory, EnrollmentFactory
from tests.fuzzing import examples

NOW = datetime(2026, 1, 1, tzinfo=UTC)
DOCUMENTED = {"INVALID_EXTENSION_PERIOD", "NO_END_DATE"}
SOURCE = AccessChange.Source.GRAPHQL

# Unix seconds across the whole signed 32-bit range, plus values past it.
unix_seconds = st.one_of(
    st.integers(min_value=-(2**31), max_value=2**31 - 1),
    st.integers(min_value=-(2**63), max_value=2**63),
)
days = st.one_of(st.none(), st.integers(min_value=-(2**63), max_value=2**63))


def to_datetime(seconds: int) -> datetime | None:
    """How the API turns `newEndedAt` into a datetime; unrepresentable instants are refused the
    same way as any other invalid period (the adapter's job, mirrored here)."""
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def snapshot():
    return (
        list(Enrollment.objects.order_by("pk").values()),
        AccessChange.objects.count(),
    )


@pytest.mark.django_db
@settings(
    max_examples=examples(150),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    days=days,
    until=st.one_of(st.none(), unix_seconds),
    indefinite=st.booleans(),
    current_end=st.one_of(st.none(), st.integers(min_value=-400, max_value=4000)),
)
def test_extend_any_input(monkeypatch, days, until, indefinite, current_end):
    monkeypatch.setattr(clock_module, "now", lambda: NOW)
    ended_at = None if current_end is None else NOW + timedelta(days=current_end)
    ended_at = min(ended_at, MAX_ENDED_AT) if ended_at else None
    enrollment = EnrollmentFactory(start_at=NOW - timedelta(days=500), ended_at=ended_at)
    until_dt = to_datetime(until) if until is not None else None
    if until is not None and until_dt is None:
        return  # refused by the door before the core
    before = snapshot()
    try:
        result = apply_to_one(
            Extend(days=days, until=until_dt, indefinite=indefinite),
            enrollment,
            Attribution(None, SOURCE),
        )
    except DomainError as error:
        assert error.code in DOCUMENTED
        assert snapshot() == before
    else:
        stored = Enrollment.objects.get(pk=enrollment.pk)
        assert stored.ended_at == result.ended_at
        assert stored.ended_at is None or stored.ended_at <= MAX_ENDED_AT
        if indefinite:
            assert stored.ended_at is None
        elif until_dt is not None:
            assert stored.ended_at == until_dt > max(NOW, ended_at)
        else:
            assert stored.ended_at == ended_at + timedelta(days=days) and days > 0
        changed = stored.ended_at != ended_at
        assert AccessChange.objects.count() == before[1] + (1 if changed else 0)


class PauseResumeMachine(RuleBasedStateMachine):
    """Random sequences of pause, resume, extend and waiting keep the books balanced:
    total_paused_duration is the sum of the pauses; with freezing on, ended_at moved by exactly
    that much plus the extensions; one audit row per successful operation."""

    @initialize(freezes=st.booleans())
    def setup(self, freezes):
        self.now = NOW
        clock_module.now = lambda: self.now
        self.enrollment = EnrollmentFactory(
            course=CourseFactory(pause_freezes_access=freezes),
            start_at=NOW - timedelta(days=1),
            ended_at=NOW + timedelta(days=30),
        )
        self.freezes = freezes
        self.expected_end = self.enrollment.ended_at
        self.expected_paused = 0
        self.paused_since = None
        self.successes = 0

    @rule(seconds=st.integers(min_value=0, max_value=10 * 86400))
    def wait(self, seconds):
        self.now += timedelta(seconds=seconds)

    @rule()
    def pause(self):
        try:
            apply_to_one(Pause(), self.enrollment, Attribution(None, SOURCE))
        except DomainError as error:
            assert error.code == "ALREADY_PAUSED" and self.paused_since is not None
        else:
            assert self.paused_since is None
            self.paused_since = self.now
            self.successes += 1

    @rule()
    def resume(self):
        try:
            apply_to_one(Resume(), self.enrollment, Attribution(None, SOURCE))
        except DomainError as error:
            assert error.code == "NOT_PAUSED" and self.paused_since is None
        else:
            seconds = int((self.now - self.paused_since).total_seconds())
            self.expected_paused += seconds
            if self.freezes:
                self.expected_end += timedelta(seconds=seconds)
            self.paused_since = None
            self.successes += 1

    @rule(days=st.integers(min_value=1, max_value=30))
    def extend(self, days):
        apply_to_one(Extend(days=days), self.enrollment, Attribution(None, SOURCE))
        self.expected_end += timedelta(days=days)
        self.successes += 1

    @invariant()
    def books_balance(self):
        stored = Enrollment.objects.get(pk=self.enrollment.pk)
        assert stored.total_paused_duration == self.expected_paused <= MAX_TOTAL_PAUSED_SECONDS
        assert stored.ended_at == self.expected_end
        assert stored.is_paused == (self.paused_since is not None)
        assert AccessChange.objects.filter(enrollment=stored).count() == self.successes


@pytest.mark.django_db
def test_pause_resume_sequences(monkeypatch):
    monkeypatch.setattr(clock_module, "now", clock_module.now)  # restored after the test
    machine = PauseResumeMachine.TestCase
    machine.settings = settings(
        max_examples=examples(40),
        stateful_step_count=25,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    machine().runTest()
