"""Enrolling entries (`preview_entries`, `apply_entries`: the admin's "Enroll learners…" and
`manage.py enroll`) keeps to where the actor may enroll, as the core does: an entry naming a
course outside the actor's scope is refused as CourseNotFound, on its own line, and creates
nothing, not even a learner for a new e-mail (docs/api.md, "Course roles and scope"). The doors
offer only the actor's courses; the core holds the rule whatever entries a door passes."""

import pytest

from enrollments.models import AccessChange, Enrollment
from enrollments.operations import enrolling_learners
from enrollments.operations.audit import Attribution
from enrollments.operations.enrolling_learners import Entry, apply_entries, preview_entries
from enrollments.operations.scope import EVERYWHERE, scope_of
from enrollments.permissions import ENROLL_LEARNERS
from lms.models import CourseRole, User
from tests.factories import CourseFactory, CourseRoleFactory, UserFactory

pytestmark = pytest.mark.django_db

NEW = "brand.new@example.com"


@pytest.fixture
def courses(db):
    """A manager's course and another one: (manager, mine, other)."""
    mine, other = CourseFactory(), CourseFactory()
    manager = CourseRoleFactory(course=mine, role=CourseRole.Role.MANAGER).user
    return manager, mine, other


def _refused(result) -> list[tuple[int, str]]:
    return [(entry.line, error.code) for entry, error in result.refusals()]


def test_new_learner_in_a_course_outside_the_actors_scope_is_refused_and_not_created(
    clock, courses
):
    manager, _mine, other = courses
    known = UserFactory()
    entries = [Entry(1, known.email, other), Entry(2, NEW, other, "Brand New")]

    done = apply_entries(
        entries, create_users=True, by=Attribution(manager, AccessChange.Source.COMMAND)
    )

    # Each refused on its own line (not under line 0 with an enrollment id), none enrolled.
    assert _refused(done) == [(1, "NOT_FOUND"), (2, "NOT_FOUND")]
    assert done.counts == {
        "enrolled": 0,
        "restored": 0,
        "updated": 0,
        "unchanged": 0,
        "refused": 2,
    }
    assert not Enrollment.objects.filter(course=other).exists()
    assert not User.objects.filter(email__iexact=NEW).exists()
    assert not AccessChange.objects.exists()


def test_entries_inside_the_scope_go_ahead_beside_the_refused(clock, courses):
    manager, mine, other = courses
    entries = [Entry(1, NEW, other, "Brand New"), Entry(2, "ok@example.com", mine, "Ok Person")]

    done = apply_entries(
        entries, create_users=True, by=Attribution(manager, AccessChange.Source.ADMIN)
    )

    assert _refused(done) == [(1, "NOT_FOUND")]
    assert [entry.line for entry, _note in done.rows()["enrolled"]] == [2]
    assert list(Enrollment.objects.values_list("user__email", "course")) == [
        ("ok@example.com", mine.pk)
    ]
    assert not User.objects.filter(email__iexact=NEW).exists()


def test_preview_for_the_actor_refuses_the_same_and_confirms(clock, courses):
    manager, mine, other = courses
    known = UserFactory()
    entries = [
        Entry(1, known.email, other),
        Entry(2, NEW, other, "Brand New"),
        Entry(3, known.email, mine),
    ]

    preview = preview_entries(entries, create_users=True, scope=scope_of(manager, ENROLL_LEARNERS))
    assert _refused(preview) == [(1, "NOT_FOUND"), (2, "NOT_FOUND")]

    done = apply_entries(
        entries,
        create_users=True,
        by=Attribution(manager, AccessChange.Source.ADMIN),
        expected=preview.fingerprint(),
    )
    assert done.counts == preview.counts
    assert list(Enrollment.objects.values_list("user", "course")) == [(known.pk, mine.pk)]


def test_should_the_core_still_refuse_each_entry_is_reported_refused_on_its_line(
    clock, courses, monkeypatch
):
    """The core's own check (core._refuse_new_outside) behind this one: with the scope seen as
    every course here, the core refuses the pairs, the known learner's by an id it drew and the
    new learner's in the second enrollment; each is reported on its line, none as enrolled."""
    manager, _mine, other = courses

    def every_course(_user, _permission):
        return EVERYWHERE

    monkeypatch.setattr(enrolling_learners, "actor_scope", every_course, raising=False)
    known = UserFactory()
    entries = [Entry(1, known.email, other), Entry(2, NEW, other, "Brand New")]

    done = apply_entries(
        entries, create_users=True, by=Attribution(manager, AccessChange.Source.COMMAND)
    )

    assert _refused(done) == [(1, "NOT_FOUND"), (2, "NOT_FOUND")]
    assert [entry.user for entry, _note in done.rows()["refused"]] == [known.email, NEW]
    assert done.rows()["enrolled"] == []
    assert not Enrollment.objects.filter(course=other).exists()
