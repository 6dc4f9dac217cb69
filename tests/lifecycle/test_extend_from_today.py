"""Extend from today: the days count from the later of the current end and now, at every door
(the core, `extendStudentCourseAccess(fromToday:)`, the admin's Extend form, `extend_access
--from-today`); the contract's default (from the current end) is unchanged."""

from datetime import timedelta

import pytest
from django.urls import reverse

from enrollments.errors import NoEndDate, StillExpired
from enrollments.models import AccessChange, Enrollment
from enrollments.operations import Extend, Selection, apply, preview
from enrollments.operations.audit import Attribution
from tests.admin.conftest import grant as grant_codenames
from tests.admin.conftest import logged_in
from tests.admin.helpers import confirm as confirm_extend
from tests.admin.helpers import post_action
from tests.admin.helpers import preview as preview_extend
from tests.commands.conftest import run_command, snapshot
from tests.factories import CourseFactory, EnrollmentFactory, StaffFactory, UserFactory
from tests.graphql.conftest import error_codes

pytestmark = pytest.mark.django_db

SYSTEM = Attribution(None, AccessChange.Source.SYSTEM)

EXTEND = """
mutation ($userId: String!, $courseId: String!, $days: Int, $fromToday: Boolean) {
  extendStudentCourseAccess(userId: $userId, courseId: $courseId, extensionDays: $days,
                            fromToday: $fromToday) {
    enrollment { endedAt }
    errors { field message code }
  }
}
"""


@pytest.fixture
def mixed(clock):
    """In one course: expired 20 days ago, active for 10 more days, indefinite."""
    course = CourseFactory(slug="c")
    now = clock.current
    return {
        "expired": EnrollmentFactory(
            course=course,
            user=UserFactory(email="expired@example.com"),
            ended_at=now - timedelta(days=20),
        ),
        "active": EnrollmentFactory(
            course=course,
            user=UserFactory(email="active@example.com"),
            ended_at=now + timedelta(days=10),
        ),
        "indefinite": EnrollmentFactory(
            course=course, user=UserFactory(email="open@example.com"), ended_at=None
        ),
    }


def ends(rows) -> dict[str, object]:
    by_pk = dict(Enrollment.objects.values_list("pk", "ended_at"))
    return {name: by_pk[row.pk] for name, row in rows.items()}


def test_the_core_counts_from_the_later_of_the_end_and_now(mixed, clock):
    course = mixed["active"].course
    plan = apply(
        Extend(days=30, from_today=True),
        Selection.by_filter(Enrollment.objects.filter(course=course)),
        SYSTEM,
    )
    assert plan.changed_count == 2
    assert [type(s.error) for s in plan.skips] == [NoEndDate]
    assert ends(mixed) == {
        "expired": clock.current + timedelta(days=30),
        "active": clock.current + timedelta(days=40),
        "indefinite": None,
    }
    audits = {a.enrollment_id: a for a in AccessChange.objects.filter(action="extend")}
    expired = audits[mixed["expired"].pk]
    assert (expired.old_ended_at, expired.new_ended_at) == (
        clock.current - timedelta(days=20),
        clock.current + timedelta(days=30),
    )
    assert len({a.batch_id for a in audits.values()}) == 1


def test_the_contracts_default_still_counts_from_the_end(mixed, clock):
    """A filtered selection skips what would stay expired; from today nothing stays expired."""
    course = mixed["active"].course
    queryset = Enrollment.objects.filter(course=course, ended_at__isnull=False)
    default = preview(Extend(days=10), Selection.by_filter(queryset))
    assert [type(s.error) for s in default.skips] == [StillExpired]
    from_today = preview(Extend(days=10, from_today=True), Selection.by_filter(queryset))
    assert from_today.skips == []
    named = apply(Extend(days=10), Selection.named([mixed["expired"].pk]), SYSTEM)
    assert named.changes[0].new_ended_at == clock.current - timedelta(days=10)


def test_from_today_is_part_of_the_request_and_of_its_fingerprint(mixed):
    assert Extend(days=5, from_today=True) != Extend(days=5)
    assert "from the later of the end and now" in Extend(days=5, from_today=True).describe()
    assert Extend(days=5, from_today=True, indefinite=True) == Extend(indefinite=True)
    selection = Selection.named([mixed["active"].pk])
    assert (
        preview(Extend(days=5, from_today=True), selection).fingerprint()
        != preview(Extend(days=5), selection).fingerprint()
    )


# -- GraphQL -----------------------------------------------------------------------------------


def test_graphql_from_today(api, make_key, manager, mixed, clock):
    expired = mixed["expired"]
    variables = {"userId": str(expired.user_id), "courseId": str(expired.course_id), "days": 30}
    key = make_key(manager)
    body = api.post(EXTEND, {**variables, "fromToday": True}, key=key)
    payload = body["data"]["extendStudentCourseAccess"]
    assert payload["errors"] == []
    assert payload["enrollment"]["endedAt"] == int((clock.current + timedelta(days=30)).timestamp())
    audit = AccessChange.objects.get(enrollment=expired)
    assert (audit.action, audit.source) == ("extend", "graphql")


