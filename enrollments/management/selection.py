"""Turning the commands' selection options into enrollments.

`--user` (e-mail or id), `--course` (slug or id), `--state`, `--expiring-before` and `--all`
become one queryset, filtered with the selectors' `access_state_q`, so a command selects exactly
what the GraphQL filters and the admin would. `--user` with `--course` names one enrollment (a
named selection, the API's rule); anything else is a selection by filter (see
enrollments.operations.selection). Command-line arguments that name nothing are usage errors
(exit status 2) that quote the bad value.

Whose selection it is (issue 25): without `--actor` the operator's, every course. With
`--actor`, the courses where the actor holds the operation's permission (`command_scope`:
globally, every course; through course roles, those courses), so a filter never reaches a row
outside them, and a named enrollment outside them is reported exactly as a pair that does not
exist (NOT_ENROLLED): the command cannot tell "not yours" from "not there"
(enrollments/operations/scope.py).
"""

import argparse
from datetime import datetime

from django.core.management.base import CommandError, CommandParser
from django.db.models import Q
from django.utils.translation import gettext, gettext_lazy, gettext_noop

from enrollments import clock
from enrollments.access_window import MAX_WINDOW_DAYS
from enrollments.errors import NotEnrolled
from enrollments.instants import parse_instant
from enrollments.management.output import RowFailure, describe_error
from enrollments.models import Enrollment
from enrollments.operations import Selection
from enrollments.operations.scope import EVERYWHERE, Scope, scope_of
from enrollments.permissions import Permission
from enrollments.rules import AccessState
from enrollments.selectors.access import access_state_q, not_removed
from enrollments.selectors.by_id import enrollment_get_for_student
from enrollments.selectors.by_key import course_id_find, user_find, user_id_find
from lms.models import User

#: Exit status of usage errors (argparse uses it too).
USAGE = 2


def instant_argument(text: str) -> datetime:
    """argparse `type=` for ISO dates: argparse then names the option in its error."""
    try:
        return parse_instant(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            gettext(
                "%(value)r is not an ISO 8601 date or datetime (e.g. 2026-03-01 or "
                "2026-03-01T12:00:00Z)"
            )
            % {"value": text}
        ) from None


def _whole_number(text: str, *, most: int | None = None) -> int | None:
    """`text` as a whole number from 1 (to `most`), or None."""
    try:
        value = int(text)
    except ValueError:
        return None
    return value if value > 0 and (most is None or value <= most) else None


def positive_int_argument(text: str) -> int:
    value = _whole_number(text)
    if value is None:
        raise argparse.ArgumentTypeError(
            gettext("%(value)r is not a positive whole number") % {"value": text}
        )
    return value


def _bounded_argument(most: int, message: str):
    """argparse `type=` for a whole number from 1 to `most`; past it a usage error whose
    `message` (marked with gettext_noop) names the value and the bound."""

    def parse(text: str) -> int:
        value = _whole_number(text, most=most)
        if value is None:
            raise argparse.ArgumentTypeError(gettext(message) % {"value": text, "most": most})
        return value

    return parse


#: argparse `type=` for a window of days around now (`--within`, `--ending-within`, ...): now
#: plus or minus it must stay on the calendar (access_window.MAX_WINDOW_DAYS).
day_count_argument = _bounded_argument(
    MAX_WINDOW_DAYS, gettext_noop("%(value)r is not a number of days from 1 to %(most)d")
)


def count_argument(most: int):
    """argparse `type=` for a count of things to show or take (`--limit`): a whole number
    from 1 to `most`; past it a usage error, where the database would refuse the number."""
    return _bounded_argument(
        most, gettext_noop("%(value)r is not a whole number from 1 to %(most)d")
    )


#: What `--user` and `--course` name: the look-up, and the message when they name nothing.
_NAMED_BY = {
    "user": (user_id_find, gettext_lazy("no user with that e-mail or id")),
    "course": (course_id_find, gettext_lazy("no course with that slug or id")),
}


def option_id(option: str, value: str) -> object:
    """The id that `--user VALUE` (e-mail or id) or `--course VALUE` (slug or id) names; a
    usage error quoting the value when it names nothing."""
    find, missing = _NAMED_BY[option]
    pk = find(value)
    if pk is None:
        raise CommandError(
            gettext("--%(option)s %(value)r: %(missing)s")
            % {"option": option, "value": value, "missing": missing},
            returncode=USAGE,
        )
    return pk


