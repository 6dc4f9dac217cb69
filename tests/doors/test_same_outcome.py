"""Door by door: the same request gives the same outcome, the same stored enrollment and the same
audit rows through the API, the admin (change page, ticked changelist rows, "select all") and
the commands (`--user --course`, a CSV row, `--course`), for each operation (extend, pause,
resume, end access now or at an instant, remove) and its edge cases.

Requests that name their enrollment (API, change page, `--user --course`, CSV) follow the
contract's rule; selections by filter (changelist, `--course`) skip rows an extension by days
leaves still expired. Within each group every door agrees; the two groups differ in exactly
that one case (`test_expired_by_days_is_the_one_difference`).
"""

from datetime import UTC, datetime, timedelta

import pytest

from enrollments.access_window import MAX_ENDED_AT
from enrollments.models import AccessChange
from tests.admin.conftest import grant, logged_in
from tests.doors.doors import FILTER_DOORS, NAMED_DOORS, Doors, Request, audit_rows, stored
from tests.factories import CourseFactory, EnrollmentFactory, StaffFactory, UserFactory
from tests.graphql.conftest import Api

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)

#: The state each scenario starts from, relative to the frozen now.
STATES = {
    "active": lambda now: {"ended_at": now + 30 * DAY},
    "expired": lambda now: {"ended_at": now - 30 * DAY},
    "indefinite": lambda now: {"ended_at": None},
    "paused": lambda now: {
        "ended_at": now + 30 * DAY,
        "is_paused": True,
        "paused_at": now - 2 * DAY,
    },
    "near_2038": lambda now: {"ended_at": MAX_ENDED_AT - DAY},
    "paused_near_2038": lambda now: {
        "ended_at": MAX_ENDED_AT - DAY,
        "is_paused": True,
        "paused_at": now - 2 * DAY,
    },
    "removed": lambda now: {"ended_at": now + 30 * DAY, "removed_at": now - DAY},
}


def until(now):
    return (now + 60 * DAY).replace(hour=0, minute=0, second=0, microsecond=0)


#: (state, request, outcome when named, outcome by filter)
SCENARIOS = [
    ("active", lambda now: Request("extend", days=5), "done", "done"),
    ("expired", lambda now: Request("extend", days=5), "done", "STILL_EXPIRED"),
    ("indefinite", lambda now: Request("extend", days=5), "NO_END_DATE", "NO_END_DATE"),
    ("paused", lambda now: Request("extend", days=5), "done", "done"),
    (
        "near_2038",
        lambda now: Request("extend", days=5),
        "INVALID_EXTENSION_PERIOD",
        "INVALID_EXTENSION_PERIOD",
    ),
    ("active", lambda now: Request("extend", until=until(now)), "done", "done"),
    ("expired", lambda now: Request("extend", until=until(now)), "done", "done"),
    ("indefinite", lambda now: Request("extend", until=until(now)), "NO_END_DATE", "NO_END_DATE"),
    (
        "active",
        lambda now: Request("extend", until=MAX_ENDED_AT + DAY),
        "INVALID_EXTENSION_PERIOD",
        "INVALID_EXTENSION_PERIOD",
    ),
    ("expired", lambda now: Request("extend", indefinite=True), "done", "done"),
    ("paused", lambda now: Request("extend", indefinite=True), "done", "done"),
    ("indefinite", lambda now: Request("extend", indefinite=True), "unchanged", "unchanged"),
    ("active", lambda now: Request("pause"), "done", "done"),
    ("expired", lambda now: Request("pause"), "done", "done"),
    ("paused", lambda now: Request("pause"), "ALREADY_PAUSED", "ALREADY_PAUSED"),
    ("paused", lambda now: Request("resume"), "done", "done"),
    ("paused_near_2038", lambda now: Request("resume"), "done", "done"),
    ("active", lambda now: Request("resume"), "NOT_PAUSED", "NOT_PAUSED"),
    # End access now, or at an earlier instant (lifecycle).
    ("active", lambda now: Request("expire"), "done", "done"),
    ("expired", lambda now: Request("expire"), "unchanged", "unchanged"),
    ("indefinite", lambda now: Request("expire"), "done", "done"),
    ("paused", lambda now: Request("expire"), "done", "done"),
    ("active", lambda now: Request("expire", at=until(now) - 50 * DAY), "done", "done"),
    ("indefinite", lambda now: Request("expire", at=until(now)), "done", "done"),
    ("near_2038", lambda now: Request("expire", at=until(now)), "done", "done"),
    ("expired", lambda now: Request("expire", at=until(now) - 100 * DAY), "done", "done"),
    (
        "active",
        lambda now: Request("expire", at=until(now)),
        "END_NOT_EARLIER",
        "END_NOT_EARLIER",
    ),
    (
        "active",
        # Before Teachify's earliest end (past 2038 the API's Int cannot carry it at all).
        lambda now: Request("expire", at=datetime(2019, 12, 31, tzinfo=UTC)),
        "INVALID_ACCESS_END",
        "INVALID_ACCESS_END",
    ),
    # Remove from the course (lifecycle).
    ("active", lambda now: Request("remove"), "done", "done"),
    ("expired", lambda now: Request("remove"), "done", "done"),
    ("indefinite", lambda now: Request("remove"), "done", "done"),
    ("paused", lambda now: Request("remove"), "done", "done"),
]


