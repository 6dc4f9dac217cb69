"""`manage.py course_roles grant|revoke|list` (issue 25): roles granted, changed, revoked and
listed; who may grant (`--actor` with lms.manage_course_roles, recorded as granted_by); the
usage errors (exit status 2) and the terminal-safe table."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from lms.models import CourseRole, CourseRoleChange
from tests.commands.conftest import exit_status, run_command
from tests.factories import CourseFactory, CourseRoleFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

Role = CourseRole.Role


def role_manager(email: str = "roles@example.com"):
    """An active staff member holding lms.manage_course_roles (globally)."""
    person = StaffFactory(email=email)
    person.user_permissions.add(
        Permission.objects.get(content_type__app_label="lms", codename="manage_course_roles")
    )
    return person


@pytest.fixture
def people(clock):
    """ann (a user), course python-basics, and a role manager."""
    return (
        UserFactory(email="ann@example.com"),
        CourseFactory(slug="python-basics"),
        role_manager(),
    )


def roles() -> list[tuple]:
    return list(CourseRole.objects.values_list("user__email", "course__slug", "role"))


class TestGrant:
    def test_a_new_role_is_granted_and_its_granter_recorded(self, people, clock):
        ann, course, granter = people

        result = run_command(
            "course_roles",
            "grant",
            "--user",
            "ANN@example.com",
            "--course",
            "python-basics",
            "--role",
            "staff",
            "--actor",
            "roles@example.com",
        )

        assert (result.status, result.stderr) == (0, "")
        assert result.stdout == (
            "Granted: ann@example.com is staff of python-basics, granted by roles@example.com.\n"
        )
        held = CourseRole.objects.get()
        assert (held.user, held.course, held.role) == (ann, course, Role.STAFF)
        assert (held.granted_by, held.granted_at) == (granter, clock.current)

    def test_without_actor_the_grant_is_the_operators_with_no_one_recorded(self, people):
        ann, course, _ = people

        result = run_command(
            "course_roles", "grant", "--user", str(ann.pk), "--course", str(course.pk),
            "--role", "manager",
        )  # fmt: skip

        assert result.status == 0
        assert result.stdout == "Granted: ann@example.com is manager of python-basics.\n"
        assert CourseRole.objects.get().granted_by is None

    def test_granting_another_role_changes_the_one_held(self, people, clock):
        ann, course, granter = people
        CourseRoleFactory(user=ann, course=course, role=Role.STAFF, granted_at=clock.current)
        clock.advance(days=2)

        result = run_command(
            "course_roles", "grant", "--user", "ann@example.com", "--course", "python-basics",
            "--role", "manager", "--actor", "roles@example.com",
        )  # fmt: skip

        assert result.status == 0
        assert result.stdout == (
            "Changed: ann@example.com is manager of python-basics (was staff), granted by "
            "roles@example.com.\n"
        )
        held = CourseRole.objects.get()  # still one role per user and course
        assert (held.role, held.granted_by, held.granted_at) == (
            Role.MANAGER,
            granter,
            clock.current,
        )

    def test_granting_the_role_held_changes_nothing(self, people, clock):
        ann, course, _ = people
        CourseRoleFactory(user=ann, course=course, role=Role.STAFF, granted_at=clock.current)
        before = list(CourseRole.objects.values_list())
        clock.advance(days=2)

        result = run_command(
            "course_roles", "grant", "--user", "ann@example.com", "--course", "python-basics",
            "--role", "staff", "--actor", "roles@example.com",
        )  # fmt: skip

        assert result.status == 0
        assert result.stdout == "Unchanged: ann@example.com is staff of python-basics already.\n"
        assert list(CourseRole.objects.values_list()) == before


class TestRevoke:
    def test_a_role_held_is_revoked(self, people):
        ann, course, _ = people
        CourseRoleFactory(user=ann, course=course, role=Role.MANAGER)
        kept = CourseRoleFactory(course=course)  # someone else's role in the course stays

        result = run_command(
            "course_roles", "revoke", "--user", "ann@example.com", "--course", "python-basics",
            "--actor", "roles@example.com",
        )  # fmt: skip

        assert (result.status, result.stderr) == (0, "")
        assert result.stdout == "Revoked: ann@example.com is no longer manager of python-basics.\n"
        assert list(CourseRole.objects.all()) == [kept]

    def test_revoking_a_role_not_held_is_a_usage_error(self, people, capsys):
        ann, _course, _ = people
        CourseRoleFactory(user=ann)  # a role in another course is not this one

        result = run_command(
            "course_roles", "revoke", "--user", "ann@example.com", "--course", "python-basics"
        )

        assert result.status == 2
        assert result.error == (
            "--user 'ann@example.com' --course 'python-basics': does not hold a role in that "
            "course; nothing to revoke"
        )
        assert CourseRole.objects.count() == 1
        # What a shell sees: the same status.
        argv = ("course_roles", "revoke", "--user", "ann@example.com", "--course", "python-basics")
        assert exit_status(*argv) == 2
        assert "nothing to revoke" in capsys.readouterr().err

    def test_revoking_another_role_than_the_one_held_is_a_usage_error(self, people):
        ann, course, _ = people
        CourseRoleFactory(user=ann, course=course, role=Role.MANAGER)

        result = run_command(
            "course_roles", "revoke", "--user", "ann@example.com", "--course", "python-basics",
            "--role", "staff",
        )  # fmt: skip

        assert result.status == 2
        assert result.error == (
            "--user 'ann@example.com' --course 'python-basics': does not hold the role staff in "
            "that course (they are manager); nothing to revoke"
        )
        assert roles() == [("ann@example.com", "python-basics", "manager")]

    def test_revoking_the_role_held_by_name(self, people):
        ann, course, _ = people
        CourseRoleFactory(user=ann, course=course, role=Role.STAFF)

        result = run_command(
            "course_roles", "revoke", "--user", "ann@example.com", "--course", "python-basics",
            "--role", "staff",
        )  # fmt: skip

        assert result.status == 0
        assert roles() == []


class TestList:
    @pytest.fixture
    def held(self, clock):
        a, b = CourseFactory(slug="a-course"), CourseFactory(slug="b-course")
        ann, bob = UserFactory(email="ann@example.com"), UserFactory(email="bob@example.com")
        granter = role_manager()
        CourseRoleFactory(user=bob, course=a, role=Role.MANAGER, granted_by=granter,
                          granted_at=clock.current)  # fmt: skip
        CourseRoleFactory(user=ann, course=a, role=Role.STAFF, granted_at=clock.current)
        CourseRoleFactory(user=ann, course=b, role=Role.STAFF, granted_at=clock.current)
        return a, b, ann, bob

    def test_every_role_by_course_then_user(self, held, clock):
        result = run_command("course_roles", "list")

        assert result.status == 0
        at = clock.current.strftime("%Y-%m-%dT%H:%M:%SZ")
        assert result.stdout.splitlines() == [
            "course    user             role     granted at            granted by",
            f"a-course  ann@example.com  staff    {at}  -",
            f"a-course  bob@example.com  manager  {at}  roles@example.com",
            f"b-course  ann@example.com  staff    {at}  -",
        ]

    @pytest.mark.parametrize(
        ("filters", "expected"),
        [
            (("--user", "ann@example.com"), [("a-course", "ann"), ("b-course", "ann")]),
            (("--course", "a-course"), [("a-course", "ann"), ("a-course", "bob")]),
            (("--user", "ann@example.com", "--course", "b-course"), [("b-course", "ann")]),
            (("--role", "manager"), [("a-course", "bob")]),
        ],
    )
    def test_filtered_by_user_course_or_role(self, held, filters, expected):
        result = run_command("course_roles", "list", *filters)

        assert result.status == 0
        rows = [line.split()[:2] for line in result.stdout.splitlines()[1:]]
        assert [(slug, email.split("@")[0]) for slug, email in rows] == expected

    def test_nothing_to_list(self, held):
        assert run_command(
            "course_roles", "list", "--role", "manager", "--user", "ann@example.com"
        ).stdout == ("No course roles match.\n")
        CourseRole.objects.all().delete()
        assert run_command("course_roles", "list").stdout == "No course roles.\n"

    def test_one_query_for_the_table_however_many_roles(self, clock):
        def queries() -> int:
            with CaptureQueriesContext(connection) as captured:
                assert run_command("course_roles", "list").status == 0
            return len(captured)

        CourseRoleFactory(granted_by=role_manager("a@example.com"))
        one = queries()
        for n in range(10):
            CourseRoleFactory(granted_by=role_manager(f"g{n}@example.com"))
        assert queries() == one == 1

    def test_stored_text_is_made_safe_for_the_terminal(self, clock):
        course = CourseFactory(slug="evil\x1b[2J-course")
        user = UserFactory(email="x\x1b]0;pwned\x07y@example.com")
        CourseRoleFactory(user=user, course=course)

        result = run_command("course_roles", "list")

        assert "\x1b" not in result.stdout and "\x07" not in result.stdout
        assert "evil-course" in result.stdout and "xy@example.com" in result.stdout


class TestUsageErrors:
    @pytest.mark.parametrize(
        ("argv", "message"),
        [
            (
                ("--user", "ghost@example.com", "--course", "python-basics"),
                "--user 'ghost@example.com': no user with that e-mail or id",
            ),
            (
                ("--user", "ann@example.com", "--course", "nope"),
                "--course 'nope': no course with that slug or id",
            ),
        ],
    )
    @pytest.mark.parametrize("action", ["grant", "revoke"])
    def test_a_user_or_course_that_names_nothing(self, people, action, argv, message):
        role = ("--role", "staff") if action == "grant" else ()

        result = run_command("course_roles", action, *argv, *role)

        assert (result.status, result.error) == (2, message)
        assert roles() == []

    def test_list_with_a_user_that_names_nothing(self, people):
        result = run_command("course_roles", "list", "--user", "ghost@example.com")

        assert (result.status, result.error) == (
            2,
            "--user 'ghost@example.com': no user with that e-mail or id",
        )

    @pytest.mark.parametrize("action", ["grant", "revoke"])
    def test_an_actor_without_the_permission_is_refused(self, people, action):
        ann, course, _ = people
        CourseRoleFactory(user=ann, course=course, role=Role.STAFF)
        # A course manager may act in their course, but not hand out roles: only the global
        # permission does.
        manager = StaffFactory(email="manager@example.com")
        CourseRoleFactory(user=manager, course=course, role=Role.MANAGER)
        before = list(CourseRole.objects.values_list())
        role = ("--role", "manager") if action == "grant" else ()

        result = run_command(
            "course_roles", action, "--user", "ann@example.com", "--course", "python-basics",
            *role, "--actor", "manager@example.com",
        )  # fmt: skip

        assert result.status == 2
        assert result.error == (
            "--actor 'manager@example.com': lacks the permission lms.manage_course_roles"
        )
        assert list(CourseRole.objects.values_list()) == before

    def test_an_inactive_actor_is_refused(self, people):
        gone = role_manager("gone@example.com")
        gone.is_active = False
        gone.save(update_fields=["is_active"])

        result = run_command(
            "course_roles", "grant", "--user", "ann@example.com", "--course", "python-basics",
            "--role", "staff", "--actor", "gone@example.com",
        )  # fmt: skip

        assert result.status == 2
        assert result.error == "--actor 'gone@example.com': no active user with that e-mail or id"
        assert roles() == []

    @pytest.mark.parametrize(
        "argv",
        [
            ("grant", "--user", "ann@example.com", "--course", "python-basics"),  # no --role
            ("grant", "--user", "ann@example.com", "--course", "python-basics", "--role", "owner"),
            ("revoke", "--user", "ann@example.com"),  # no --course
            ("promote", "--user", "ann@example.com"),
            (),
        ],
    )
    def test_argparse_errors_exit_2(self, people, argv, capsys):
        assert exit_status("course_roles", *argv) == 2
        assert roles() == []


# -- the record of each change (lms.CourseRoleChange, lms/roles.py) -------------------------------


def records() -> list[tuple]:
    return list(
        CourseRoleChange.objects.order_by("id").values_list(
            "user__email", "course__slug", "action", "old_role", "new_role", "actor__email",
            "source",
        )
    )  # fmt: skip


GRANT = ("grant", "--user", "ann@example.com", "--course", "python-basics")
REVOKE = ("revoke", "--user", "ann@example.com", "--course", "python-basics")
AS_MANAGER = ("--actor", "roles@example.com")


class TestRecords:
    def test_grant_change_and_revoke_each_write_one_record_with_actor_and_source(
        self, people, clock
    ):
        ann, course, _ = people
        assert run_command("course_roles", *GRANT, "--role", "staff", *AS_MANAGER).status == 0
        clock.advance(days=1)
        assert run_command("course_roles", *GRANT, "--role", "manager", *AS_MANAGER).status == 0
        clock.advance(days=1)
        assert run_command("course_roles", *REVOKE).status == 0  # no --actor: no one recorded

        assert records() == [
            ("ann@example.com", "python-basics", "grant", "", "staff", "roles@example.com",
             "command"),
            ("ann@example.com", "python-basics", "change", "staff", "manager",
             "roles@example.com", "command"),
            ("ann@example.com", "python-basics", "revoke", "manager", "", None, "command"),
        ]  # fmt: skip
        # Each record carries the instant of its change.
        whens = list(CourseRoleChange.objects.order_by("id").values_list("created_at", flat=True))
        assert [when - whens[0] for when in whens] == [
            timedelta(0),
            timedelta(days=1),
            timedelta(days=2),
        ]
        assert not CourseRole.objects.exists()

    def test_the_role_already_held_records_nothing(self, people):
        ann, course, _ = people
        CourseRoleFactory(user=ann, course=course, role=Role.STAFF)

        result = run_command("course_roles", *GRANT, "--role", "staff", *AS_MANAGER)

        assert result.stdout.startswith("Unchanged:")
        assert records() == []

    @pytest.mark.parametrize(
        "argv",
        [
            REVOKE,  # not held
            (*REVOKE, "--role", "manager"),  # held, but staff
            (*GRANT, "--role", "staff", "--actor", "ann@example.com"),  # actor without permission
            (*REVOKE, "--actor", "ann@example.com"),
        ],
    )
    def test_a_refused_request_records_nothing(self, people, argv):
        ann, course, _ = people
        if "manager" in argv:
            CourseRoleFactory(user=ann, course=course, role=Role.STAFF)

        assert run_command("course_roles", *argv).status == 2
        assert records() == []

    def test_history_lists_the_changes_oldest_first_filtered(self, people, clock):
        ann, course, _ = people
        other = CourseFactory(slug="sql")
        run_command("course_roles", *GRANT, "--role", "staff", *AS_MANAGER)
        clock.advance(minutes=5)
        run_command("course_roles", *REVOKE, *AS_MANAGER)
        run_command("course_roles", "grant", "--user", "ann@example.com", "--course", "sql",
                    "--role", "manager")  # fmt: skip

        result = run_command("course_roles", "history", "--course", "python-basics")

        assert result.status == 0
        lines = result.stdout.splitlines()
        assert lines[0].split() == ["when", "course", "user", "action", "old", "new", "by",
                                    "source"]  # fmt: skip
        assert [line.split()[1:] for line in lines[1:]] == [
            ["python-basics", "ann@example.com", "grant", "-", "staff", "roles@example.com",
             "command"],
            ["python-basics", "ann@example.com", "revoke", "staff", "-", "roles@example.com",
             "command"],
        ]  # fmt: skip
        assert len(run_command("course_roles", "history").stdout.splitlines()) == 4
        assert (
            run_command("course_roles", "history", "--course", str(other.pk)).stdout.count(
                "manager"
            )
            == 1
        )
        assert run_command("course_roles", "history", "--user", "roles@example.com").stdout == (
            "No role changes match.\n"
        )