def resolve_actor(email: str | None, permission: Permission) -> User | None:
    """The `--actor` recorded on the audit rows: an active user holding `permission`, globally
    or through a role in at least one course (their selection is then narrowed to those
    courses: `command_scope`).

    Without `--actor` the change is recorded with no actor and source `command`. With it, the
    actor must be someone who could make the same change in the admin, so the audit trail never
    names a person who was not allowed to do what it says they did.
    """
    if email is None:
        return None
    actor = user_find(email)
    if actor is None or not actor.is_active:
        raise CommandError(
            gettext("--actor %(value)r: no active user with that e-mail or id") % {"value": email},
            returncode=USAGE,
        )
    if command_scope(actor, permission).empty:
        raise CommandError(
            gettext("--actor %(value)r: lacks the permission %(permission)s")
            % {"value": email, "permission": permission},
            returncode=USAGE,
        )
    return actor


def command_scope(actor: User | None, permission: Permission) -> Scope:
    """Where a command may act with `permission`: every course without `--actor` (the
    operator's command, as before roles existed), else the actor's scope for it."""
    return EVERYWHERE if actor is None else scope_of(actor, permission)


def add_selection_arguments(parser: CommandParser) -> None:
    group = parser.add_argument_group(
        gettext("selection (one of --user, --course, --all or --csv)")
    )
    group.add_argument("--user", help=gettext("the learner's e-mail address or id"))
    group.add_argument("--course", help=gettext("the course's slug or id"))
    group.add_argument(
        "--all", action="store_true", help=gettext("every enrollment (narrow it with the filters)")
    )
    group.add_argument(
        "--state",
        choices=[state.value for state in AccessState],
        help=gettext("only enrollments in this access state now"),
    )
    group.add_argument(
        "--expiring-before",
        type=instant_argument,
        metavar="DATE",
        help=gettext(
            "only enrollments whose access ends before DATE (ISO 8601; a date means 00:00 UTC)"
        ),
    )


def select_enrollments(
    options: dict, *, scope: Scope = EVERYWHERE
) -> tuple[Selection, RowFailure | None]:
    """The selection for `--user/--course/--all/--state/--expiring-before` within `scope`
    (`command_scope`): named when `--user` and `--course` name one enrollment, else by filter.
    A pair with no enrollment, or whose course lies outside the scope, is a failed row
    (NotEnrolled, exit 1, the same words for both), not an empty selection. Usage errors name
    the option and its value."""
    user_arg, course_arg = options.get("user"), options.get("course")
    if not (user_arg or course_arg or options.get("all")):
        raise CommandError(
            gettext("select enrollments with --user, --course, --all or --csv"), returncode=USAGE
        )
    if options.get("all") and (user_arg or course_arg):
        raise CommandError(
            gettext("--all selects every enrollment: drop --user/--course"), returncode=USAGE
        )
    user_id = option_id("user", user_arg) if user_arg else None
    course_id = option_id("course", course_arg) if course_arg else None
    condition = Q()
    if user_id is not None:
        condition &= Q(user_id=user_id)
    if course_id is not None:
        condition &= Q(course_id=course_id)
    if options.get("state"):
        condition &= access_state_q(options["state"], at=clock.now())
    if options.get("expiring_before") is not None:
        condition &= Q(ended_at__lt=options["expiring_before"])
    queryset = Enrollment.objects.filter(condition)
    if user_id is None or course_id is None:
        # Like the default lists, a filter leaves removed learners out unless --state removed.
        if options.get("state") != AccessState.REMOVED:
            queryset = not_removed(queryset)
        return Selection.by_filter(queryset, scope=scope), None
    try:
        if not scope.covers(course_id):
            raise NotEnrolled()  # what a pair without an enrollment answers (no row read)
        enrollment_get_for_student(user_id=user_id, course_id=course_id)
    except NotEnrolled as error:
        failure = RowFailure(f"--user {user_arg} --course {course_arg}", describe_error(error))
        return Selection.named([]), failure
    return Selection.named(queryset.values_list("pk", flat=True), scope=scope), None


def check_no_selection_with_csv(options: dict) -> None:
    """`--csv` names its own rows: mixing it with selection options would be ambiguous."""
    mixed = [
        f"--{name.replace('_', '-')}"
        for name in ("user", "course", "all", "state", "expiring_before")
        if options.get(name) not in (None, False)
    ]
    if mixed:
        raise CommandError(
            gettext("--csv cannot be combined with %(options)s") % {"options": ", ".join(mixed)},
            returncode=USAGE,
        )
