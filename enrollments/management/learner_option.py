"""The learner's data commands' shared options: LEARNER (an e-mail address or an id) and
`--actor` under the command's permission (enrollments/privacy)."""

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext

from enrollments.management.selection import USAGE, resolve_actor
from enrollments.permissions import Permission
from enrollments.selectors.by_key import user_find
from lms.control_characters import terminal_safe
from lms.models import User


def add_learner_arguments(parser: CommandParser, *, actor_help: str) -> None:
    """LEARNER and `--actor`, whose help (`actor_help`, translated) says who the actor is."""
    parser.add_argument(
        "learner", metavar="LEARNER", help=gettext("the learner's e-mail address or id")
    )
    parser.add_argument("--actor", metavar="EMAIL", help=actor_help)


def find_learner(value: str) -> User:
    """The user LEARNER names; a usage error (exit 2) quoting the value when none."""
    learner = user_find(value.strip())
    if learner is None:
        raise CommandError(
            gettext("LEARNER %(value)r: no user with that e-mail or id")
            % {"value": terminal_safe(value)},
            returncode=USAGE,
        )
    return learner


def learner_and_actor(options: dict, permission: Permission) -> tuple[User, User | None]:
    """The learner, and the `--actor` holding `permission` (checked first: a refused actor
    learns nothing about whether the learner exists)."""
    actor = resolve_actor(options.get("actor"), permission)
    return find_learner(options["learner"]), actor
