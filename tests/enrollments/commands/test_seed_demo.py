"""seed_demo: every access state, the contract's example ids, idempotent."""

from collections import Counter
from io import StringIO

import pytest
from django.core.management import call_command

from enrollments.management.commands.seed_demo import (
    EXAMPLE_COURSE_ID,
    EXAMPLE_ENROLLMENT_ID,
    EXAMPLE_USER_ID,
)
from enrollments.models import AccessChange, Enrollment
from enrollments.selectors import (
    completion_rate,
    enrollment_access_state,
    memberships_with_progress,
)
from lms.models import User

pytestmark = pytest.mark.django_db


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_every_state_and_the_contract_example(clock):
    output = seed()

    enrollments = list(memberships_with_progress())
    assert 45 <= len(enrollments) <= 60
    states = Counter(str(enrollment_access_state(e)) for e in enrollments)
    assert set(states) == {"active", "expired", "not_started", "paused"}
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
