"""Course roles in the core (issue 25): the scope a role gives, applied where the core reads and
locks a selection, and the course's limits on its staff, applied when it plans."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission

from enrollments.errors import (
    BatchNotFound,
    CourseNotFound,
    ExtensionOverCourseLimit,
    MembershipNotFound,
    ReasonRequired,
)
from enrollments.models import AccessChange, Enrollment
from enrollments.operations import Extend, Selection, apply, apply_to_one, preview
from enrollments.operations.audit import Attribution
from enrollments.operations.enrolling import Enroll, PairToEnroll, enroll
from enrollments.operations.expiring import Expire
from enrollments.operations.limits import CourseLimits, refusal
from enrollments.operations.pausing import Pause, Resume
from enrollments.operations.scope import EVERYWHERE, Scope, scope_of, scope_of_any
from enrollments.operations.undoing import Undo, batch_selection
from enrollments.permissions import (
    ENROLL_LEARNERS,
    EXPIRE_ACCESS,
    EXTEND_ACCESS,
    UNDO_BATCH,
    VIEW_ENROLLMENT,
)
from lms.models import CourseRole
from tests.factories import (
    CourseFactory,
    CourseRoleFactory,
    EnrollmentFactory,
    StaffFactory,
    UserFactory,
)

DAY = timedelta(days=1)
ADMIN = AccessChange.Source.ADMIN

pytestmark = pytest.mark.django_db


def grant(user, permission):
    app_label, codename = permission.name.split(".")
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label=app_label, codename=codename)
    )
    return type(user).objects.get(pk=user.pk)  # a fresh object: Django caches permissions


@pytest.fixture
def two_courses(clock):
    """Course A (with two enrollments) and course B (with one), all ending in 30 days."""
    a, b = CourseFactory(slug="a"), CourseFactory(slug="b")
    end = clock.current + 30 * DAY
    start = clock.current - 10 * DAY
    rows = {
        "a1": EnrollmentFactory(course=a, start_at=start, ended_at=end),
        "a2": EnrollmentFactory(course=a, start_at=start, ended_at=end),
        "b1": EnrollmentFactory(course=b, start_at=start, ended_at=end),
    }
    return a, b, rows


def ends():
    return dict(Enrollment.objects.values_list("pk", "ended_at"))


class TestScopeOf:
    def test_a_global_permission_reaches_every_course(self, staff):
        assert scope_of(grant(staff, EXTEND_ACCESS), EXTEND_ACCESS) is EVERYWHERE

    def test_no_user_is_the_system_and_reaches_every_course(self):
        assert scope_of(None, EXTEND_ACCESS) is EVERYWHERE

    def test_staff_reach_their_courses_limited_managers_unlimited(self, two_courses):
        a, b, _ = two_courses
        user = StaffFactory()
        CourseRoleFactory(user=user, course=a, role=CourseRole.Role.STAFF)
        CourseRoleFactory(user=user, course=b, role=CourseRole.Role.MANAGER)
        extend = scope_of(user, EXTEND_ACCESS)
        assert extend.courses == {a.pk, b.pk}
        assert extend.limited == {a.pk}
        # Staff may not end access; the manager may, in their course only.
        assert scope_of(user, EXPIRE_ACCESS) == Scope(frozenset({b.pk}))
        assert scope_of(user, UNDO_BATCH).courses == {b.pk}

    def test_no_role_and_no_permission_is_an_empty_scope(self, staff):
        scope = scope_of(staff, VIEW_ENROLLMENT)
        assert scope.empty and not scope.covers(None)

    def test_an_inactive_user_reaches_nothing(self, two_courses):
        a, _, _ = two_courses
        role = CourseRoleFactory(course=a)
        role.user.is_active = False
        assert scope_of(role.user, VIEW_ENROLLMENT).empty

    def test_any_of_several_permissions_unites_their_courses(self, two_courses):
        a, b, _ = two_courses
        user = CourseRoleFactory(course=a).user
        CourseRoleFactory(user=user, course=b, role=CourseRole.Role.MANAGER)
        assert scope_of_any(user, [EXPIRE_ACCESS, EXTEND_ACCESS]).courses == {a.pk, b.pk}
        assert scope_of_any(grant(user, ENROLL_LEARNERS), [ENROLL_LEARNERS]) is EVERYWHERE

    def test_the_roles_are_read_once_per_user_object(self, two_courses, django_assert_num_queries):
        a, _, _ = two_courses
        user = CourseRoleFactory(course=a).user
        scope_of(user, EXTEND_ACCESS)
        with django_assert_num_queries(0):
            assert scope_of(user, EXTEND_ACCESS).courses == {a.pk}


class TestTheCoreKeepsToTheScope:
    def test_a_filter_over_every_course_changes_only_the_actors(self, two_courses, clock):
        a, _, rows = two_courses
        user = CourseRoleFactory(course=a).user
        before = ends()
        plan = apply(
            Extend(days=5), Selection.by_filter(Enrollment.objects.all()), Attribution(user, ADMIN)
        )
        assert {c.enrollment_id for c in plan.changes} == {rows["a1"].pk, rows["a2"].pk}
        after = ends()
        assert after[rows["b1"].pk] == before[rows["b1"].pk]
        assert after[rows["a1"].pk] == before[rows["a1"].pk] + 5 * DAY
        assert not AccessChange.objects.filter(enrollment=rows["b1"]).exists()

    def test_a_named_row_outside_the_scope_is_not_found(self, two_courses):
        a, _, rows = two_courses
        user = CourseRoleFactory(course=a).user
        before = ends()
        with pytest.raises(MembershipNotFound):
            apply_to_one(Extend(days=5), rows["b1"], Attribution(user, ADMIN))
        assert ends() == before

    def test_the_preview_of_a_scoped_selection_equals_its_apply(self, two_courses):
        a, _, _ = two_courses
        user = CourseRoleFactory(course=a).user
        selection = Selection.by_filter(
            Enrollment.objects.all(), scope=scope_of(user, EXTEND_ACCESS)
        )
        shown = preview(Extend(days=5), selection)
        assert shown.changed_count == 2
        done = apply(
            Extend(days=5), selection, Attribution(user, ADMIN), expected=shown.fingerprint()
        )
        assert done.changed_count == 2

    def test_a_global_holder_with_a_role_is_not_narrowed(self, two_courses):
        a, _, _ = two_courses
        user = grant(CourseRoleFactory(course=a).user, EXTEND_ACCESS)
        plan = apply(
            Extend(days=1), Selection.by_filter(Enrollment.objects.all()), Attribution(user, ADMIN)
        )
        assert plan.changed_count == 3

    def test_a_door_scope_narrower_than_the_actors_is_kept(self, two_courses):
        a, b, rows = two_courses
        user = grant(StaffFactory(), EXTEND_ACCESS)
        selection = Selection.by_filter(Enrollment.objects.all(), scope=Scope(frozenset({b.pk})))
        plan = apply(Extend(days=1), selection, Attribution(user, ADMIN))
        assert [c.enrollment_id for c in plan.changes] == [rows["b1"].pk]

    def test_enrolling_in_a_course_outside_the_scope_is_refused(self, two_courses):
        a, b, _ = two_courses
        user = CourseRoleFactory(course=a, role=CourseRole.Role.MANAGER).user
        learner = UserFactory()
        operation = Enroll((PairToEnroll(learner, b), PairToEnroll(learner, a)))
        plan = enroll(operation, Attribution(user, ADMIN), scope=scope_of(user, ENROLL_LEARNERS))
        assert [type(s.error) for s in plan.skips] == [CourseNotFound]
        assert list(Enrollment.objects.filter(user=learner).values_list("course", flat=True)) == [
            a.pk
        ]

    def test_undoing_a_batch_that_reaches_outside_the_scope_is_not_found(self, two_courses):
        a, _, _ = two_courses
        batch = apply(
            Extend(days=3), Selection.by_filter(Enrollment.objects.all()), Attribution(None, ADMIN)
        )
        manager = CourseRoleFactory(course=a, role=CourseRole.Role.MANAGER).user
        with pytest.raises(BatchNotFound):
            batch_selection(batch.batch_id, scope=scope_of(manager, UNDO_BATCH))
        # The core keeps to the scope even with the whole batch named: only course A's rows.
        plan = apply(
            Undo(batch.batch_id), batch_selection(batch.batch_id), Attribution(manager, ADMIN)
        )
        assert plan.changed_count == 2
        assert {type(s.error) for s in plan.skips} == {MembershipNotFound}

    def test_staff_cannot_end_access_even_in_their_course(self, two_courses, clock):
        a, _, rows = two_courses
        user = CourseRoleFactory(course=a).user
        # Staff hold a role but not EXPIRE_ACCESS in it: the core reaches no course for them.
        plan = apply(
            Expire(at=clock.current + DAY),
            Selection.named([rows["a1"].pk]),
            Attribution(user, ADMIN),
        )
        assert plan.changed_count == 0
        assert [type(s.error) for s in plan.skips] == [MembershipNotFound]


class TestLimits:
    @pytest.fixture
    def limited(self, two_courses):
        a, b, rows = two_courses
        a.staff_max_extension_days = 14
        a.staff_reason_required = True
        a.save()
        user = CourseRoleFactory(course=a).user
        return user, rows

    def test_within_the_limit_with_a_reason_is_applied(self, limited):
        user, rows = limited
        apply_to_one(Extend(days=14), rows["a1"], Attribution(user, ADMIN, "ticket 7"))
        assert AccessChange.objects.filter(enrollment=rows["a1"]).count() == 1

    def test_over_the_limit_is_refused_with_its_code(self, limited):
        user, rows = limited
        before = ends()
        with pytest.raises(ExtensionOverCourseLimit) as caught:
            apply_to_one(Extend(days=15), rows["a1"], Attribution(user, ADMIN, "ticket 7"))
        assert caught.value.code == "EXTENSION_OVER_COURSE_LIMIT"
        assert ends() == before

    def test_a_missing_reason_is_refused_with_its_code(self, limited):
        user, rows = limited
        with pytest.raises(ReasonRequired) as caught:
            apply_to_one(Pause(), rows["a1"], Attribution(user, ADMIN, "  "))
        assert caught.value.code == "REASON_REQUIRED"
        assert not AccessChange.objects.exists()

    def test_the_preview_refuses_as_the_apply_does(self, limited):
        user, rows = limited
        selection = Selection.named([rows["a1"].pk], scope=scope_of(user, EXTEND_ACCESS))
        shown = preview(Extend(days=30), selection, reason="ticket")
        assert [s.error.code for s in shown.skips] == ["EXTENSION_OVER_COURSE_LIMIT"]
        assert [s.error.code for s in preview(Extend(days=3), selection).skips] == [
            "REASON_REQUIRED"
        ]

    def test_a_manager_and_a_global_holder_are_not_limited(self, limited, two_courses):
        a, _, _ = two_courses
        _user, rows = limited
        manager = CourseRoleFactory(course=a, role=CourseRole.Role.MANAGER).user
        apply_to_one(Extend(days=400), rows["a1"], Attribution(manager, ADMIN))
        apply_to_one(
            Extend(indefinite=True),
            rows["a2"],
            Attribution(grant(StaffFactory(), EXTEND_ACCESS), ADMIN),
        )
        assert AccessChange.objects.count() == 2

    def test_a_bulk_selection_skips_only_the_limited_rows(self, limited, two_courses):
        a, b, rows = two_courses
        user, _ = limited
        CourseRoleFactory(user=user, course=b)  # staff in B too, where there is no limit
        user = type(user).objects.get(pk=user.pk)
        plan = apply(
            Extend(days=20),
            Selection.by_filter(Enrollment.objects.all()),
            Attribution(user, ADMIN, "term"),
        )
        assert [c.enrollment_id for c in plan.changes] == [rows["b1"].pk]
        assert {s.error.code for s in plan.skips} == {"EXTENSION_OVER_COURSE_LIMIT"}

    def test_resume_gives_back_paused_time_beyond_the_limit(self, limited, clock):
        user, rows = limited
        apply_to_one(Pause(), rows["a1"], Attribution(user, ADMIN, "leave"))
        clock.advance(days=40)
        enrollment = Enrollment.objects.get(pk=rows["a1"].pk)
        apply_to_one(Resume(), enrollment, Attribution(user, ADMIN, "back"))
        assert Enrollment.objects.get(pk=rows["a1"].pk).ended_at == rows["a1"].ended_at + 40 * DAY


class TestRefusal:
    """The limit's arithmetic: counted from the later of the current end and now."""

    @pytest.fixture(autouse=True)
    def _now(self, clock):
        self.now = clock.current

    def change(self, old, new, action=AccessChange.Action.EXTEND):
        from enrollments.operations.base import Change, State

        return Change(None, action, State(ended_at=old), State(ended_at=new))

    @pytest.mark.parametrize(
        ("old_days", "new_days", "refused"),
        [
            (10, 24, False),  # 14 days after the current end
            (10, 24.0001, True),
            (-30, 14, False),  # ended: counted from now
            (-30, 15, True),
            (None, None, False),  # indefinite stays indefinite
            (None, 400, False),  # an end given to indefinite access
            (10, None, True),  # made indefinite: without bound
        ],
    )
    def test_the_cap(self, old_days, new_days, refused):
        old = None if old_days is None else self.now + old_days * DAY
        new = None if new_days is None else self.now + new_days * DAY
        error = refusal(self.change(old, new), CourseLimits(14), reason="", now=self.now)
        assert (error is not None) is refused

    def test_an_end_given_to_indefinite_access_adds_nothing(self):
        change = self.change(None, self.now + 400 * DAY, AccessChange.Action.SET_END)
        assert refusal(change, CourseLimits(14), reason="", now=self.now) is None

    def test_the_reason_is_checked_before_the_cap_and_for_every_action(self):
        pause = self.change(self.now, self.now, AccessChange.Action.PAUSE)
        error = refusal(pause, CourseLimits(14, reason_required=True), reason="", now=self.now)
        assert isinstance(error, ReasonRequired)

    def test_no_limits_refuse_nothing(self):
        assert refusal(self.change(self.now, None), CourseLimits(), reason="", now=self.now) is None
