"""End access / set an earlier end (the core's Expire) through the API and the command: the
rules, errors that change nothing, audit rows, confirming a dry run once."""

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Permission

from enrollments.access_window import MAX_ENDED_AT
from enrollments.errors import EndNotEarlier, EnrollmentRemoved, InvalidAccessEnd
from enrollments.models import AccessChange, Enrollment
from enrollments.operations import Expire, Extend, Remove, Selection, apply, preview
from enrollments.operations.audit import Attribution
from enrollments.rules import AccessState
from enrollments.selectors.access import enrollment_access_state
from tests.commands.conftest import run_command, snapshot
from tests.factories import CourseFactory, EnrollmentFactory, StaffFactory, UserFactory
from tests.graphql.conftest import error_codes, grant
from tests.graphql.documents import EXPIRE

pytestmark = pytest.mark.django_db

SYSTEM = Attribution(None, AccessChange.Source.SYSTEM)


def unix(instant: datetime) -> int:
    return int(instant.timestamp())


@pytest.fixture
def expirer(db):
    user = StaffFactory()
    grant(user, "view")
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label="enrollments", codename="expire_access")
    )
    return user


def expire(api, key, enrollment, *, at=None, reason=None, user_id=None, course_id=None):
    variables = {
        "userId": user_id or str(enrollment.user_id),
        "courseId": course_id or str(enrollment.course_id),
        "at": at,
        "reason": reason,
    }
    return api.post(EXPIRE, variables, key=key)["data"]["expireStudentCourseAccess"]


# -- the operation ------------------------------------------------------------------------------


def test_now_ends_access_and_writes_one_audit_row(enrollment, clock):
    old_end = enrollment.ended_at
    plan = apply(Expire(), Selection.named([enrollment.pk]), SYSTEM)
    assert [c.new_ended_at for c in plan.changes] == [clock.current]
    enrollment.refresh_from_db()
    assert enrollment.ended_at == clock.current
    assert enrollment_access_state(enrollment, at=clock.current) is AccessState.EXPIRED
    audit = AccessChange.objects.get(enrollment=enrollment)
    assert (audit.action, audit.old_ended_at, audit.new_ended_at) == (
        AccessChange.Action.EXPIRE,
        old_end,
        clock.current,
    )
    assert audit.batch_id == plan.batch_id


def test_an_indefinite_enrollment_takes_any_instant(clock):
    indefinite = EnrollmentFactory(ended_at=None)
    later = clock.current + timedelta(days=400)
    apply(Expire(at=later), Selection.named([indefinite.pk]), SYSTEM)
    indefinite.refresh_from_db()
    assert indefinite.ended_at == later


def test_an_earlier_end_still_in_the_future_corrects_an_over_extension(enrollment, clock):
    right = clock.current + timedelta(days=7)
    apply(Expire(at=right), Selection.named([enrollment.pk]), SYSTEM)
    enrollment.refresh_from_db()
    assert enrollment.ended_at == right
    assert enrollment_access_state(enrollment, at=clock.current) is AccessState.ACTIVE


def test_already_ended_and_asked_now_is_unchanged(clock):
    lapsed = EnrollmentFactory(ended_at=clock.current - timedelta(days=3))
    before = snapshot()
    plan = apply(Expire(), Selection.named([lapsed.pk]), SYSTEM)
    assert (plan.changes, plan.skips, plan.unchanged) == ([], [], [lapsed.pk])
    assert snapshot() == before


def test_an_end_not_earlier_is_skipped(enrollment, clock):
    plan = preview(
        Expire(at=enrollment.ended_at + timedelta(seconds=1)), Selection.named([enrollment.pk])
    )
    assert [type(skip.error) for skip in plan.skips] == [EndNotEarlier]
    same = preview(Expire(at=enrollment.ended_at), Selection.named([enrollment.pk]))
    assert same.unchanged == [enrollment.pk]


