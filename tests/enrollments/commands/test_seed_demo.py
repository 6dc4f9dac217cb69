"""seed_demo: every access state in every course, the people the docs name, the contract's
example ids, more than one admin page; idempotent; refused with DEBUG off unless --force."""

from collections import Counter
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from enrollments import clock
from enrollments.admin.enrollment import EnrollmentAdmin
from enrollments.management.commands.seed_demo import (
    DEMO_MISTAKEN_BATCH_ID,
    EXAMPLE_COURSE_ID,
    EXAMPLE_ENROLLMENT_ID,
    EXAMPLE_USER_ID,
    EXPIRED_EMAIL,
    MISTAKEN_BATCH_EMAILS,
    OVER_EXTENDED_EMAIL,
    REMOVED_EMAIL,
)
from enrollments.models import AccessChange, Enrollment
from enrollments.selectors.access import enrollment_access_state
from enrollments.selectors.memberships import completion_rate, memberships_with_progress
from lms.models import User

pytestmark = pytest.mark.django_db


def seed() -> str:
    # The test runner runs with settings.DEBUG off, like production: hence --force.
    out = StringIO()
    call_command("seed_demo", force=True, stdout=out)
    return out.getvalue()


def test_every_state_and_the_contract_example(clock):
    output = seed()

    enrollments = list(memberships_with_progress())
    assert len(enrollments) > 2 * EnrollmentAdmin.list_per_page  # "Select all N" appears
    states = Counter(str(enrollment_access_state(e)) for e in enrollments)
    # Removed: erin@, the lifecycle's example of enrolling again.
    assert set(states) == {"active", "expired", "not_started", "paused", "removed"}
    assert any(e.ended_at is None for e in enrollments), "an indefinite enrollment"
    assert set(Counter(e.course_status for e in enrollments)) == {
        "not_started",
        "in_progress",
        "completed",
    }

    example = next(e for e in enrollments if e.pk == EXAMPLE_ENROLLMENT_ID)
    assert (example.user_id, example.course_id) == (EXAMPLE_USER_ID, EXAMPLE_COURSE_ID)
    assert example.course.slug == "course-slug"
    assert example.ended_at is not None and completion_rate(example) == 0.5
    assert int(example.created_at.timestamp()) == 1672531200

    staff = User.objects.get(email="admin@example.com")
    assert staff.is_staff and staff.is_superuser
    assert "admin@example.com" in output
    assert (staff.first_name, staff.last_name) == ("Demo", "Admin")


def test_every_demo_person_has_a_first_and_a_last_name(clock):
    seed()
    example = User.objects.get(pk=EXAMPLE_USER_ID)
    assert (example.first_name, example.last_name, example.name) == (
        "Example",
        "Student",
        "Example Student",
    )
    assert not User.objects.filter(first_name="").exists()
    assert not User.objects.filter(last_name="").exists()
    full_names = list(User.objects.values_list("first_name", "last_name"))
    assert len(set(full_names)) == len(full_names), "each demo learner has a name of their own"


def test_every_course_has_learners_ending_soon_and_ended_lately(clock):
    seed()
    now = clock.current
    for slug in ("python-basics", "django-in-depth", "sql-for-everyone"):
        ends = list(
            Enrollment.objects.filter(course__slug=slug, paused_at__isnull=True).values_list(
                "ended_at", flat=True
            )
        )
        assert any(e and now < e <= now + timedelta(days=7) for e in ends), slug
        assert any(e and now - timedelta(days=30) <= e < now for e in ends), slug
        states = {
            str(enrollment_access_state(e))
            for e in memberships_with_progress().filter(course__slug=slug)
        }
        assert states - {"removed"} == {"active", "expired", "not_started", "paused"}, slug


def test_the_people_the_docs_name(clock):
    seed()
    for email, course in [
        ("ann@example.com", "python-basics"),
        ("ann@example.com", "sql-for-everyone"),
        ("bob@example.com", "python-basics"),
        ("bob@example.com", "sql-for-everyone"),
    ]:
        enrollment = Enrollment.objects.get(user__email=email, course__slug=course)
        assert str(enrollment_access_state(enrollment)) == "active", (email, course)
    lead = User.objects.get(email="lead@example.com")
    assert lead.is_staff and not lead.is_superuser
    assert lead.has_perms(
        ["enrollments.extend_access", "enrollments.pause_enrollment", "enrollments.view_enrollment"]
    )


def test_refused_with_debug_off_unless_forced(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="--force"):
        call_command("seed_demo", stdout=StringIO())
    assert not User.objects.exists()


def test_runs_without_force_with_debug_on(settings, clock):
    settings.DEBUG = True
    call_command("seed_demo", stdout=StringIO())
    assert User.objects.filter(email="admin@example.com", is_superuser=True).exists()


def test_running_twice_changes_nothing(clock):
    seed()
    before = (
        list(Enrollment.objects.order_by("pk").values()),
        AccessChange.objects.count(),
        User.objects.count(),
    )
    seed()
    after = (
        list(Enrollment.objects.order_by("pk").values()),
        AccessChange.objects.count(),
        User.objects.count(),
    )
    assert after == before


def test_each_lifecycle_operation_has_a_learner_to_try_it_on():
    seed()
    now = clock.now()
    carol = Enrollment.objects.get(user__email=OVER_EXTENDED_EMAIL, course__slug="python-basics")
    mistake = carol.access_changes.get(action="extend")
    assert (mistake.reason, mistake.new_ended_at - mistake.old_ended_at) == (
        "365 days instead of 65",
        timedelta(days=365),
    )
    dan = Enrollment.objects.get(user__email=EXPIRED_EMAIL, course__slug="django-in-depth")
    assert now - timedelta(days=21) < dan.ended_at < now - timedelta(days=19)
    erin = Enrollment.objects.get(user__email=REMOVED_EMAIL)
    assert erin.removed_at is not None and erin.completions.count() == 1
    batch = AccessChange.objects.filter(batch_id=DEMO_MISTAKEN_BATCH_ID)
    assert sorted(batch.values_list("enrollment__user__email", flat=True)) == sorted(
        MISTAKEN_BATCH_EMAILS
    )
    assert {row.new_ended_at - row.old_ended_at for row in batch} == {timedelta(days=300)}
    lead = User.objects.get(email="lead@example.com")
    assert lead.has_perms(
        [
            "enrollments.expire_access",
            "enrollments.remove_from_course",
            "enrollments.enroll_learners",
            "enrollments.undo_batch",
        ]
    )


def test_the_lifecycle_examples_are_loaded_once():
    seed()
    counts = (Enrollment.objects.count(), AccessChange.objects.count())
    seed()
    assert (Enrollment.objects.count(), AccessChange.objects.count()) == counts
