"""Enroll: the core operation and `enrollStudentToCourse`. New, restored (the removal mark
cleared on the same enrollment) and updated enrollments, audit rows, and errors that change
nothing (no orphan learner either)."""

from datetime import UTC, datetime, timedelta

import pytest

from enrollments.access_window import MAX_ENDED_AT
from enrollments.errors import AccessEndOutOfRange, InvalidAccessEnd
from enrollments.models import AccessChange, Enrollment
from enrollments.operations import Enroll, Remove, Selection, apply, preview
from enrollments.operations.audit import Attribution
from enrollments.operations.enrolling import PairToEnroll, enroll
from lms.models import User
from tests.commands.conftest import snapshot
from tests.factories import (
    CourseFactory,
    CourseItemFactory,
    EnrollmentFactory,
    ItemCompletionFactory,
    StaffFactory,
    UserFactory,
)
from tests.graphql.conftest import error_codes, grant

pytestmark = pytest.mark.django_db

SYSTEM = Attribution(None, AccessChange.Source.SYSTEM)

ENROLL = """
mutation ($courseId: String!, $userId: String, $email: String, $name: String,
          $planId: String, $endedAt: Int) {
  enrollStudentToCourse(courseId: $courseId, userId: $userId, email: $email, name: $name,
                        planId: $planId, endedAt: $endedAt) {
    enrollment { id endedAt user { id email } course { id } }
    errors { field message code }
  }
}
"""


@pytest.fixture
def enroller(db):
    user = StaffFactory()
    grant(user, "view")
    grant(user, "enroll")
    return user


def world() -> dict:
    return {**snapshot(), "users": sorted(User.objects.values_list("email", flat=True))}


def unix(value: datetime) -> int:
    return int(value.timestamp())


# --- the core ---------------------------------------------------------------------------------


def test_new_enrollment_ends_after_the_course_default_and_is_audited(clock, user):
    course = CourseFactory(access_days=30)
    plan = enroll(Enroll((PairToEnroll(user, course),)), SYSTEM)
    enrollment = Enrollment.objects.get(user=user, course=course)
    assert plan.changes[0].enrollment_id == enrollment.pk
    assert enrollment.start_at == clock.current
    assert enrollment.ended_at == clock.current + timedelta(days=30)
    audit = AccessChange.objects.get(enrollment=enrollment)
    assert (audit.action, audit.old_ended_at, audit.new_ended_at, audit.new_is_paused) == (
        AccessChange.Action.ENROLL,
        None,
        enrollment.ended_at,
        False,
    )
    assert audit.old_total_paused_duration is None  # nothing before: not undoable to a state


def test_course_without_default_and_a_given_end(clock, user):
    open_course, other = CourseFactory(access_days=None), CourseFactory(access_days=10)
    end = clock.current + timedelta(days=3)
    enroll(Enroll((PairToEnroll(user, open_course), PairToEnroll(user, other, end))), SYSTEM)
    assert Enrollment.objects.get(course=open_course).ended_at is None
    assert Enrollment.objects.get(course=other).ended_at == end


def test_many_pairs_are_one_insert_and_one_audit_write(clock, django_assert_num_queries):
    course = CourseFactory(access_days=5)
    users = UserFactory.create_batch(20)
    operation = Enroll(tuple(PairToEnroll(u, course) for u in users))
    # The pairs' enrollments (none: nothing to lock), the savepoint, one INSERT of the
    # enrollments, one of the audit rows, one of the events, the release: never one per learner.
    with django_assert_num_queries(6):
        plan = enroll(operation, SYSTEM)
    assert plan.changed_count == 20 and Enrollment.objects.filter(course=course).count() == 20
    assert AccessChange.objects.filter(batch_id=plan.batch_id).count() == 20


def test_many_restored_are_one_update(clock, django_assert_num_queries):
    course = CourseFactory(access_days=5)
    rows = [EnrollmentFactory(course=course) for _ in range(20)]
    apply(Remove(), Selection.named([e.pk for e in rows]), SYSTEM)
    operation = Enroll(tuple(PairToEnroll(e.user, course) for e in rows))
    # The pairs' enrollments, savepoint, the locked read, one UPDATE, the audit rows, the
    # events, release.
    with django_assert_num_queries(7):
        plan = enroll(operation, SYSTEM)
    assert plan.changed_count == 20
    assert not Enrollment.objects.filter(removed_at__isnull=False).exists()


