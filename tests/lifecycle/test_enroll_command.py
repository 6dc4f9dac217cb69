"""`manage.py enroll`: single and CSV, dry run and --expect, --create-users, exit statuses."""

from datetime import UTC, datetime, timedelta

import pytest

from enrollments.models import AccessChange, Enrollment
from enrollments.operations import Remove, Selection, apply
from enrollments.operations.audit import Attribution
from lms.models import User
from tests.commands.conftest import run_command, snapshot
from tests.factories import CourseFactory, EnrollmentFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db


def world() -> dict:
    return {**snapshot(), "users": sorted(User.objects.values_list("email", flat=True))}


@pytest.fixture
def course(db):
    return CourseFactory(slug="python", access_days=30)


def test_single_enrolls_with_the_course_default_and_audits(clock, course):
    UserFactory(email="ann@example.com")
    done = run_command(
        "enroll", "--user", "ANN@example.com", "--course", "python", "--reason", "paid"
    )
    assert done.status == 0, done.stderr
    assert "enrolled 1" in done.stdout
    enrollment = Enrollment.objects.get()
    assert enrollment.ended_at == clock.current + timedelta(days=30)
    audit = AccessChange.objects.get()
    assert (audit.action, audit.source, audit.reason) == ("enroll", "command", "paid")


def test_single_with_an_end_updates_an_active_enrollment(clock, course):
    enrollment = EnrollmentFactory(course=course, user=UserFactory(email="ann@example.com"))
    done = run_command(
        "enroll", "--user", "ann@example.com", "--course", "python", "--ended-at", "2027-03-01"
    )
    assert done.status == 0, done.stderr
    enrollment.refresh_from_db()
    assert enrollment.ended_at == datetime(2027, 3, 1, tzinfo=UTC)
    assert "updated 1" in done.stdout


def test_single_restores_a_removed_enrollment(clock, course):
    enrollment = EnrollmentFactory(course=course, user=UserFactory(email="ann@example.com"))
    apply(Remove(), Selection.named([enrollment.pk]), Attribution(None, AccessChange.Source.SYSTEM))
    done = run_command("enroll", "--user", "ann@example.com", "--course", "python")
    assert done.status == 0 and "restored 1" in done.stdout
    enrollment.refresh_from_db()
    assert enrollment.removed_at is None


def test_unknown_address_fails_without_create_users_and_is_created_with_it(clock, course):
    before = world()
    refused = run_command("enroll", "--user", "new@example.com", "--course", "python")
    assert refused.status == 1
    assert "User not found [NOT_FOUND]" in refused.stderr
    assert world() == before

    nameless = run_command(
        "enroll", "--user", "new@example.com", "--course", "python", "--create-users"
    )
    assert nameless.status == 1 and "NAME_REQUIRED" in nameless.stderr
    assert world() == before

    done = run_command(
        "enroll",
        "--user",
        "new@example.com",
        "--course",
        "python",
        "--create-users",
        "--name",
        "New Learner",
    )
    assert done.status == 0, done.stderr
    user = User.objects.get(email="new@example.com")
    assert (user.first_name, user.last_name) == ("New", "Learner")
    assert Enrollment.objects.filter(user=user, course=course).exists()


@pytest.mark.parametrize(
    "args",
    [
        (),
        ("--user", "a@example.com"),
        ("--course", "python"),
        ("--user", "a@example.com", "--course", "nope"),
        ("--user", "a@example.com", "--course", "python", "--ended-at", "soon"),
        ("--user", "a@example.com", "--course", "python", "--reason", "x" * 1001),
        ("--csv", "rows.csv", "--user", "a@example.com"),
        ("--user", "a@example.com", "--course", "python", "--actor", "nobody@example.com"),
    ],
)
def test_usage_errors_exit_2_and_change_nothing(clock, course, args):
    UserFactory(email="a@example.com")
    before = world()
    assert run_command("enroll", *args).status == 2
    assert world() == before


def test_actor_needs_the_enroll_permission(clock, course):
    UserFactory(email="a@example.com")
    staff = StaffFactory(email="staff@example.com")
    done = run_command(
        "enroll", "--user", "a@example.com", "--course", "python", "--actor", staff.email
    )
    assert done.status == 2 and "enroll_learners" in done.error


