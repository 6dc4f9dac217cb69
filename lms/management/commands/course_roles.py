"""`manage.py course_roles`: who holds which role in which course (lms.CourseRole, issue 25).

    course_roles grant  --user EMAIL --course SLUG --role staff|manager [--actor EMAIL]
    course_roles revoke --user EMAIL --course SLUG [--role staff|manager] [--actor EMAIL]
    course_roles list   [--user EMAIL] [--course SLUG] [--role staff|manager]

A role lets its holder act in that course only (enrollments/permissions.py, ROLE_PERMISSIONS:
staff view, extend, pause and resume within the course's limits; managers do every lifecycle
operation); Django's global permissions keep meaning "every course". One role per user and
course: granting another role changes it (and records who granted it, and when). `--actor` is
the person recorded as `granted_by`: an active user holding `lms.manage_course_roles` (the
admin's check too); without it the grant is the operator's, with no one recorded.

Output: one line per change on stdout; `list` prints a table (stored e-mails and slugs made
safe for the terminal). Exit statuses as the other commands (docs/commands.md): 0 done (a grant
of the role already held changes nothing and is done), 2 usage errors (a user or course that
names nothing, a revoke of a role the user does not hold, an actor without the permission).
"""

from django.core.management.base import CommandError, CommandParser
from django.db import IntegrityError, transaction

from enrollments import clock
from enrollments.management.output import format_instant
from enrollments.management.selection import USAGE, option_id, resolve_actor
from enrollments.permissions import MANAGE_COURSE_ROLES
from lms.command_options import TextCheckedCommand
from lms.control_characters import terminal_safe
from lms.models import Course, CourseRole, User

ROLES = [role.value for role in CourseRole.Role]


def holding(user: User, role: str, course: Course) -> str:
    """`ann@example.com is staff of python-basics`, stored text made safe for a terminal."""
    return terminal_safe(f"{user.email} is {role} of {course.slug}")


class Command(TextCheckedCommand):
    help = (
        "Course roles: grant --user EMAIL --course SLUG --role staff|manager (changes a role "
        "already held), revoke --user EMAIL --course SLUG, list [--user] [--course] [--role]. "
        "--actor EMAIL (who needs lms.manage_course_roles) is recorded as granted_by. "
        "Exit status: 0 done, 2 usage error."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        grant = actions.add_parser("grant", help="give a user a role in a course, or change it")
        revoke = actions.add_parser("revoke", help="take a user's role in a course away")
        listing = actions.add_parser("list", help="the roles, by course and user")
        for action in (grant, revoke):
            action.add_argument(
                "--user", required=True, metavar="EMAIL", help="the user's e-mail address or id"
            )
            action.add_argument(
                "--course", required=True, metavar="SLUG", help="the course's slug or id"
            )
        grant.add_argument("--role", required=True, choices=ROLES, help="the role to hold")
        revoke.add_argument(
            "--role", choices=ROLES, help="only if the user holds this role (default: any)"
        )
        for action in (grant, revoke):
            action.add_argument(
                "--actor",
                metavar="EMAIL",
                help=f"who grants or revokes (needs {MANAGE_COURSE_ROLES}); default: none",
            )
        listing.add_argument("--user", metavar="EMAIL", help="only this user's roles")
        listing.add_argument("--course", metavar="SLUG", help="only this course's roles")
        listing.add_argument("--role", choices=ROLES, help="only this role")

    def handle(self, *args, **options) -> None:
        getattr(self, f"_{options['action']}")(options)

    # -- actions --------------------------------------------------------------------------

    def _grant(self, options: dict) -> None:
        actor = resolve_actor(options["actor"], MANAGE_COURSE_ROLES)
        user, course = self._user(options["user"]), self._course(options["course"])
        role = options["role"]
        with transaction.atomic():
            held = self._locked(user, course)
            if held is None:
                try:
                    with transaction.atomic():
                        CourseRole.objects.create(
                            user=user,
                            course=course,
                            role=role,
                            granted_by=actor,
                            granted_at=clock.now(),
                        )
                except IntegrityError:  # granted meanwhile by someone else: change that one
                    held = self._locked(user, course)
                    if held is None:
                        raise
                else:
                    self.stdout.write(f"Granted: {holding(user, role, course)}{by(actor)}.")
                    return
            if held.role == role:
                self.stdout.write(f"Unchanged: {holding(user, role, course)} already.")
                return
            was = held.role
            held.role, held.granted_by, held.granted_at = role, actor, clock.now()
            held.save(update_fields=["role", "granted_by", "granted_at"])
        self.stdout.write(f"Changed: {holding(user, role, course)} (was {was}){by(actor)}.")

    def _revoke(self, options: dict) -> None:
        resolve_actor(options["actor"], MANAGE_COURSE_ROLES)
        user, course = self._user(options["user"]), self._course(options["course"])
        asked = options["role"]
        with transaction.atomic():
            held = self._locked(user, course)
            if held is None or (asked is not None and held.role != asked):
                named = f"--user {options['user']!r} --course {options['course']!r}"
                what = f"the role {asked}" if asked else "a role"
                detail = f" (they are {held.role})" if held is not None else ""
                raise CommandError(
                    f"{named}: does not hold {what} in that course{detail}; nothing to revoke",
                    returncode=USAGE,
                )
            held.delete()
        self.stdout.write(
            f"Revoked: {terminal_safe(user.email)} is no longer {held.role} of "
            f"{terminal_safe(course.slug)}."
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
                "No course roles match." if self._filtered(options) else "No course roles."
            )
            return
        header = ("course", "user", "role", "granted at", "granted by")
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
        widths = [max(len(row[i]) for row in table) for i in range(len(header))]
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

    @staticmethod
    def _locked(user: User, course: Course) -> CourseRole | None:
        return CourseRole.objects.select_for_update().filter(user=user, course=course).first()


def by(actor: User | None) -> str:
    """`, granted by lead@example.com` when an actor is recorded."""
    return f", granted by {terminal_safe(actor.email)}" if actor is not None else ""