def test_re_enrolling_restores_the_removed_enrollment(clock, enrollment):
    item = CourseItemFactory(course=enrollment.course)
    ItemCompletionFactory(enrollment=enrollment, item=item)
    apply(Remove(), Selection.named([enrollment.pk]), SYSTEM)
    clock.advance(days=2)
    enrollment.course.access_days = 15
    enrollment.course.save()

    plan = enroll(Enroll((PairToEnroll(enrollment.user, enrollment.course),)), SYSTEM)

    assert [c.enrollment_id for c in plan.changes] == [enrollment.pk]
    assert Enrollment.objects.count() == 1
    enrollment.refresh_from_db()
    assert enrollment.removed_at is None
    assert enrollment.ended_at == clock.current + timedelta(days=15)  # default, from now
    assert enrollment.completions.count() == 1  # progress kept
    actions = list(
        AccessChange.objects.filter(enrollment=enrollment)
        .order_by("created_at")
        .values_list("action", flat=True)
    )
    assert actions == ["remove", "enroll"]  # trail kept
    restore = AccessChange.objects.get(action="enroll")
    assert restore.old_removed_at is not None and restore.old_total_paused_duration == 0


def test_restore_with_a_given_end(clock, enrollment):
    apply(Remove(), Selection.named([enrollment.pk]), SYSTEM)
    end = clock.current + timedelta(days=99)
    enroll(Enroll((PairToEnroll(enrollment.user, enrollment.course, end),)), SYSTEM)
    enrollment.refresh_from_db()
    assert (enrollment.removed_at, enrollment.ended_at) == (None, end)


def test_active_enrollment_is_unchanged_without_an_end_and_updated_with_one(clock, enrollment):
    operation = Enroll((PairToEnroll(enrollment.user, enrollment.course),))
    before = snapshot()
    plan = enroll(operation, SYSTEM)
    assert plan.unchanged == [enrollment.pk] and snapshot() == before

    end = clock.current + timedelta(days=365)
    plan = enroll(Enroll((PairToEnroll(enrollment.user, enrollment.course, end),)), SYSTEM)
    enrollment.refresh_from_db()
    assert enrollment.ended_at == end
    audit = AccessChange.objects.get()
    assert (audit.action, audit.new_ended_at) == ("enroll", end)

    plan = enroll(Enroll((PairToEnroll(enrollment.user, enrollment.course, end),)), SYSTEM)
    assert plan.unchanged == [enrollment.pk]


def test_preview_writes_nothing_and_its_fingerprint_confirms(clock, user, course):
    operation = Enroll((PairToEnroll(user, course),))
    before = snapshot()
    shown = preview(operation, operation.selection())
    assert snapshot() == before and shown.changed_count == 1
    done = apply(operation, operation.selection(), SYSTEM, expected=shown.fingerprint())
    assert done.changed_count == 1
    # Confirmed twice: the plan is now "unchanged", so the second confirm writes nothing.
    from enrollments.errors import ChangedSincePreview

    with pytest.raises(ChangedSincePreview):
        enroll(operation, SYSTEM, expected=shown.fingerprint())
    assert Enrollment.objects.count() == 1 and AccessChange.objects.count() == 1


@pytest.mark.parametrize(
    "end",
    [
        datetime(2019, 12, 31, tzinfo=UTC),
        MAX_ENDED_AT + timedelta(seconds=1),
        datetime(2030, 1, 1),  # naive
    ],
)
def test_an_absurd_end_is_refused_and_changes_nothing(clock, user, course, end):
    before = world()
    with pytest.raises(InvalidAccessEnd):
        enroll(Enroll((PairToEnroll(user, course, end),)), SYSTEM)
    assert world() == before


def test_a_default_past_2038_is_refused(clock, user):
    course = CourseFactory(access_days=3650)
    with pytest.raises(AccessEndOutOfRange):
        enroll(
            Enroll((PairToEnroll(user, course),), start_at=MAX_ENDED_AT - timedelta(days=1)), SYSTEM
        )
    assert not Enrollment.objects.exists()


def test_a_pair_listed_twice_is_enrolled_once(clock, user, course):
    plan = enroll(Enroll((PairToEnroll(user, course), PairToEnroll(user, course))), SYSTEM)
    assert plan.changed_count == 1


def test_needs_the_enroll_permission():
    assert Enroll.permission.name == "enrollments.enroll_learners"


# --- GraphQL ---------------------------------------------------------------------------------


def post(api, key, **variables):
    body = api.post(ENROLL, variables, key=key)
    assert "errors" not in body, body
    return body["data"]["enrollStudentToCourse"]


def test_graphql_enrolls_a_known_learner_by_id(api, make_key, enroller, user, clock):
    course = CourseFactory(access_days=30)
    payload = post(api, make_key(enroller), courseId=str(course.pk), userId=str(user.pk))
    assert payload["errors"] == []
    enrollment = Enrollment.objects.get(user=user, course=course)
    assert payload["enrollment"]["id"] == str(enrollment.pk)
    assert payload["enrollment"]["endedAt"] == unix(clock.current + timedelta(days=30))
    audit = AccessChange.objects.get()
    assert (audit.action, audit.source, audit.actor) == ("enroll", "graphql", enroller)


