"""`manage.py course_roles`: who holds which role in which course (lms.CourseRole, issue 25).

    course_roles grant  --user EMAIL --course SLUG --role staff|manager [--actor EMAIL]
    course_roles revoke --user EMAIL --course SLUG [--role staff|manager] [--actor EMAIL]
    course_roles list   [--user EMAIL] [--course SLUG] [--role staff|manager]
    course_roles history [--user EMAIL] [--course SLUG]

A role lets its holder act in that course only (enrollments/permissions.py, ROLE_PERMISSIONS:
staff view, extend, pause and resume within the course's limits; managers do every lifecycle
operation); Django's global permissions keep meaning "every course". One role per user and
course: granting another role changes it (and records who granted it, and when). Every
grant, change and revoke is recorded (lms.CourseRoleChange, through lms/roles.py, in the
change's transaction): `history` lists them, the admin's "Course role changes" too.
`--actor` is the person recorded as `granted_by` and on the record: an active user holding
`lms.manage_course_roles` (the admin's check too); without it the grant is the operator's,
with no one recorded.

Output: one line per change on stdout; `list` and `history` (oldest change first) print a
table (stored e-mails and slugs made safe for the terminal). Exit statuses as the other
commands (docs/commands.md): 0 done (a grant of the role already held changes nothing and is
done), 2 usage errors (a user or course that names nothing, a revoke of a role the user does
not hold, an actor without the permission).
"""

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext, gettext_lazy, pgettext

from enrollments.management.output import format_instant
from enrollments.management.selection import USAGE, option_id, resolve_actor
from enrollments.permissions import MANAGE_COURSE_ROLES
from lms.command_options import TextCheckedCommand
from lms.control_characters import terminal_safe
from lms.models import Course, CourseRole, CourseRoleChange, User
from lms.roles import RoleNotHeld, Source, grant_role, revoke_role

ROLES = [role.value for role in CourseRole.Role]


def holding(user: User, role: str, course: Course) -> str:
    """`ann@example.com is staff of python-basics`, stored text made safe for a terminal."""
    # Translators: the role is a value of --role (staff, manager).
    text = gettext("%(email)s is %(role)s of %(course)s")
    return terminal_safe(text % {"email": user.email, "role": role, "course": course.slug})


