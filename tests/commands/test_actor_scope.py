"""Commands with `--actor` act within the actor's courses (issue 25).

A staff member or manager of course A named as `--actor` holds the operation's permission in A
only: every command that changes access builds its selection within A, so a filter (`--course
B`, `--all`) never touches B's rows, a named enrollment in B fails exactly as a pair that does
not exist, an undo of a batch reaching B answers as an unknown batch, enrolling in B answers as
an unknown course, and the course's staff limits refuse rows with their own codes. Without
`--actor` the command is the operator's, every course, as before."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission

from enrollments.models import AccessChange, Enrollment, OperationRun
from lms.models import CourseRole
from tests.commands.conftest import run_command, snapshot, write_csv
from tests.factories import (
    CourseFactory,
    CourseRoleFactory,
    EnrollmentFactory,
    StaffFactory,
    UserFactory,
)
from tests.run_chunks import written_ids

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)
NOT_ENROLLED = "Student is not enrolled in this course [NOT_ENROLLED]"


@pytest.fixture
def courses(clock):
    """Course a (ann, amy) and course b (bob, and ann again), every access ending in 30 days;
    staff@ is staff of a, manager@ its manager."""
    a, b = CourseFactory(slug="a"), CourseFactory(slug="b")
    learners = {email: UserFactory(email=f"{email}@example.com") for email in ("ann", "amy", "bob")}
    rows = {
        f"{name}-{course.slug}": EnrollmentFactory(
            user=learners[name],
            course=course,
            start_at=clock.current - 10 * DAY,
            ended_at=clock.current + 30 * DAY,
        )
        for name, course in (("ann", a), ("amy", a), ("bob", b), ("ann", b))
    }
    CourseRoleFactory(user=StaffFactory(email="staff@example.com"), course=a)
    CourseRoleFactory(
        user=StaffFactory(email="manager@example.com"), course=a, role=CourseRole.Role.MANAGER
    )
    return a, b, rows


def ends() -> dict:
    return {
        f"{e.user.email.split('@')[0]}-{e.course.slug}": e.ended_at
        for e in Enrollment.objects.select_related("user", "course")
    }


def changed_keys(before: dict) -> set[str]:
    return {key for key, end in ends().items() if end != before[key]}


class TestResolvingTheActor:
    def test_a_role_in_one_course_is_enough_for_the_operations_of_the_role(self, courses):
        result = run_command(
            "extend_access", "--course", "a", "--days", "5", "--actor", "staff@example.com"
        )

        assert result.status == 0, result.stderr
        actors = set(AccessChange.objects.values_list("actor__email", flat=True))
        assert actors == {"staff@example.com"}

    @pytest.mark.parametrize(
        ("command", "args"),
        [
            ("expire_access", ("--course", "a")),
            ("remove_from_course", ("--course", "a")),
            ("enroll", ("--user", "ann@example.com", "--course", "a")),
        ],
    )
    def test_staff_lack_the_managers_operations_as_before(self, courses, command, args):
        before = snapshot()

        result = run_command(command, *args, "--actor", "staff@example.com")

        assert result.status == 2
        assert "--actor 'staff@example.com': lacks the permission enrollments." in result.error
        assert snapshot() == before

    def test_an_actor_with_neither_permission_nor_role_is_refused_as_before(self, courses):
        StaffFactory(email="nobody@example.com")
        before = snapshot()

        result = run_command(
            "extend_access", "--all", "--days", "5", "--actor", "nobody@example.com"
        )

        assert (result.status, result.error) == (
            2,
            "--actor 'nobody@example.com': lacks the permission enrollments.extend_access",
        )
        assert snapshot() == before

    def test_a_global_permission_still_reaches_every_course(self, courses):
        lead = StaffFactory(email="lead@example.com")
        lead.user_permissions.add(Permission.objects.get(codename="extend_access"))
        before = ends()

        result = run_command("extend_access", "--all", "--days", "5", "--actor", "lead@example.com")

        assert result.status == 0, result.stderr
        assert changed_keys(before) == {"ann-a", "amy-a", "bob-b", "ann-b"}


class TestFilters:
    def test_a_course_outside_the_scope_selects_nothing(self, courses):
        before = snapshot()

        result = run_command(
            "extend_access", "--course", "b", "--days", "5", "--actor", "staff@example.com"
        )

        assert (result.status, result.stderr) == (0, "")
        assert result.stdout == "No enrollments match the selection: nothing to do.\n"
        assert snapshot() == before

    def test_all_changes_only_the_actors_courses_and_counts_only_them(self, courses):
        before = ends()

        result = run_command(
            "extend_access", "--all", "--days", "5", "--actor", "staff@example.com"
        )

        assert (result.status, result.stderr) == (0, "")
        assert changed_keys(before) == {"ann-a", "amy-a"}
        assert "Asked: extend access by 5 days: 2. Changed 2, unchanged 0, failed 0." in (
            result.stdout
        )

    def test_a_dry_run_of_all_previews_only_the_actors_courses(self, courses):
        before = snapshot()

        result = run_command(
            "extend_access", "--all", "--days", "5", "--dry-run", "--actor", "staff@example.com",
            "-v", "2",
        )  # fmt: skip

        assert result.status == 0, result.stderr
        assert "Would change 2, unchanged 0, would fail 0" in result.stdout
        assert " in b:" not in result.stdout
        assert snapshot() == before

    def test_a_learner_alone_is_narrowed_to_the_actors_courses(self, courses):
        before = ends()

        result = run_command(
            "pause_membership", "--user", "ann@example.com", "--actor", "staff@example.com"
        )

        assert result.status == 0, result.stderr
        paused = set(
            Enrollment.objects.filter(is_paused=True).values_list("course__slug", flat=True)
        )
        assert paused == {"a"}
        assert changed_keys(before) == set()

    def test_a_manager_removes_only_in_their_course(self, courses):
        result = run_command("remove_from_course", "--all", "--actor", "manager@example.com")

        assert result.status == 0, result.stderr
        removed = Enrollment.objects.filter(removed_at__isnull=False)
        assert set(removed.values_list("course__slug", flat=True)) == {"a"}
        assert removed.count() == 2

    def test_a_background_run_writes_down_and_counts_only_the_actors_rows(self, courses):
        _a, _b, rows = courses

        result = run_command(
            "extend_access", "--all", "--days", "5", "--background",
            "--actor", "staff@example.com",
        )  # fmt: skip

        assert result.status == 0, result.stderr
        run = OperationRun.objects.get()
        assert run.total == 2
        assert f"{run.total} enrollments" in result.stdout
        written = set(written_ids(run))
        assert written == {rows["ann-a"].pk, rows["amy-a"].pk}

    def test_a_scoped_request_is_its_own_request_for_the_one_at_a_time_rule(self, courses):
        args = ("extend_access", "--all", "--days", "5", "--background")
        operators = run_command(*args)  # queued, unfinished: names every course's rows
        assert operators.status == 0, operators.stderr

        first = run_command(*args, "--actor", "staff@example.com")
        again = run_command(*args, "--actor", "staff@example.com")

        # Not refused by the operator's run (it would tell the actor of rows beyond their
        # courses); the same scoped request again is refused as identical.
        assert first.status == 0, first.error
        assert again.status == 1
        run = OperationRun.objects.get(actor__email="staff@example.com")
        assert f"an identical run is unfinished: run {run.pk} (queued, 0 of 2 done)" in again.error


class TestNamedOutsideTheScope:
    def test_a_pair_in_another_course_fails_exactly_as_a_missing_pair(self, courses):
        CourseFactory(slug="c")  # ann is not enrolled in c: a pair that does not exist
        before = snapshot()

        outside = run_command(
            "extend_access", "--user", "bob@example.com", "--course", "b", "--days", "5",
            "--actor", "staff@example.com",
        )  # fmt: skip
        missing = run_command(
            "extend_access", "--user", "ann@example.com", "--course", "c", "--days", "5",
            "--actor", "staff@example.com",
        )  # fmt: skip

        assert outside.stderr == f"--user bob@example.com --course b: {NOT_ENROLLED}\n"
        assert missing.stderr == f"--user ann@example.com --course c: {NOT_ENROLLED}\n"
        assert (outside.status, outside.error) == (missing.status, missing.error)
        assert outside.status == 1
        assert outside.stdout == missing.stdout
        assert snapshot() == before

    @pytest.mark.parametrize(
        ("command", "actor"),
        [
            ("pause_membership", "staff@example.com"),
            ("expire_access", "manager@example.com"),
            ("remove_from_course", "manager@example.com"),
        ],
    )
    def test_every_bulk_command_answers_it_the_same(self, courses, command, actor):
        before = snapshot()

        result = run_command(command, "--user", "bob@example.com", "--course", "b",
                             "--actor", actor)  # fmt: skip

        assert result.status == 1
        assert result.stderr == f"--user bob@example.com --course b: {NOT_ENROLLED}\n"
        assert snapshot() == before

    def test_csv_rows_outside_fail_as_missing_pairs_and_the_others_go_ahead(
        self, courses, tmp_path
    ):
        CourseFactory(slug="c")
        before = ends()
        path = write_csv(
            tmp_path,
            "user,course\n"
            "ann@example.com,a\n"
            "bob@example.com,b\n"  # exists, outside the scope
            "ann@example.com,c\n",  # does not exist
        )

        result = run_command(
            "extend_access", "--csv", path, "--days", "5", "--actor", "staff@example.com"
        )

        assert result.status == 1
        assert result.stderr.splitlines() == [
            f"line 3 (bob@example.com, b): {NOT_ENROLLED}",
            f"line 4 (ann@example.com, c): {NOT_ENROLLED}",
        ]
        assert changed_keys(before) == {"ann-a"}

    def test_without_actor_the_operator_reaches_every_course(self, courses):
        before = ends()

        result = run_command(
            "extend_access", "--user", "bob@example.com", "--course", "b", "--days", "5"
        )

        assert result.status == 0, result.stderr
        assert changed_keys(before) == {"bob-b"}


class TestCourseLimits:
    @pytest.fixture
    def limited(self, courses):
        a, _b, _rows = courses
        a.staff_max_extension_days = 10
        a.staff_reason_required = True
        a.save()
        return courses

    def test_rows_over_the_limit_are_refused_with_their_code(self, limited):
        before = snapshot()

        result = run_command(
            "extend_access", "--course", "a", "--days", "30", "--reason", "ticket 1",
            "--actor", "staff@example.com",
        )  # fmt: skip

        assert result.status == 1
        code = "[EXTENSION_OVER_COURSE_LIMIT]: at most 10 days"
        assert sorted(result.stderr.splitlines()) == [
            f"amy@example.com in a: This change adds more days of access than the course "
            f"allows its staff {code}",
            f"ann@example.com in a: This change adds more days of access than the course "
            f"allows its staff {code}",
        ]
        assert "Changed 0, unchanged 0, failed 2." in result.stdout
        assert snapshot()["enrollments"] == before["enrollments"]

    def test_rows_without_a_reason_are_refused_with_their_code(self, limited):
        before = snapshot()

        result = run_command(
            "pause_membership", "--user", "ann@example.com", "--course", "a",
            "--actor", "staff@example.com",
        )  # fmt: skip

        assert result.status == 1
        assert result.stderr == (
            "ann@example.com in a: This course requires a reason for every access change by "
            "its staff [REASON_REQUIRED]\n"
        )
        assert snapshot()["enrollments"] == before["enrollments"]

    def test_a_dry_run_is_planned_with_the_reason_given(self, limited):
        args = ("extend_access", "--course", "a", "--days", "5", "--actor", "staff@example.com")

        without = run_command(*args, "--dry-run")
        with_reason = run_command(*args, "--dry-run", "--reason", "ticket 1")

        assert without.status == 1
        assert without.stderr.count("[REASON_REQUIRED]") == 2
        assert with_reason.status == 0, with_reason.stderr
        assert "Would change 2, unchanged 0, would fail 0" in with_reason.stdout

    def test_within_the_limits_with_a_reason_the_change_is_made_and_expect_applies(
        self, limited, clock
    ):
        args = (
            "extend_access", "--course", "a", "--days", "10", "--reason", "ticket 1",
            "--actor", "staff@example.com",
        )  # fmt: skip
        dry = run_command(*args, "--dry-run")
        fingerprint = dry.stdout.split()[-1]

        result = run_command(*args, "--expect", fingerprint)

        assert result.status == 0, result.stderr
        audits = AccessChange.objects.all()
        assert {(a.reason, a.actor.email) for a in audits} == {("ticket 1", "staff@example.com")}
        assert audits.count() == 2

    def test_a_manager_is_not_limited(self, limited):
        before = ends()

        result = run_command(
            "extend_access", "--course", "a", "--days", "30", "--actor", "manager@example.com"
        )

        assert result.status == 0, result.stderr
        assert changed_keys(before) == {"ann-a", "amy-a"}

    def test_the_operator_is_not_limited(self, limited):
        result = run_command("extend_access", "--course", "a", "--days", "30")

        assert (result.status, result.stderr) == (0, "")


class TestUndo:
    def batch_of(self, *args: str) -> str:
        result = run_command("extend_access", *args, "--days", "5")
        assert result.status == 0, result.stderr
        return str(AccessChange.objects.latest("created_at").batch_id)

    def test_a_batch_reaching_another_course_answers_as_an_unknown_batch(self, courses):
        batch = self.batch_of("--all")  # the operator's: a and b
        unknown = "00000000-0000-4000-8000-000000000000"
        before = snapshot()

        outside = run_command("undo_batch", batch, "--actor", "manager@example.com")
        missing = run_command("undo_batch", unknown, "--actor", "manager@example.com")

        assert outside.status == missing.status == 2
        assert outside.error == (
            f"BATCH_ID '{batch}': No access changes with this batch id [BATCH_NOT_FOUND]"
        )
        assert outside.error.replace(batch, unknown) == missing.error
        assert snapshot() == before

    def test_a_batch_of_the_managers_course_is_undone(self, courses):
        before = ends()
        batch = self.batch_of("--course", "a")

        result = run_command("undo_batch", batch, "--actor", "manager@example.com")

        assert result.status == 0, result.stderr
        assert ends() == before

    def test_staff_may_not_undo(self, courses):
        batch = self.batch_of("--course", "a")

        result = run_command("undo_batch", batch, "--actor", "staff@example.com")

        assert (result.status, result.error) == (
            2,
            "--actor 'staff@example.com': lacks the permission enrollments.undo_batch",
        )


class TestEnroll:
    def test_a_course_outside_answers_as_an_unknown_course(self, courses):
        CourseFactory(slug="c")
        before = snapshot()

        outside = run_command(
            "enroll", "--user", "amy@example.com", "--course", "b",
            "--actor", "manager@example.com",
        )  # fmt: skip
        unknown = run_command(
            "enroll", "--user", "amy@example.com", "--course", "nope",
            "--actor", "manager@example.com",
        )  # fmt: skip

        assert outside.status == unknown.status == 2
        assert outside.error == "--course 'b': no course with that slug or id"
        assert outside.error.replace("'b'", "'nope'") == unknown.error
        assert snapshot() == before

    def test_csv_rows_outside_fail_as_unknown_courses_and_the_others_are_enrolled(
        self, courses, tmp_path
    ):
        path = write_csv(
            tmp_path,
            "user,course\n"
            "bob@example.com,a\n"
            "amy@example.com,b\n"  # outside
            "amy@example.com,nope\n",  # unknown
        )

        result = run_command(
            "enroll", "--csv", path, "--actor", "manager@example.com", "--create-users"
        )

        assert result.status == 1
        assert result.stderr.splitlines() == [
            "line 3 (amy@example.com, b): Course not found [NOT_FOUND]",
            "line 4 (amy@example.com, nope): Course not found [NOT_FOUND]",
        ]
        pairs = set(Enrollment.objects.values_list("user__email", "course__slug"))
        assert ("bob@example.com", "a") in pairs
        assert ("amy@example.com", "b") not in pairs

    def test_a_manager_enrolls_in_their_course(self, courses):
        result = run_command(
            "enroll", "--user", "bob@example.com", "--course", "a",
            "--actor", "manager@example.com",
        )  # fmt: skip

        assert result.status == 0, result.stderr
        assert Enrollment.objects.filter(user__email="bob@example.com", course__slug="a").exists()