def test_graphql_enrolls_by_email_creating_the_learner(api, make_key, enroller, course, clock):
    end = unix(clock.current + timedelta(days=10))
    payload = post(
        api,
        make_key(enroller),
        courseId=str(course.pk),
        email="New.Person@Example.COM",
        name="Ada  van Lovelace",
        endedAt=end,
    )
    assert payload["errors"] == []
    user = User.objects.get(email__iexact="new.person@example.com")
    assert (user.first_name, user.last_name, user.has_usable_password(), user.is_staff) == (
        "Ada",
        "van Lovelace",
        False,
        False,
    )
    assert payload["enrollment"]["user"]["id"] == str(user.pk)
    assert payload["enrollment"]["endedAt"] == end


def test_graphql_known_email_needs_no_name(api, make_key, enroller, course, clock):
    learner = UserFactory(email="ann@example.com")
    payload = post(api, make_key(enroller), courseId=str(course.pk), email="ANN@example.com")
    assert payload["errors"] == [] and payload["enrollment"]["user"]["id"] == str(learner.pk)
    assert User.objects.filter(email__iexact="ann@example.com").count() == 1


def test_graphql_re_enroll_restores_the_same_enrollment(api, make_key, enroller, enrollment):
    apply(Remove(), Selection.named([enrollment.pk]), SYSTEM)
    payload = post(
        api,
        make_key(enroller),
        courseId=str(enrollment.course_id),
        userId=str(enrollment.user_id),
    )
    assert payload["errors"] == [] and payload["enrollment"]["id"] == str(enrollment.pk)
    enrollment.refresh_from_db()
    assert enrollment.removed_at is None


def test_graphql_updates_the_end_of_an_active_enrollment(
    api, make_key, enroller, enrollment, clock
):
    end = unix(clock.current + timedelta(days=400))
    payload = post(
        api,
        make_key(enroller),
        courseId=str(enrollment.course_id),
        userId=str(enrollment.user_id),
        endedAt=end,
    )
    assert payload["errors"] == [] and payload["enrollment"]["endedAt"] == end


@pytest.mark.parametrize(
    "variables,code,field",
    [
        ({"userId": "00000000-0000-0000-0000-000000000000"}, "NOT_FOUND", "userId"),
        ({"userId": "not-a-uuid"}, "NOT_FOUND", "userId"),
        ({"course": "00000000-0000-0000-0000-000000000000"}, "NOT_FOUND", "courseId"),
        ({"course": "slug-is-not-an-id"}, "NOT_FOUND", "courseId"),
        ({"userId": None}, "USER_ID_OR_EMAIL_REQUIRED", None),
        ({"userId": None, "email": "  "}, "USER_ID_OR_EMAIL_REQUIRED", "email"),
        ({"userId": None, "email": "not-an-email", "name": "X"}, "INVALID_EMAIL", "email"),
        # The name the new learner needs is the field at fault, given blank or left out.
        ({"userId": None, "email": "new@example.com"}, "NAME_REQUIRED", "name"),
        ({"userId": None, "email": "new@example.com", "name": " "}, "NAME_REQUIRED", "name"),
        ({"planId": "plan-1"}, "PLANS_NOT_SUPPORTED", "planId"),
        ({"endedAt": 0}, "INVALID_ACCESS_END", "endedAt"),
        ({"endedAt": -5}, "INVALID_ACCESS_END", "endedAt"),
        ({"endedAt": 1_500_000_000}, "INVALID_ACCESS_END", "endedAt"),
    ],
)
def test_graphql_errors_change_nothing(
    api, make_key, enroller, user, course, variables, code, field
):
    key = make_key(enroller)
    variables = dict(variables)  # the parameter is shared by every run: never change it
    arguments = {"courseId": str(course.pk), "userId": str(user.pk)}
    if "course" in variables:
        arguments["courseId"] = variables.pop("course")
    arguments.update(variables)
    arguments = {name: value for name, value in arguments.items() if value is not None}
    before = world()
    payload = post(api, key, **arguments)
    assert payload["enrollment"] is None
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [(code, field)]
    assert world() == before


def test_graphql_a_refused_enrollment_leaves_no_orphan_learner(
    api, make_key, enroller, clock, monkeypatch
):
    course = CourseFactory(access_days=3650)
    monkeypatch.setattr(clock, "current", MAX_ENDED_AT - timedelta(days=1))
    before = world()
    payload = post(
        api, make_key(enroller), courseId=str(course.pk), email="new@example.com", name="N N"
    )
    assert [e["code"] for e in payload["errors"]] == ["ACCESS_END_OUT_OF_RANGE"]
    assert world() == before


def test_graphql_needs_the_enroll_permission(api, make_key, manager, user, course):
    before = world()
    body = api.post(
        ENROLL, {"courseId": str(course.pk), "userId": str(user.pk)}, key=make_key(manager)
    )
    assert error_codes(body) == ["FORBIDDEN"]
    assert world() == before


def test_graphql_without_the_errors_field_reports_top_level(api, make_key, enroller, course):
    body = api.post(
        "mutation ($c: String!) { enrollStudentToCourse(courseId: $c) { enrollment { id } } }",
        {"c": str(course.pk)},
        key=make_key(enroller),
    )
    assert error_codes(body) == ["USER_ID_OR_EMAIL_REQUIRED"]
