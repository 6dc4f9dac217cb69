"""`--expect FINGERPRINT`: a confirmed dry run. The real run applies exactly the plan the dry
run printed, in one transaction, or nothing when anything changed since (exit status 1)."""

import re
from datetime import timedelta

import pytest

from enrollments.models import AccessChange, Enrollment
from enrollments.operations import Extend, apply_to_one
from enrollments.operations.audit import Attribution
from tests.commands.conftest import enroll, exit_status, run_command, snapshot, write_csv
from tests.factories import CourseFactory

pytestmark = pytest.mark.django_db


def fingerprint_of(dry_run) -> str:
    return re.search(r"--expect ([0-9a-f]{64})", dry_run.stdout).group(1)


@pytest.fixture
def course(clock):
    course = CourseFactory(slug="c")
    for email in ("a@example.com", "b@example.com", "c@example.com"):
        enroll(clock, email, course)
    return course


def test_the_dry_runs_plan_is_applied(course, clock):
    dry = run_command("extend_access", "--course", "c", "--days", "30", "--dry-run")
    done = run_command(
        "extend_access", "--course", "c", "--days", "30", "--expect", fingerprint_of(dry)
    )
    assert done.status == 0, done.error
    assert "Changed 3, unchanged 0, failed 0." in done.stdout
    assert set(Enrollment.objects.values_list("ended_at", flat=True)) == {
        clock.current + timedelta(days=35)
    }
    assert AccessChange.objects.values("batch_id").distinct().count() == 1


def test_a_change_since_the_dry_run_applies_nothing(course, clock):
    dry = run_command("extend_access", "--course", "c", "--days", "30", "--dry-run")
    one = Enrollment.objects.filter(course=course).first()
    apply_to_one(Extend(days=1), one, Attribution(None, "admin"))
    before = snapshot()

    again = run_command(
        "extend_access", "--course", "c", "--days", "30", "--expect", fingerprint_of(dry)
    )

    assert again.status == 1
    assert "changed since the preview: nothing was applied [CHANGED_SINCE_PREVIEW]" in again.error
    assert snapshot() == before


def test_another_request_is_another_plan(course):
    dry = run_command("extend_access", "--course", "c", "--days", "30", "--dry-run")
    before = snapshot()
    other = run_command(
        "extend_access", "--course", "c", "--days", "31", "--expect", fingerprint_of(dry)
    )
    assert other.status == 1 and snapshot() == before


def test_a_csv_with_several_requests_is_one_plan(course, clock, tmp_path):
    path = write_csv(
        tmp_path,
        "user,course,days\na@example.com,c,1\nb@example.com,c,2\nc@example.com,c,\n",
    )
    dry = run_command("extend_access", "--csv", path, "--days", "5", "--dry-run")
    assert "extend access by 1 days: 1; extend access by 2 days: 1;" in dry.stdout
    done = run_command(
        "extend_access", "--csv", path, "--days", "5", "--expect", fingerprint_of(dry)
    )
    assert done.status == 0, done.error
    ends = dict(Enrollment.objects.values_list("user__email", "ended_at"))
    start = clock.current + timedelta(days=5)
    assert ends == {
        "a@example.com": start + timedelta(days=1),
        "b@example.com": start + timedelta(days=2),
        "c@example.com": start + timedelta(days=5),
    }
    assert AccessChange.objects.values("batch_id").distinct().count() == 1


def test_expect_with_dry_run_is_a_usage_error(course, capsys):
    status = exit_status("pause_membership", "--course", "c", "--dry-run", "--expect", "0" * 64)
    assert status == 2
    assert "not allowed with argument" in capsys.readouterr().err