def test_an_end_out_of_range_fails_the_row(clock, course):
    UserFactory(email="a@example.com")
    before = world()
    done = run_command(
        "enroll", "--user", "a@example.com", "--course", "python", "--ended-at", "2040-01-01"
    )
    assert done.status == 1 and "INVALID_ACCESS_END" in done.stderr
    assert world() == before


def test_csv_dry_run_then_expect_applies_exactly_that(clock, course, tmp_path):
    CourseFactory(slug="other", access_days=None)
    UserFactory(email="ann@example.com")
    removed = EnrollmentFactory(course=course, user=UserFactory(email="bob@example.com"))
    apply(Remove(), Selection.named([removed.pk]), Attribution(None, AccessChange.Source.SYSTEM))
    EnrollmentFactory(course=course, user=UserFactory(email="cy@example.com"))
    rows = tmp_path / "rows.csv"
    rows.write_text(
        "user,course,name,ended_at\n"
        "ann@example.com,python,,\n"
        "bob@example.com,python,,2027-01-01\n"
        "cy@example.com,python,,\n"
        "new@example.com,other,New Person,\n"
        "bad-address,python,,\n"
        "ann@example.com,nowhere,,\n"
        "ann@example.com,python,,\n"
        "dee@example.com,python,,\n"
        "ann@example.com,other,,not-a-date\n"
    )
    before = world()
    dry = run_command("enroll", "--csv", str(rows), "--create-users", "--dry-run")
    assert dry.status == 1  # some rows would fail
    assert world() == before
    assert "enrolled 2, restored 1, updated 0, unchanged 1, failed 5" in dry.stdout
    assert dry.stderr.splitlines() == [
        "line 6 (bad-address, python): Enter a valid email address [INVALID_EMAIL]: 'bad-address'",
        "line 7 (ann@example.com, nowhere): Course not found [NOT_FOUND]",
        "line 8 (ann@example.com, python): This learner and course are already listed on an "
        "earlier line [DUPLICATE_ENTRY]: line 2 names it already",
        "line 9 (dee@example.com, python): Name is required when creating a new user "
        "[NAME_REQUIRED]",
        "line 10 (ann@example.com, other): Invalid end of access: use an instant after "
        "2020-01-01 and before 2038-01-19 [INVALID_ACCESS_END]: ended_at 'not-a-date' is not "
        "an ISO 8601 date",
    ]
    fingerprint = dry.stdout.rsplit("--expect ", 1)[1].strip()

    done = run_command("enroll", "--csv", str(rows), "--create-users", "--expect", fingerprint)
    assert done.status == 1, done.stderr
    assert "Done: enrolled 2, restored 1" in done.stdout
    removed.refresh_from_db()
    assert removed.removed_at is None and removed.ended_at == datetime(2027, 1, 1, tzinfo=UTC)
    assert User.objects.filter(email="new@example.com").exists()
    assert AccessChange.objects.filter(action="enroll").values("batch_id").distinct().count() == 1

    again = run_command("enroll", "--csv", str(rows), "--create-users", "--expect", fingerprint)
    assert again.status == 1 and "CHANGED_SINCE_PREVIEW" in again.error


@pytest.mark.parametrize("days_then", [None, 365], ids=["indefinite", "a year"])
def test_expect_refuses_a_plan_whose_course_length_changed_since_the_dry_run(clock, days_then):
    """The dry run enrolls Ann "until" the course's 30 days; the course's length then changes,
    and the dry run's fingerprint applied the other plan (the end follows the clock, so the
    fingerprint leaves it out, and nothing named the course's length it came from)."""
    course = CourseFactory(slug="python-basics", access_days=30)
    UserFactory(email="ann@example.com")
    pair = ("--user", "ann@example.com", "--course", "python-basics")
    dry = run_command("enroll", *pair, "--dry-run")
    fingerprint = dry.stdout.rsplit("--expect ", 1)[1].strip()
    course.access_days = days_then
    course.save()

    applied = run_command("enroll", *pair, "--expect", fingerprint)

    assert (applied.status, Enrollment.objects.count()) == (1, 0)
    assert "CHANGED_SINCE_PREVIEW" in applied.error
    course.access_days = 30
    course.save()
    assert run_command("enroll", *pair, "--expect", fingerprint).status == 0