@pytest.mark.parametrize(
    "at",
    [
        datetime(2020, 1, 1, tzinfo=UTC),
        datetime(2019, 6, 1, tzinfo=UTC),
        MAX_ENDED_AT + timedelta(seconds=1),
        datetime(2030, 1, 1),  # naive
    ],
)
def test_an_instant_out_of_range_is_refused_before_any_row(enrollment, at):
    before = snapshot()
    with pytest.raises(InvalidAccessEnd):
        apply(Expire(at=at), Selection.named([enrollment.pk]), SYSTEM)
    assert snapshot() == before


def test_the_latest_instant_is_accepted():
    Expire(at=MAX_ENDED_AT).validate(now=datetime(2026, 1, 1, tzinfo=UTC))


def test_a_removed_enrollment_is_skipped(enrollment):
    apply(Remove(), Selection.named([enrollment.pk]), SYSTEM)
    plan = preview(Expire(), Selection.named([enrollment.pk]))
    assert [type(skip.error) for skip in plan.skips] == [EnrollmentRemoved]


def test_a_filtered_selection_gets_one_end_for_every_row(clock):
    course = CourseFactory()
    rows = [
        EnrollmentFactory(course=course, ended_at=clock.current + timedelta(days=n))
        for n in (5, 10, 15)
    ]
    plan = apply(Expire(), Selection.by_filter(Enrollment.objects.filter(course=course)), SYSTEM)
    assert plan.changed_count == 3
    assert {e.ended_at for e in Enrollment.objects.filter(pk__in=[r.pk for r in rows])} == {
        clock.current
    }


def test_describe_names_the_instant():
    assert Expire().describe() == "end access now"
    assert Expire(at=datetime(2030, 5, 1, 12, tzinfo=UTC)).describe() == (
        "end access at 2030-05-01T12:00:00Z"
    )


# -- GraphQL -----------------------------------------------------------------------------------


def test_graphql_ends_access_now_with_the_reason(api, make_key, expirer, enrollment, clock):
    old_end = enrollment.ended_at
    payload = expire(api, make_key(expirer), enrollment, reason="refund")
    assert payload["errors"] == []
    assert payload["enrollment"]["endedAt"] == unix(clock.current)
    assert payload["enrollment"]["updatedAt"] == unix(clock.current)
    audit = AccessChange.objects.get(enrollment=enrollment)
    assert (audit.action, audit.source, audit.actor, audit.reason) == (
        "expire",
        "graphql",
        expirer,
        "refund",
    )
    assert (audit.old_ended_at, audit.new_ended_at) == (old_end, clock.current)


def test_graphql_custom_ended_at_sets_an_earlier_end(api, make_key, expirer, enrollment, clock):
    at = clock.current + timedelta(days=2)
    payload = expire(api, make_key(expirer), enrollment, at=unix(at))
    assert payload["errors"] == []
    assert payload["enrollment"]["endedAt"] == unix(at)
    enrollment.refresh_from_db()
    assert enrollment.ended_at == at


def test_graphql_an_ended_enrollment_asked_now_is_returned_unchanged(api, make_key, expirer, clock):
    lapsed = EnrollmentFactory(ended_at=clock.current - timedelta(days=3))
    before = snapshot()
    payload = expire(api, make_key(expirer), lapsed)
    assert payload["errors"] == []
    assert payload["enrollment"]["endedAt"] == unix(lapsed.ended_at)
    assert snapshot() == before


@pytest.mark.parametrize(
    "at,code",
    [
        (unix(datetime(2020, 1, 1, tzinfo=UTC)), "INVALID_ACCESS_END"),
        (0, "INVALID_ACCESS_END"),
        (-1, "INVALID_ACCESS_END"),
        (unix(datetime(2036, 1, 1, tzinfo=UTC)), "END_NOT_EARLIER"),
    ],
)
def test_graphql_bad_instants_change_nothing(api, make_key, expirer, enrollment, at, code):
    key = make_key(expirer)
    before = snapshot()
    payload = expire(api, key, enrollment, at=at)
    assert payload["enrollment"] is None
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [(code, "customEndedAt")]
    assert snapshot() == before


