"""`manage.py expire_access`: end access now, or set an earlier end, for enrollments.

A thin adapter over the core's `Expire` operation (see bulk_command for the shared options,
exit statuses and output). `--at` gives the new end (default: now); an enrollment whose end is
already earlier than `--at` fails its row (END_NOT_EARLIER: a later end is an extension), one
already ended when asked "now" is unchanged. Examples: docs/commands.md.
"""

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext, gettext_lazy

from enrollments import clock
from enrollments.errors import DomainError
from enrollments.management.bulk_command import BulkEnrollmentCommand
from enrollments.management.output import describe_error, format_instant
from enrollments.management.selection import USAGE, instant_argument
from enrollments.operations import Expire


class Command(BulkEnrollmentCommand):
    help = gettext_lazy(
        "End access now, or at an earlier --at, for the enrollments selected by "
        "--user/--course/--all (with --state and --expiring-before) or listed in --csv "
        "(columns user,course). Exit status: 0 all done, 1 some rows failed, 2 usage error."
    )
    permission = Expire.permission
    operation_type = Expire
    mode_options = ("at",)
    verbs = (gettext_lazy("end access of"), gettext_lazy("ended access of"))

    def add_mode_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--at",
            type=instant_argument,
            metavar="ISO-DATETIME",
            help=gettext(
                "the new end of access, earlier than the current one (a date means 00:00 UTC; "
                "no offset means UTC); default: now"
            ),
        )

    def command_line_operation(self, options: dict) -> Expire:
        operation = Expire(at=options["at"])
        try:
            operation.validate(now=clock.now())
        except DomainError as error:
            raise CommandError(
                f"--at {format_instant(options['at'])}: {describe_error(error)}", returncode=USAGE
            ) from None
        return operation
