"""Remove from course at every door: the removal mark, nothing deleted, default lists, errors
that change nothing, audit rows."""

import pytest

from enrollments.errors import EnrollmentRemoved
from enrollments.models import AccessChange, Enrollment
from enrollments.operations import Extend, Remove, Selection, apply, preview
from enrollments.operations.audit import Attribution
from enrollments.rules import AccessState
from enrollments.selectors.access import enrollment_access_state
from enrollments.selectors.expiry import enrollments_ending_between
from tests.commands.conftest import run_command, snapshot
from tests.factories import CourseFactory, EnrollmentFactory, StaffFactory, UserFactory
from tests.graphql.conftest import error_codes, grant
from tests.graphql.documents import REMOVE

pytestmark = pytest.mark.django_db

LIST = """{ courseMemberships(first: 100) { nodes { id } } }"""


@pytest.fixture
def remover(db):
    user = StaffFactory()
    grant(user, "view", "remove")
    return user


def remove(api, key, enrollment, user_id=None, course_id=None):
    variables = {
        "userId": user_id or str(enrollment.user_id),
        "courseId": course_id or str(enrollment.course_id),
    }
    return api.post(REMOVE, variables, key=key)


def test_graphql_remove_marks_keeps_and_leaves_the_lists(api, make_key, remover, enrollment, clock):
    key = make_key(remover)
    body = remove(api, key, enrollment)

    payload = body["data"]["removeStudentFromCourse"]
    assert payload["errors"] == []
    assert payload["enrollment"]["id"] == str(enrollment.pk)
    enrollment.refresh_from_db()
    assert enrollment.removed_at == clock.current
    assert enrollment_access_state(enrollment) is AccessState.REMOVED
    audit = AccessChange.objects.get(enrollment=enrollment)
    assert (audit.action, audit.source, audit.actor) == (
        AccessChange.Action.REMOVE,
        AccessChange.Source.GRAPHQL,
        remover,
    )
    listed = api.post(LIST, key=key)["data"]["courseMemberships"]["nodes"]
    assert str(enrollment.pk) not in [row["id"] for row in listed]
    removed = api.post(
        "{ courseMemberships(first: 100, access_state: REMOVED) { nodes { id } } }", key=key
    )["data"]["courseMemberships"]["nodes"]
    assert [row["id"] for row in removed] == [str(enrollment.pk)]


def test_graphql_remove_twice_is_already_removed_and_changes_nothing(
    api, make_key, remover, enrollment
):
    key = make_key(remover)
    remove(api, key, enrollment)
    before = snapshot()
    payload = remove(api, key, enrollment)["data"]["removeStudentFromCourse"]
    assert payload["enrollment"] is None
    assert payload["errors"] == [
        {
            "field": None,
            "message": "Student is already removed from this course",
            "code": "ALREADY_REMOVED",
        }
    ]
    assert snapshot() == before


@pytest.mark.parametrize(
    "user_id,course_id",
    [("not-a-uuid", None), ("00000000-0000-0000-0000-000000000000", None), (None, "x")],
)
def test_graphql_remove_unknown_ids_are_not_enrolled(
    api, make_key, remover, enrollment, user_id, course_id
):
    before = snapshot()
    payload = remove(api, make_key(remover), enrollment, user_id, course_id)
    errors = payload["data"]["removeStudentFromCourse"]["errors"]
    assert [(e["code"], e["field"]) for e in errors] == [("NOT_ENROLLED", "userId")]
    assert snapshot() == before


def test_graphql_remove_needs_its_own_permission(api, make_key, manager, enrollment):
    before = snapshot()
    body = remove(api, make_key(manager), enrollment)
    assert error_codes(body) == ["FORBIDDEN"]
    assert snapshot() == before


def test_other_operations_refuse_a_removed_enrollment(enrollment):
    apply(Remove(), Selection.named([enrollment.pk]), Attribution(None, AccessChange.Source.SYSTEM))
    plan = preview(Extend(days=5), Selection.named([enrollment.pk]))
    assert [type(skip.error) for skip in plan.skips] == [EnrollmentRemoved]


def test_reports_and_reminders_leave_removed_learners_out(enrollment, clock):
    apply(Remove(), Selection.named([enrollment.pk]), Attribution(None, AccessChange.Source.SYSTEM))
    far = clock.current.replace(year=2037)
    assert list(enrollments_ending_between(after=clock.current.replace(year=2000), until=far)) == []


def test_command_remove_single_then_dry_run_and_csv(clock, tmp_path):
    course = CourseFactory(slug="c")
    ann = EnrollmentFactory(course=course, user=UserFactory(email="ann@example.com"))
    bob = EnrollmentFactory(course=course, user=UserFactory(email="bob@example.com"))

    done = run_command(
        "remove_from_course", "--user", "ann@example.com", "--course", "c", "--reason", "refund"
    )
    assert done.status == 0, done.stderr
    ann.refresh_from_db()
    assert ann.removed_at == clock.current
    audit = AccessChange.objects.get(enrollment=ann)
    assert (audit.action, audit.source, audit.reason) == ("remove", "command", "refund")

    before = snapshot()
    dry = run_command("remove_from_course", "--course", "c", "--dry-run")
    assert dry.status == 0, dry.stderr
    assert snapshot() == before

    csv = tmp_path / "rows.csv"
    csv.write_text("user,course\nbob@example.com,c\nann@example.com,c\n")
    result = run_command("remove_from_course", "--csv", str(csv))
    assert result.status == 1
    assert result.stderr == (
        "line 3 (ann@example.com, c): Student is already removed from this course"
        " [ALREADY_REMOVED]\n"
    )
    bob.refresh_from_db()
    assert bob.removed_at is not None
    assert Enrollment.objects.count() == 2  # nothing deleted
