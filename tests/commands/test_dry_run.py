"""--dry-run changes nothing: every enrollment, audit and reminder row is compared before and
after, for each command and input, while the output announces what the real run would do."""

from datetime import timedelta

import pytest

from enrollments.models import AccessChange
from tests.commands.conftest import run_command, snapshot
from tests.factories import CourseFactory, EnrollmentFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def population(clock):
    """Enrollments in every state of one course, each with an audit row already."""
    course = CourseFactory(slug="c")
    now = clock.current
    states = {
        "active": {"ended_at": now + timedelta(days=3)},
        "expired": {"ended_at": now - timedelta(days=3)},
        "long_expired": {"ended_at": now - timedelta(days=300)},
        "indefinite": {"ended_at": None},
        "paused": {"ended_at": now + timedelta(days=3), "is_paused": True, "paused_at": now},
        "not_started": {"start_at": now + timedelta(days=3), "ended_at": now + timedelta(days=90)},
    }
    for name, fields in states.items():
        enrollment = EnrollmentFactory(
            course=course,
            user=UserFactory(email=f"{name}@example.com"),
            **{"start_at": now - timedelta(days=10), **fields},
        )
        AccessChange.objects.create(
            enrollment=enrollment,
            action=AccessChange.Action.ENROLL,
            source=AccessChange.Source.SYSTEM,
            created_at=now - timedelta(days=10),
        )
    return course


@pytest.mark.parametrize(
    ("argv", "would", "fail"),
    [
        (["extend_access", "--course", "c", "--days", "30"], 4, 2),
        (["extend_access", "--all", "--until", "2026-09-01"], 5, 1),
        (["extend_access", "--course", "c", "--indefinite"], 5, 0),
        (["pause_membership", "--course", "c"], 5, 1),
        (["resume_membership", "--all"], 1, 5),
    ],
)
def test_dry_run_changes_nothing_and_tells_what_would_happen(population, argv, would, fail):
    before = snapshot()

    result = run_command(*argv, "--dry-run")

    assert snapshot() == before
    assert result.stdout.count("would ") == would + 1  # one line per change, plus the summary
    assert f"Would change {would}" in result.stdout
    assert f"would fail {fail}." in result.stdout
    assert len(result.stderr.splitlines()) == fail
    assert result.status == (1 if fail else 0)


def test_csv_dry_run_changes_nothing(population, tmp_path):
    path = tmp_path / "rows.csv"
    path.write_text(
        "user,course,days\nactive@example.com,c,5\nexpired@example.com,c,\nghost@example.com,c,1\n"
    )
    before = snapshot()

    result = run_command("extend_access", "--csv", str(path), "--days", "10", "--dry-run")

    assert snapshot() == before
    assert result.status == 1
    assert (
        "would extend line 2 (active@example.com, c): access ends 2026-01-04T00:00:00Z -> "
        "2026-01-09T00:00:00Z"
    ) in result.stdout
    assert "line 3 (expired@example.com, c)" in result.stdout
    assert "line 4 (ghost@example.com, c): Student is not enrolled" in result.stderr
    assert "1 of 3 rows would fail (dry run)" in result.error


def test_the_real_run_does_what_the_dry_run_said(population):
    dry = run_command("extend_access", "--course", "c", "--days", "30", "--dry-run")
    real = run_command("extend_access", "--course", "c", "--days", "30", verbosity=2)

    said = sorted(
        line.removeprefix("would extend ")
        for line in dry.stdout.splitlines()
        if line.startswith("would extend ")
    )
    done = sorted(
        line.removeprefix("extended ")
        for line in real.stdout.splitlines()
        if line.startswith("extended ")
    )
    assert said == done and len(done) == 4
    assert dry.stderr == real.stderr