def test_graphql_default_false_is_the_contract(api, make_key, manager, mixed, clock):
    expired = mixed["expired"]
    variables = {"userId": str(expired.user_id), "courseId": str(expired.course_id), "days": 30}
    body = api.post(EXTEND, {**variables, "fromToday": False}, key=make_key(manager))
    end = body["data"]["extendStudentCourseAccess"]["enrollment"]["endedAt"]
    assert end == int((clock.current + timedelta(days=10)).timestamp())


def test_graphql_from_today_errors_change_nothing(api, make_key, manager, viewer, mixed):
    indefinite = mixed["indefinite"]
    variables = {"userId": str(indefinite.user_id), "courseId": str(indefinite.course_id)}
    before = snapshot()
    no_end = api.post(EXTEND, {**variables, "days": 5, "fromToday": True}, key=make_key(manager))
    assert [e["code"] for e in no_end["data"]["extendStudentCourseAccess"]["errors"]] == [
        "NO_END_DATE"
    ]
    zero = api.post(EXTEND, {**variables, "days": 0, "fromToday": True}, key=make_key(manager))
    assert [e["code"] for e in zero["data"]["extendStudentCourseAccess"]["errors"]] == [
        "INVALID_EXTENSION_PERIOD"
    ]
    forbidden = api.post(EXTEND, {**variables, "days": 5, "fromToday": True}, key=make_key(viewer))
    assert error_codes(forbidden) == ["FORBIDDEN"]
    assert snapshot() == before


# -- admin -------------------------------------------------------------------------------------


def test_admin_extend_form_from_today_previews_and_applies(mixed, clock):
    client = logged_in(
        grant_codenames(StaffFactory(), "view_enrollment", "change_enrollment", "extend_access")
    )
    ids = [mixed["expired"].pk, mixed["active"].pk]
    form = post_action(client, "extend_access", ids)
    assert form.status_code == 200
    assert "id_from_today" in form.content.decode()
    before = snapshot()
    shown = preview_extend(client, form, days="30", from_today="on")
    assert shown.status_code == 200
    rows = {row.enrollment_id: row for row in shown.context["preview"].changed_rows}
    assert rows[mixed["expired"].pk].new_end == "2026-01-31 00:00 UTC"
    assert rows[mixed["active"].pk].new_end == "2026-02-10 00:00 UTC"
    assert snapshot() == before

    done = confirm_extend(client, shown, days="30", from_today="on", reason="late start")
    assert done.status_code == 302
    assert ends({"expired": mixed["expired"], "active": mixed["active"]}) == {
        "expired": clock.current + timedelta(days=30),
        "active": clock.current + timedelta(days=40),
    }
    again = confirm_extend(client, shown, days="30", from_today="on")
    assert again.status_code == 200  # the new preview, nothing applied twice
    assert AccessChange.objects.filter(action="extend").count() == 2


def test_admin_from_today_is_ignored_outside_days_mode(mixed, clock):
    client = logged_in(
        grant_codenames(StaffFactory(), "view_enrollment", "change_enrollment", "extend_access")
    )
    url = reverse("admin:enrollments_enrollment_extend_access_one", args=[mixed["expired"].pk])
    form = client.get(url)
    shown = preview_extend(client, form, url, mode="indefinite", from_today="on")
    assert shown.context["preview"].changed_rows[0].new_end == "Indefinite"


# -- command -----------------------------------------------------------------------------------


def test_command_from_today(mixed, clock):
    done = run_command("extend_access", "--course", "c", "--days", "30", "--from-today")
    assert done.status == 1  # the indefinite row: NO_END_DATE
    assert "NO_END_DATE" in done.stderr
    assert "extend access by 30 days from the later of the end and now: 3" in done.stdout
    assert ends(mixed)["expired"] == clock.current + timedelta(days=30)
    assert ends(mixed)["active"] == clock.current + timedelta(days=40)


def test_command_from_today_with_csv_days(mixed, clock, tmp_path):
    csv = tmp_path / "rows.csv"
    csv.write_text("user,course,days\nexpired@example.com,c,7\nactive@example.com,c,7\n")
    done = run_command("extend_access", "--csv", str(csv), "--from-today")
    assert done.status == 0, done.stderr
    assert ends(mixed)["expired"] == clock.current + timedelta(days=7)
    assert ends(mixed)["active"] == clock.current + timedelta(days=17)


@pytest.mark.parametrize("mode", [("--indefinite",), ("--until", "2030-01-01")])
def test_command_from_today_with_another_mode_is_a_usage_error(mixed, mode):
    before = snapshot()
    result = run_command("extend_access", "--course", "c", *mode, "--from-today")
    assert result.status == 2
    assert "--from-today" in result.error
    assert snapshot() == before


def test_command_dry_run_then_expect(mixed, clock):
    args = ("extend_access", "--user", "expired@example.com", "--course", "c", "--days", "5")
    dry = run_command(*args, "--from-today", "--dry-run")
    assert dry.status == 0
    assert "2026-01-06T00:00:00Z" in dry.stdout
    fingerprint = dry.stdout.rsplit("--expect ", 1)[1].strip()
    # the same flags without --from-today are another plan: refused
    assert run_command(*args, "--expect", fingerprint).status == 1
    assert run_command(*args, "--from-today", "--expect", fingerprint).status == 0
    assert ends(mixed)["expired"] == clock.current + timedelta(days=5)
