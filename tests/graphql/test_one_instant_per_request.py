"""An answer reads access at one instant (clock.request_now): the access-state filter and every
membership's access_state and has_access. Each read the clock on its own, so an answer made
while an end passed could say ACTIVE with has_access false, or list an EXPIRED membership under
accessState: ACTIVE (the clock below ticks a second at every read, so every read differs)."""

from datetime import UTC, datetime, timedelta

import pytest

from tests.factories import EnrollmentFactory

pytestmark = pytest.mark.django_db

START = datetime(2026, 1, 1, tzinfo=UTC)


class TickingClock:
    """A clock one second later at every read: any two reads of it differ."""

    def __init__(self) -> None:
        self.current = START

    def __call__(self) -> datetime:
        self.current += timedelta(seconds=1)
        return self.current


@pytest.fixture
def ticking(monkeypatch) -> TickingClock:
    clock = TickingClock()
    monkeypatch.setattr("enrollments.clock.now", clock)
    return clock


@pytest.fixture
def ending_one_second_apart(ticking):
    """Memberships whose ends pass at each of the next twenty seconds of the ticking clock."""
    return [
        EnrollmentFactory(start_at=START - timedelta(days=1), ended_at=START + timedelta(seconds=s))
        for s in range(2, 22)
    ]


ACTIVE_LIST = (
    "{ courseMemberships(access_state: ACTIVE, first: 50) { nodes { access_state has_access } } }"
)


def test_a_list_filtered_to_active_holds_only_active_memberships(
    api, manager, make_key, ending_one_second_apart
):
    key = make_key(manager)
    for _ in range(5):
        nodes = api.post(ACTIVE_LIST, key=key)["data"]["courseMemberships"]["nodes"]
        assert nodes  # some have not ended yet
        assert {(n["access_state"], n["has_access"]) for n in nodes} <= {("ACTIVE", True)}