@pytest.fixture
def doors(client, clock, tmp_path, make_key):
    staff = grant(
        StaffFactory(),
        "view_enrollment",
        "change_enrollment",
        "extend_access",
        "pause_enrollment",
        "expire_access",
        "remove_from_course",
    )
    return Doors(logged_in(staff), Api(client), make_key(staff), tmp_path)


@pytest.fixture
def make_key():
    from apikeys.models import APIKey

    def make(user) -> str:
        return APIKey.objects.create_key(user=user, name="doors")[1]

    return make


def through(doors: Doors, door: str, state: str, request: Request, now) -> dict:
    """Runs `request` through `door` on a fresh enrollment in `state` (its own learner and
    course, so a filter selects it alone): what the door answered, stored and audited."""
    course = CourseFactory(slug=f"c-{door.replace('_', '-')}")
    enrollment = EnrollmentFactory(
        user=UserFactory(email=f"{door}@example.com"),
        course=course,
        start_at=now - 100 * DAY,
        **STATES[state](now),
    )
    outcome = getattr(doors, door)(enrollment, request)
    sources = set(
        AccessChange.objects.filter(enrollment=enrollment).values_list("source", flat=True)
    )
    return {
        "outcome": outcome,
        "stored": stored(enrollment),
        "audit": audit_rows(enrollment),
        "sources": sources,
    }


SOURCE_OF = {
    "api_call": "graphql",
    "admin_change_page": "admin",
    "admin_ticked": "admin",
    "admin_select_all": "admin",
    "command_pair": "command",
    "csv_row": "command",
    "command_course": "command",
}


@pytest.mark.parametrize(
    ("state", "make_request", "named_outcome", "filter_outcome"),
    SCENARIOS,
    ids=[f"{state}-{i}" for i, (state, *_rest) in enumerate(SCENARIOS)],
)
def test_every_door_agrees(doors, clock, state, make_request, named_outcome, filter_outcome):
    request = make_request(clock.current)
    for group, expected in ((NAMED_DOORS, named_outcome), (FILTER_DOORS, filter_outcome)):
        results = {door: through(doors, door, state, request, clock.current) for door in group}
        first = results[group[0]]
        for door, result in results.items():
            assert result["outcome"] == expected, (door, result["outcome"])
            assert result["stored"] == first["stored"], door
            assert result["audit"] == first["audit"], door
            # One audit row per change, from the door it came through; none otherwise.
            assert len(result["audit"]) == (1 if expected == "done" else 0), door
            assert result["sources"] <= {SOURCE_OF[door]}, door


def test_expired_by_days_is_the_one_difference(doors, clock):
    """Named: days count from the old end, as the contract says (the learner stays expired,
    with 5 more days); by filter: the row is skipped."""
    now = clock.current
    request = Request("extend", days=5)
    named = through(doors, "api_call", "expired", request, now)
    filtered = through(doors, "command_course", "expired", request, now)
    assert named["stored"][0] == now - 25 * DAY
    assert named["audit"] == [
        (AccessChange.Action.EXTEND, now - 30 * DAY, now - 25 * DAY) + (None,) * 3
    ]
    assert filtered["stored"][0] == now - 30 * DAY and filtered["audit"] == []


def test_a_resume_past_the_limit_is_clamped_at_every_door(doors, clock):
    now = clock.current
    for door in NAMED_DOORS + FILTER_DOORS:
        result = through(doors, door, "paused_near_2038", Request("resume"), now)
        assert result["stored"] == (MAX_ENDED_AT, False, None, 2 * 86400, None), door
        assert result["audit"] == [
            (AccessChange.Action.RESUME, MAX_ENDED_AT - DAY, MAX_ENDED_AT, True, False, 2 * 86400)
        ], door


#: A removed learner (the removal mark): what every door that names the enrollment answers.
#: (Selections by filter leave removed learners out, as the default lists do.)
REMOVED = [
    (Request("extend", days=5), "ENROLLMENT_REMOVED"),
    (Request("pause"), "ENROLLMENT_REMOVED"),
    (Request("expire"), "ENROLLMENT_REMOVED"),
    (Request("remove"), "ALREADY_REMOVED"),
]


@pytest.mark.parametrize(("request_", "expected"), REMOVED, ids=[r.operation for r, _ in REMOVED])
def test_a_removed_learner_is_refused_alike_at_every_named_door(doors, clock, request_, expected):
    for door in NAMED_DOORS:
        result = through(doors, door, "removed", request_, clock.current)
        assert result["outcome"] == expected, door
        assert result["stored"][4] == clock.current - DAY, door
        assert result["audit"] == [], door