def test_graphql_an_int_beyond_32_bits_is_refused_by_validation(api, make_key, expirer, enrollment):
    before = snapshot()
    variables = {"userId": str(enrollment.user_id), "courseId": str(enrollment.course_id)}
    body = api.post(EXPIRE, {**variables, "at": 2**31}, key=make_key(expirer))
    assert body.get("data") is None
    assert error_codes(body)
    assert snapshot() == before


@pytest.mark.parametrize(
    "user_id,course_id",
    [("not-a-uuid", None), ("00000000-0000-0000-0000-000000000000", None), (None, "x")],
)
def test_graphql_unknown_or_malformed_ids_are_not_enrolled(
    api, make_key, expirer, enrollment, user_id, course_id
):
    before = snapshot()
    payload = expire(api, make_key(expirer), enrollment, user_id=user_id, course_id=course_id)
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("NOT_ENROLLED", "userId")]
    assert snapshot() == before


def test_graphql_needs_the_expire_permission(api, make_key, manager, enrollment):
    before = snapshot()
    body = api.post(
        EXPIRE,
        {"userId": str(enrollment.user_id), "courseId": str(enrollment.course_id)},
        key=make_key(manager),
    )
    assert error_codes(body) == ["FORBIDDEN"]
    assert snapshot() == before


def test_graphql_a_removed_enrollment_is_refused(api, make_key, expirer, enrollment):
    apply(Remove(), Selection.named([enrollment.pk]), SYSTEM)
    before = snapshot()
    payload = expire(api, make_key(expirer), enrollment)
    assert [e["code"] for e in payload["errors"]] == ["ENROLLMENT_REMOVED"]
    assert snapshot() == before


def test_graphql_a_bad_reason_changes_nothing(api, make_key, expirer, enrollment):
    before = snapshot()
    payload = expire(api, make_key(expirer), enrollment, reason="x" * 1001)
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("INVALID_REASON", "reason")]
    assert snapshot() == before


# -- the command -------------------------------------------------------------------------------


@pytest.fixture
def learners(clock):
    course = CourseFactory(slug="c")
    ann = EnrollmentFactory(
        course=course,
        user=UserFactory(email="ann@example.com"),
        ended_at=clock.current + timedelta(days=30),
    )
    bob = EnrollmentFactory(
        course=course,
        user=UserFactory(email="bob@example.com"),
        ended_at=clock.current - timedelta(days=3),
    )
    return ann, bob


def test_command_single_enrollment_now_with_reason(learners, clock):
    ann, _bob = learners
    done = run_command(
        "expire_access", "--user", "ann@example.com", "--course", "c", "--reason", "refund"
    )
    assert done.status == 0, done.stderr
    assert "Changed 1" in done.stdout
    ann.refresh_from_db()
    assert ann.ended_at == clock.current
    audit = AccessChange.objects.get(enrollment=ann)
    assert (audit.action, audit.source, audit.reason, audit.actor) == (
        "expire",
        "command",
        "refund",
        None,
    )


def test_command_course_now_leaves_the_lapsed_unchanged(learners, clock):
    ann, bob = learners
    done = run_command("expire_access", "--course", "c")
    assert done.status == 0, done.stderr
    assert "Changed 1, unchanged 1, failed 0" in done.stdout
    bob_end = bob.ended_at
    bob.refresh_from_db()
    assert bob.ended_at == bob_end


def test_command_at_not_earlier_fails_the_row_exit_1(learners, clock):
    ann, bob = learners
    at = (clock.current + timedelta(days=1)).isoformat()
    before = snapshot()
    result = run_command("expire_access", "--course", "c", "--at", at, "--dry-run")
    assert result.status == 1
    assert "END_NOT_EARLIER" in result.stderr and "bob@example.com" in result.stderr
    assert snapshot() == before
    done = run_command("expire_access", "--course", "c", "--at", at)
    assert done.status == 1
    ann.refresh_from_db()
    assert ann.ended_at == clock.current + timedelta(days=1)


@pytest.mark.parametrize("at", ["2019-12-31", "2020-01-01T00:00:00Z", "2038-01-20"])
def test_command_at_out_of_range_is_a_usage_error(learners, at):
    before = snapshot()
    result = run_command("expire_access", "--course", "c", "--at", at)
    assert result.status == 2
    assert "INVALID_ACCESS_END" in result.error
    assert snapshot() == before


