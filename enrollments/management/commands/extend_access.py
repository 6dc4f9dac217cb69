"""`manage.py extend_access`: extend, set or remove the end of access of enrollments.

A thin adapter over `services.enrollments_extend_access_bulk` (see bulk_command for the shared
options, exit statuses and output). Examples are in docs/commands.md.
"""

from django.core.management.base import CommandError, CommandParser

from enrollments.errors import DomainError, InvalidExtensionPeriod
from enrollments.management.bulk import Extend, Operation
from enrollments.management.bulk_command import BulkEnrollmentCommand
from enrollments.management.csv_input import CsvRow
from enrollments.management.output import describe_error, format_instant
from enrollments.management.selection import USAGE, instant_argument, parse_instant


class Command(BulkEnrollmentCommand):
    help = (
        "Extend access by --days, to --until, or make it --indefinite, for the enrollments "
        "selected by --user/--course/--all (with --state and --expiring-before) or listed in "
        "--csv. Exit status: 0 all done, 1 some rows failed, 2 usage error."
    )
    permission = "enrollments.extend_access"
    csv_optional_columns = ("days", "until")

    def add_mode_arguments(self, parser: CommandParser) -> None:
        mode = parser.add_argument_group(
            "mode (one of them; CSV rows may give their own days or until)"
        ).add_mutually_exclusive_group()
        mode.add_argument("--days", type=int, help="add N days to the current end of access")
        mode.add_argument(
            "--until",
            type=instant_argument,
            metavar="ISO-DATETIME",
            help="set the end of access (a date means 00:00 UTC; no offset means UTC)",
        )
        mode.add_argument("--indefinite", action="store_true", help="remove the end of access")

    def command_line_operation(self, options: dict) -> Operation | None:
        if options["indefinite"]:
            operation, option = Extend(indefinite=True), "--indefinite"
        elif options["until"] is not None:
            operation = Extend(until=options["until"])
            option = f"--until {format_instant(options['until'])}"
        elif options["days"] is not None:
            operation, option = Extend(days=options["days"]), f"--days {options['days']}"
        elif options["csv"]:
            return None
        else:
            raise CommandError("give one of --days, --until or --indefinite", returncode=USAGE)
        try:
            operation.validate()
        except DomainError as error:
            raise CommandError(f"{option}: {describe_error(error)}", returncode=USAGE) from None
        return operation

    def check_csv_columns(self, path: str, columns: list[str], default: Operation | None) -> None:
        if default is None and not {"days", "until"} & set(columns):
            raise CommandError(
                f"--csv {path!r} has no days or until column: give --days, --until or --indefinite",
                returncode=USAGE,
            )

    def row_operation(self, row: CsvRow, default: Operation | None) -> Operation:
        """The row's own `until` or `days` (the contract's precedence: until wins), else the
        command-line mode. A bad value fails the row, quoting it."""
        until, days = row.extra.get("until", ""), row.extra.get("days", "")
        if until:
            try:
                operation = Extend(until=parse_instant(until))
            except ValueError:
                raise InvalidExtensionPeriod(
                    f"until {until!r} is not an ISO 8601 date or datetime"
                ) from None
            value = f"until {until!r}"
        elif days:
            try:
                operation = Extend(days=int(days))
            except ValueError:
                raise InvalidExtensionPeriod(f"days {days!r} is not a whole number") from None
            value = f"days {days!r}"
        elif default is not None:
            return default
        else:
            raise InvalidExtensionPeriod(
                "the row gives no days or until, and no --days, --until or --indefinite was given"
            )
        try:
            operation.validate()
        except InvalidExtensionPeriod as error:
            raise InvalidExtensionPeriod(f"{value}: {error.detail}") from None
        return operation