class Command(TextCheckedCommand):
    help = gettext_lazy(
        "Course roles: grant --user EMAIL --course SLUG --role staff|manager (changes a role "
        "already held), revoke --user EMAIL --course SLUG, list [--user] [--course] [--role], "
        "history [--user] [--course] (every grant, change and revoke, as recorded). "
        "--actor EMAIL (who needs lms.manage_course_roles) is recorded as granted_by and on "
        "the change's record. "
        "Exit status: 0 done, 2 usage error."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        grant = actions.add_parser(
            "grant", help=gettext("give a user a role in a course, or change it")
        )
        revoke = actions.add_parser("revoke", help=gettext("take a user's role in a course away"))
        listing = actions.add_parser("list", help=gettext("the roles, by course and user"))
        history = actions.add_parser(
            "history", help=gettext("every grant, change and revoke, oldest first")
        )
        for action in (grant, revoke):
            action.add_argument(
                "--user",
                required=True,
                metavar="EMAIL",
                help=gettext("the user's e-mail address or id"),
            )
            action.add_argument(
                "--course", required=True, metavar="SLUG", help=gettext("the course's slug or id")
            )
        grant.add_argument("--role", required=True, choices=ROLES, help=gettext("the role to hold"))
        revoke.add_argument(
            "--role", choices=ROLES, help=gettext("only if the user holds this role (default: any)")
        )
        for action in (grant, revoke):
            action.add_argument(
                "--actor",
                metavar="EMAIL",
                help=gettext("who grants or revokes (needs %(permission)s); default: none")
                % {"permission": MANAGE_COURSE_ROLES},
            )
        listing.add_argument("--user", metavar="EMAIL", help=gettext("only this user's roles"))
        listing.add_argument("--course", metavar="SLUG", help=gettext("only this course's roles"))
        listing.add_argument("--role", choices=ROLES, help=gettext("only this role"))
        history.add_argument(
            "--user", metavar="EMAIL", help=gettext("only this user's role changes")
        )
        history.add_argument(
            "--course", metavar="SLUG", help=gettext("only this course's role changes")
        )

    def handle(self, *args, **options) -> None:
        getattr(self, f"_{options['action']}")(options)

    # -- actions --------------------------------------------------------------------------

    def _grant(self, options: dict) -> None:
        actor = resolve_actor(options["actor"], MANAGE_COURSE_ROLES)
        user, course = self._user(options["user"]), self._course(options["course"])
        role = options["role"]
        change = grant_role(user, course, role, actor=actor, source=Source.COMMAND)
        values = {"holding": holding(user, role, course), "by": by(actor)}
        if change is None:
            self.stdout.write(gettext("Unchanged: %(holding)s already.") % values)
        elif change.action == CourseRoleChange.Action.GRANT:
            self.stdout.write(gettext("Granted: %(holding)s%(by)s.") % values)
        else:
            self.stdout.write(
                gettext("Changed: %(holding)s (was %(old)s)%(by)s.")
                % {**values, "old": change.old_role}
            )

    def _revoke(self, options: dict) -> None:
        actor = resolve_actor(options["actor"], MANAGE_COURSE_ROLES)
        user, course = self._user(options["user"]), self._course(options["course"])
        asked = options["role"]
        try:
            change = revoke_role(user, course, actor=actor, source=Source.COMMAND, only=asked)
        except RoleNotHeld as refused:
            values = {
                "user": options["user"],
                "course": options["course"],
                "role": asked,
                "held": refused.held,
            }
            if asked and refused.held is not None:
                message = gettext(
                    "--user %(user)r --course %(course)r: does not hold the role %(role)s in "
                    "that course (they are %(held)s); nothing to revoke"
                )
            elif asked:
                message = gettext(
                    "--user %(user)r --course %(course)r: does not hold the role %(role)s in "
                    "that course; nothing to revoke"
                )
            elif refused.held is not None:
                message = gettext(
                    "--user %(user)r --course %(course)r: does not hold a role in that course "
                    "(they are %(held)s); nothing to revoke"
                )
            else:
                message = gettext(
                    "--user %(user)r --course %(course)r: does not hold a role in that course; "
                    "nothing to revoke"
                )
            raise CommandError(message % values, returncode=USAGE) from None
        self.stdout.write(
            gettext("Revoked: %(email)s is no longer %(role)s of %(course)s.")
            % {
                "email": terminal_safe(user.email),
                "role": change.old_role,
                "course": terminal_safe(course.slug),
            }
        )

    def _list(self, options: dict) -> None:
        roles = CourseRole.objects.select_related("user", "course", "granted_by").order_by(
            "course__slug", "user__email"
        )
        if options["user"]:
            roles = roles.filter(user_id=option_id("user", options["user"]))
        if options["course"]:
            roles = roles.filter(course_id=option_id("course", options["course"]))
        if options["role"]:
            roles = roles.filter(role=options["role"])
        rows = list(roles)
        if not rows:
            self.stdout.write(
                gettext("No course roles match.")
                if self._filtered(options)
                else gettext("No course roles.")
            )
            return
        header = (
            gettext("course"),
            gettext("user"),
            gettext("role"),
            gettext("granted at"),
            gettext("granted by"),
        )
        table = [header] + [
            (
                terminal_safe(role.course.slug),
                terminal_safe(role.user.email),
                role.role,
                format_instant(role.granted_at),
                terminal_safe(role.granted_by.email) if role.granted_by else "-",
            )
            for role in rows
        ]
        self._table(table)

    def _history(self, options: dict) -> None:
        changes = CourseRoleChange.objects.select_related("user", "course", "actor").order_by(
            "created_at", "id"
        )
        if options["user"]:
            changes = changes.filter(user_id=option_id("user", options["user"]))
        if options["course"]:
            changes = changes.filter(course_id=option_id("course", options["course"]))
        rows = list(changes)
        if not rows:
            filtered = options["user"] or options["course"]
            self.stdout.write(
                gettext("No role changes match.") if filtered else gettext("No role changes.")
            )
            return
        header = (
            gettext("when"),
            gettext("course"),
            gettext("user"),
            gettext("action"),
            pgettext("the role before a change", "old"),
            pgettext("the role after a change", "new"),
            pgettext("who made a change", "by"),
            gettext("source"),
        )
        self._table(
            [header]
            + [
                (
                    format_instant(change.created_at),
                    terminal_safe(change.course.slug),
                    terminal_safe(change.user.email),
                    change.action,
                    change.old_role or "-",
                    change.new_role or "-",
                    terminal_safe(change.actor.email) if change.actor else "-",
                    change.source,
                )
                for change in rows
            ]
        )

    def _table(self, table: list[tuple[str, ...]]) -> None:
        widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
        for row in table:
            line = "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
            self.stdout.write(line.rstrip())

    # -- helpers --------------------------------------------------------------------------

    @staticmethod
    def _filtered(options: dict) -> bool:
        return any(options[name] for name in ("user", "course", "role"))

    @staticmethod
    def _user(value: str) -> User:
        return User.objects.get(pk=option_id("user", value))

    @staticmethod
    def _course(value: str) -> Course:
        return Course.objects.get(pk=option_id("course", value))


def by(actor: User | None) -> str:
    """`, granted by lead@example.com` when an actor is recorded."""
    if actor is None:
        return ""
    return gettext(", granted by %(email)s") % {"email": terminal_safe(actor.email)}