def test_command_unknown_names_are_usage_errors(learners):
    before = snapshot()
    assert run_command("expire_access", "--user", "nobody@example.com", "--course", "c").status == 2
    assert run_command("expire_access", "--course", "no-such-course").status == 2
    assert snapshot() == before


def test_command_actor_needs_the_permission(learners, expirer):
    refused = run_command("expire_access", "--course", "c", "--actor", StaffFactory().email)
    assert refused.status == 2
    assert "lacks the permission enrollments.expire_access" in refused.error
    done = run_command("expire_access", "--course", "c", "--actor", expirer.email)
    assert done.status == 0
    assert AccessChange.objects.get(action="expire").actor == expirer


def test_command_dry_run_then_expect_applies_once(learners, clock):
    ann, _bob = learners
    at = (clock.current + timedelta(days=5)).isoformat()
    dry = run_command(
        "expire_access", "--user", "ann@example.com", "--course", "c", "--at", at, "--dry-run"
    )
    assert dry.status == 0, dry.stderr
    fingerprint = dry.stdout.rsplit("--expect ", 1)[1].strip()
    args = ("expire_access", "--user", "ann@example.com", "--course", "c", "--at", at)
    first = run_command(*args, "--expect", fingerprint)
    assert first.status == 0, first.stderr
    again = run_command(*args, "--expect", fingerprint)
    assert again.status == 1
    assert "CHANGED_SINCE_PREVIEW" in again.error
    assert AccessChange.objects.filter(action="expire").count() == 1


def test_command_csv_and_a_removed_row(learners, tmp_path, clock):
    ann, bob = learners
    apply(Remove(), Selection.named([bob.pk]), SYSTEM)
    csv = tmp_path / "rows.csv"
    csv.write_text("user,course\nann@example.com,c\nbob@example.com,c\nnobody@example.com,c\n")
    result = run_command("expire_access", "--csv", str(csv))
    assert result.status == 1
    assert "line 3 (bob@example.com, c): Student was removed from this course" in result.stderr
    assert "line 4 (nobody@example.com, c)" in result.stderr
    ann.refresh_from_db()
    assert ann.ended_at == clock.current
    batches = set(AccessChange.objects.filter(action="expire").values_list("batch_id", flat=True))
    assert len(batches) == 1


# -- query counts ------------------------------------------------------------------------------


def test_an_invalid_instant_reads_nothing(enrollment, django_assert_num_queries):
    with django_assert_num_queries(0), pytest.raises(InvalidAccessEnd):
        apply(Expire(at=datetime(2019, 1, 1, tzinfo=UTC)), Selection.named([enrollment.pk]), SYSTEM)


@pytest.mark.parametrize("count", [3, 30])
def test_a_bulk_expire_costs_the_same_queries_for_3_or_30_rows(
    clock, count, django_assert_num_queries
):
    course = CourseFactory()
    EnrollmentFactory.create_batch(count, course=course, ended_at=clock.current + timedelta(days=9))
    selection = Selection.by_filter(Enrollment.objects.filter(course=course))
    # the transaction's savepoint and release, the locking read, one UPDATE, one audit INSERT,
    # one event INSERT
    with django_assert_num_queries(6):
        plan = apply(Expire(), selection, SYSTEM)
    assert plan.changed_count == count


@pytest.mark.parametrize("count", [3, 30])
def test_extend_from_today_over_mixed_ends_is_one_case_update(
    clock, count, django_assert_num_queries
):
    course = CourseFactory()
    for n in range(count):
        EnrollmentFactory(course=course, ended_at=clock.current + timedelta(days=n - count // 2))
    selection = Selection.by_filter(Enrollment.objects.filter(course=course))
    with django_assert_num_queries(6):
        plan = apply(Extend(days=10, from_today=True), selection, SYSTEM)
    assert plan.changed_count == count
    for row in Enrollment.objects.filter(course=course):
        assert row.ended_at >= clock.current + timedelta(days=10)
