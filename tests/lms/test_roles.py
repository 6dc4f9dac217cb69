"""lms/roles.py: the one place that grants, changes and revokes course roles, each change with
its lms.CourseRoleChange record in the same transaction. The doors' own tests: the command's in
tests/commands/test_course_roles_command.py, the admin's in tests/admin/test_course_roles_admin.py.
"""

import pytest
from django.db import transaction

from lms.models import CourseRole, CourseRoleChange
from lms.roles import RoleNotHeld, Source, grant_role, revoke_role
from tests.factories import CourseFactory, CourseRoleFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ann_and_course(clock):
    return UserFactory(), CourseFactory()


def test_grant_change_unchanged_and_revoke(ann_and_course, clock):
    ann, course = ann_and_course
    actor = StaffFactory()

    granted = grant_role(ann, course, "staff", actor=actor, source=Source.ADMIN)
    assert (granted.action, granted.old_role, granted.new_role) == ("grant", "", "staff")
    assert (granted.actor, granted.source, granted.created_at) == (actor, "admin", clock.current)
    assert grant_role(ann, course, "staff", actor=None, source=Source.COMMAND) is None
    changed = grant_role(ann, course, "manager", actor=None, source=Source.COMMAND)
    assert (changed.action, changed.old_role, changed.new_role) == ("change", "staff", "manager")
    held = CourseRole.objects.get()
    assert (held.role, held.granted_by) == ("manager", None)
    revoked = revoke_role(ann, course, actor=actor, source=Source.ADMIN)
    assert (revoked.action, revoked.old_role, revoked.new_role) == ("revoke", "manager", "")

    assert not CourseRole.objects.exists()
    assert CourseRoleChange.objects.count() == 3


def test_a_revoke_of_a_role_not_held_raises_and_writes_nothing(ann_and_course):
    ann, course = ann_and_course
    with pytest.raises(RoleNotHeld) as not_held:
        revoke_role(ann, course, actor=None, source=Source.COMMAND)
    assert not_held.value.held is None
    CourseRoleFactory(user=ann, course=course, role="staff")
    with pytest.raises(RoleNotHeld) as other:
        revoke_role(ann, course, actor=None, source=Source.COMMAND, only="manager")
    assert other.value.held == "staff"
    assert CourseRole.objects.get().role == "staff"
    assert not CourseRoleChange.objects.exists()


@pytest.mark.parametrize("held", [None, "staff"])
def test_a_rollback_leaves_neither_the_role_change_nor_its_record(ann_and_course, held):
    ann, course = ann_and_course
    if held:
        CourseRoleFactory(user=ann, course=course, role=held)
    before = list(CourseRole.objects.values_list("role", flat=True))

    with pytest.raises(RuntimeError), transaction.atomic():
        grant_role(ann, course, "manager", actor=None, source=Source.COMMAND)
        raise RuntimeError("the caller's work failed after the grant")

    assert list(CourseRole.objects.values_list("role", flat=True)) == before
    assert not CourseRoleChange.objects.exists()


def test_a_record_outlives_its_actor(ann_and_course):
    ann, course = ann_and_course
    actor = StaffFactory()
    grant_role(ann, course, "staff", actor=actor, source=Source.ADMIN)
    actor.delete()
    record = CourseRoleChange.objects.get()
    assert (record.actor, record.new_role) == (None, "staff")
