"""check_progress: verifies the stored progress against the completions, and repairs it."""

import pytest

from enrollments.models import Enrollment
from enrollments.progress.completing import enrollment_complete_item
from tests.commands.conftest import exit_status, run_command
from tests.factories import CourseFactory, CourseItemFactory, EnrollmentFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def progressed(enrollment):
    items = CourseItemFactory.create_batch(2, course=enrollment.course)
    enrollment_complete_item(enrollment=enrollment, item=items[0])
    return enrollment


def stored(enrollment):
    return Enrollment.objects.values_list("items_completed", "course_status").get(pk=enrollment.pk)


def test_nothing_to_report(progressed):
    run = run_command("check_progress")
    assert run.status == 0
    assert "matches the completions of every enrollment" in run.stdout


def test_a_wrong_count_is_reported_and_left_alone(progressed):
    Enrollment.objects.filter(pk=progressed.pk).update(items_completed=2, course_status="completed")
    run = run_command("check_progress")
    assert run.status == 1
    assert f"{progressed.pk} ({progressed.user.email}, {progressed.course.slug})" in run.stdout
    assert "stored 2 completed, counted 1 in_progress" in run.stdout
    assert "1 enrollments' stored progress differs" in run.error
    assert stored(progressed) == (2, "completed")


def test_repair_recounts_the_rows_that_differ(progressed):
    Enrollment.objects.filter(pk=progressed.pk).update(
        items_completed=0, course_status="not_started"
    )
    run = run_command("check_progress", "--repair")
    assert run.status == 0 and "Repaired 1 enrollments." in run.stdout
    assert stored(progressed) == (1, "in_progress")
    assert run_command("check_progress").status == 0


def test_only_one_course(progressed):
    other = EnrollmentFactory(course=CourseFactory(slug="other"), user=UserFactory())
    Enrollment.objects.filter(pk=other.pk).update(items_completed=5)
    assert run_command("check_progress", "--course", progressed.course.slug).status == 0
    run = run_command("check_progress", "--course", "other", "--repair")
    assert run.status == 0 and stored(other) == (0, "not_started")


def test_the_listing_is_bounded(progressed):
    extra = EnrollmentFactory.create_batch(3, course=progressed.course)
    Enrollment.objects.filter(pk__in=[e.pk for e in extra]).update(items_completed=7)
    run = run_command("check_progress", "--show", "1")
    assert run.status == 1 and "... and 2 more" in run.stdout


@pytest.mark.parametrize("args", [["--course", "no-such-course"], ["--show", "0"], ["--show", "x"]])
def test_usage_errors(progressed, args):
    assert exit_status("check_progress", *args) == 2
    assert stored(progressed) == (1, "in_progress")
