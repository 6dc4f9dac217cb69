"""pause_membership and resume_membership: single and bulk, failures, actor, usage errors."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission

from enrollments.models import AccessChange, Enrollment
from tests.commands.conftest import exit_status, run_command, snapshot
from tests.factories import CourseFactory, EnrollmentFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db


def enroll(clock, *, course=None, email=None, paused=False, ends_in_days=30) -> Enrollment:
    return EnrollmentFactory(
        course=course or CourseFactory(),
        user=UserFactory(email=email) if email else UserFactory(),
        start_at=clock.current - timedelta(days=10),
        ended_at=clock.current + timedelta(days=ends_in_days),
        is_paused=paused,
        paused_at=clock.current - timedelta(days=2) if paused else None,
    )


def test_pause_then_resume_one_enrollment_gives_the_paused_time_back(clock):
    course = CourseFactory(slug="c", pause_freezes_access=True)
    enrollment = enroll(clock, course=course, email="ann@example.com")
    end = enrollment.ended_at

    paused = run_command(
        "pause_membership", "--user", "ann@example.com", "--course", "c", "--reason", "leave"
    )
    clock.advance(days=3)
    resumed = run_command("resume_membership", "--user", "ann@example.com", "--course", "c")

    assert (paused.status, resumed.status) == (0, 0), paused.stderr + resumed.stderr
    enrollment.refresh_from_db()
    assert not enrollment.is_paused
    assert enrollment.ended_at == end + timedelta(days=3)
    assert enrollment.total_paused_duration == 3 * 86400
    audits = list(AccessChange.objects.filter(enrollment=enrollment).order_by("created_at"))
    assert [(a.action, a.source, a.reason) for a in audits] == [
        (AccessChange.Action.PAUSE, AccessChange.Source.COMMAND, "leave"),
        (AccessChange.Action.RESUME, AccessChange.Source.COMMAND, ""),
    ]
    assert audits[1].paused_seconds == 3 * 86400


def test_pausing_a_paused_enrollment_fails_with_the_contract_message(clock):
    course = CourseFactory(slug="c")
    enroll(clock, course=course, email="ann@example.com", paused=True)
    before = snapshot()

    result = run_command("pause_membership", "--user", "ann@example.com", "--course", "c")

    assert result.status == 1
    assert result.stderr == (
        "ann@example.com in c: Course membership is already paused [ALREADY_PAUSED]\n"
    )
    assert snapshot() == before


def test_resuming_a_running_enrollment_fails_with_the_contract_message(clock):
    course = CourseFactory(slug="c")
    enroll(clock, course=course, email="ann@example.com")

    result = run_command("resume_membership", "--user", "ann@example.com", "--course", "c")

    assert result.status == 1
    assert result.stderr == "ann@example.com in c: Course membership is not paused [NOT_PAUSED]\n"


def test_bulk_pause_of_a_course_filtered_by_state(clock):
    course = CourseFactory(slug="c")
    running = [enroll(clock, course=course) for _ in range(3)]
    already_paused = enroll(clock, course=course, paused=True)
    elsewhere = enroll(clock)

    result = run_command(
        "pause_membership", "--course", "c", "--state", "active", "--batch-size", "2"
    )

    assert result.status == 0, result.stderr
    assert "Asked: pause: 3. Changed 3, unchanged 0, failed 0." in result.stdout
    assert Enrollment.objects.filter(pk__in=[e.pk for e in running], is_paused=True).count() == 3
    assert not AccessChange.objects.filter(enrollment__in=[already_paused, elsewhere]).exists()


def test_bulk_resume_reports_the_rows_that_were_not_paused(clock):
    course = CourseFactory(slug="c")
    paused = enroll(clock, course=course, paused=True)
    enroll(clock, course=course, email="bob@example.com")

    result = run_command("resume_membership", "--course", "c")

    assert result.status == 1
    assert result.stderr == "bob@example.com in c: Course membership is not paused [NOT_PAUSED]\n"
    paused.refresh_from_db()
    assert not paused.is_paused


def test_resume_dry_run_shows_the_new_end(clock):
    course = CourseFactory(slug="c", pause_freezes_access=True)
    enroll(clock, course=course, email="ann@example.com", paused=True)  # paused 2 days ago
    before = snapshot()

    result = run_command("resume_membership", "--course", "c", "--dry-run")

    assert result.status == 0
    lines = result.stdout.splitlines()
    assert lines[0] == (
        "would resume ann@example.com in c: access ends 2026-01-31T00:00:00Z -> "
        "2026-02-02T00:00:00Z"
    )
    # What applying would send (issue 24), then the summary and its fingerprint, last.
    assert lines[1] == "No enabled webhook endpoint receives this 1 event: nothing is sent."
    assert lines[2].startswith(
        "Dry run, nothing was changed. Asked: resume: 1. Would change 1, unchanged 0, "
        "would fail 0. To apply exactly this plan: --expect "
    )
    assert len(lines) == 3
    assert snapshot() == before


def test_actor_needs_the_pause_permission(clock, capsys):
    staff = StaffFactory(email="staff@example.com")
    enrollment = enroll(clock)

    assert exit_status("pause_membership", "--all", "--actor", "staff@example.com") == 2
    assert "lacks the permission enrollments.pause_enrollment" in capsys.readouterr().err

    staff.user_permissions.add(Permission.objects.get(codename="pause_enrollment"))
    result = run_command("pause_membership", "--all", "--actor", "staff@example.com")
    assert result.status == 0, result.stderr
    assert AccessChange.objects.get(enrollment=enrollment).actor == staff


def test_pause_from_csv_reports_bad_lines(clock, tmp_path):
    course = CourseFactory(slug="c")
    enrollment = enroll(clock, course=course, email="ann@example.com")
    path = tmp_path / "pause.csv"
    path.write_text("user,course\nann@example.com,c\nghost@example.com,c\n")

    result = run_command("pause_membership", "--csv", str(path))

    assert result.status == 1
    assert result.stderr == (
        "line 3 (ghost@example.com, c): Student is not enrolled in this course [NOT_ENROLLED]: "
        "no user with e-mail or id 'ghost@example.com'\n"
    )
    enrollment.refresh_from_db()
    assert enrollment.is_paused


@pytest.mark.parametrize("command", ["pause_membership", "resume_membership"])
def test_usage_errors(clock, capsys, command):
    assert exit_status(command) == 2
    assert "select enrollments with --user, --course, --all or --csv" in capsys.readouterr().err
    assert exit_status(command, "--all", "--days", "3") == 2
    assert "unrecognized arguments: --days 3" in capsys.readouterr().err
