"""What each operation says it does (`describe()`): the words the commands' summaries print
("Asked: remove from the course: 3.") and the start of every plan's fingerprint; and the
values an Extend drops on construction, which read as their defaults."""

import re
import time
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest

from enrollments.operations import Enroll, Expire, Extend, Pause, Remove, Resume, Undo
from enrollments.operations.enrolling import PairToEnroll
from tests.commands.conftest import run_command
from tests.factories import CourseFactory, EnrollmentFactory, UserFactory

AT = datetime(2030, 5, 1, 12, tzinfo=UTC)
BATCH = uuid.UUID("b47c4e55-0d3a-4c9e-9f63-2c1a7e5d8f01")


@pytest.mark.parametrize(
    ("operation", "words"),
    [
        (Pause(), "pause"),
        (Resume(), "resume"),
        (Remove(), "remove from the course"),
        (Expire(), "end access now"),
        (Expire(at=AT), "end access at 2030-05-01T12:00:00Z"),
        (Extend(days=5), "extend access by 5 days"),
        (
            Extend(days=5, from_today=True),
            "extend access by 5 days from the later of the end and now",
        ),
        (Extend(until=AT), "set the end of access to 2030-05-01T12:00:00Z"),
        (Extend(indefinite=True), "grant indefinite access"),
        (Undo(batch_id=BATCH), f"undo batch {BATCH}"),
    ],
    ids=lambda value: value if isinstance(value, str) else type(value).__name__,
)
def test_each_operation_says_what_it_does(operation, words):
    assert operation.describe() == words


@pytest.fixture
def new_york_process_zone():
    """The server process's own zone (TZ) is not UTC: what `astimezone()` without a zone
    would use."""
    previous = time.tzname
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TZ", "America/New_York")
        time.tzset()
        assert time.tzname != previous
        yield
    time.tzset()


def test_an_end_at_an_instant_is_described_in_utc_whatever_the_zones(new_york_process_zone):
    tokyo = timezone(timedelta(hours=9))
    assert Expire(at=AT.astimezone(tokyo)).describe() == "end access at 2030-05-01T12:00:00Z"
    assert Extend(until=AT.astimezone(tokyo)).describe() == (
        "set the end of access to 2030-05-01T12:00:00Z"
    )


def test_an_instant_with_a_fraction_of_a_second_is_described_to_the_microsecond():
    """The description starts every fingerprint: cut to the second, a dry run of
    --at 18:00:00.999999 confirmed a run of --at 18:00:00, which stored another end."""
    fraction = AT + timedelta(microseconds=999_999)
    assert Expire(at=fraction).describe() == "end access at 2030-05-01T12:00:00.999999Z"
    assert Extend(until=fraction).describe() != Extend(until=AT).describe()


@pytest.mark.django_db
def test_an_enrollment_says_how_many_from_when_and_whether_existing_ones_are_refused():
    targets = (
        PairToEnroll(UserFactory(), CourseFactory()),
        PairToEnroll(UserFactory(), CourseFactory(), AT),
    )
    digest = r" \[[0-9a-f]{16}\]"

    assert re.fullmatch("enroll 2 learner\\(s\\)" + digest, Enroll(targets).describe())
    assert re.fullmatch(
        "enroll 2 learner\\(s\\) from 2030-05-01T12:00:00Z, refusing existing enrollments" + digest,
        Enroll(targets, start_at=AT, refuse_existing=True).describe(),
    )


@pytest.mark.django_db
def test_a_command_summary_names_the_operation(clock):
    enrollment = EnrollmentFactory(ended_at=clock.current + timedelta(days=9))

    result = run_command(
        "remove_from_course",
        "--user",
        enrollment.user.email,
        "--course",
        enrollment.course.slug,
    )

    assert "Asked: remove from the course: 1. Changed 1" in result.stdout, result


def test_values_an_extend_drops_read_as_their_defaults():
    """Lower-precedence values are dropped (the contract's precedence), not merely ignored:
    a request that carried them is the same operation, field for field, as one that did not."""
    assert Extend(until=AT, days=5, from_today=True).from_today is False
    assert Extend(indefinite=True, days=5, until=AT, from_today=True).from_today is False
    assert Extend(indefinite=True, until=AT).until is None
    assert Extend(until=AT, days=5).days is None
    assert Extend(days=5, from_today=True).from_today is True
