"""`manage.py extend_access`: extend, set or remove the end of access of enrollments.

A thin adapter over the core's `Extend` operation (see bulk_command for the shared options,
exit statuses and output). Examples are in docs/commands.md.

A CSV row's `days` or `until` replaces the flag of the same kind (`--days`, `--until`); then
the contract's precedence picks across kinds, as for every request: `--indefinite` wins over
everything, an `until` (the row's or the flag's) over any `days`. So `--indefinite` with a
`days` column grants indefinite access to every row, and `--until` with a row's `days` sets
that end.

`--from-today` makes every days-based request (the flag's or a row's) count from the later of
the current end and now (operations.Extend's `from_today`); it is refused with --until or
--indefinite, and dropped for a CSV row that gives an until.
"""

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext, gettext_lazy

from enrollments import clock
from enrollments.errors import DomainError, InvalidExtensionPeriod
from enrollments.instants import parse_instant
from enrollments.management.bulk_command import BulkEnrollmentCommand
from enrollments.management.csv_input import CsvRow
from enrollments.management.output import describe_error, error_detail, format_instant
from enrollments.management.selection import USAGE, instant_argument
from enrollments.operations import Extend


class Command(BulkEnrollmentCommand):
    help = gettext_lazy(
        "Extend access by --days, to --until, or make it --indefinite, for the enrollments "
        "selected by --user/--course/--all (with --state and --expiring-before) or listed in "
        "--csv. Exit status: 0 all done, 1 some rows failed, 2 usage error."
    )
    permission = Extend.permission
    operation_type = Extend
    mode_options = ("days", "until", "indefinite", "from_today")
    verbs = (gettext_lazy("extend"), gettext_lazy("extended"))
    csv_optional_columns = ("days", "until")
    from_today = False

    def add_mode_arguments(self, parser: CommandParser) -> None:
        mode = parser.add_argument_group(
            gettext("mode (one of them; CSV rows may give their own days or until)")
        ).add_mutually_exclusive_group()
        mode.add_argument(
            "--days", type=int, help=gettext("add N days to the current end of access")
        )
        mode.add_argument(
            "--until",
            type=instant_argument,
            metavar="ISO-DATETIME",
            help=gettext("set the end of access (a date means 00:00 UTC; no offset means UTC)"),
        )
        mode.add_argument(
            "--indefinite", action="store_true", help=gettext("remove the end of access")
        )
        parser.add_argument(
            "--from-today",
            action="store_true",
            help=gettext(
                "with days (--days or a CSV row's): count them from the later of the current "
                "end and now, so an enrollment that has ended gets them from today"
            ),
        )

    def command_line_operation(self, options: dict) -> Extend | None:
        if options["from_today"] and (options["indefinite"] or options["until"] is not None):
            raise CommandError(
                gettext(
                    "--from-today counts days: it goes with --days or a CSV days column, not "
                    "with --until or --indefinite"
                ),
                returncode=USAGE,
            )
        #: The CSV rows' days count from today too.
        self.from_today = options["from_today"]
        if options["indefinite"]:
            operation, option = Extend(indefinite=True), "--indefinite"
        elif options["until"] is not None:
            operation = Extend(until=options["until"])
            option = f"--until {format_instant(options['until'])}"
        elif options["days"] is not None:
            operation = Extend(days=options["days"], from_today=options["from_today"])
            option = f"--days {options['days']}"
        elif options["csv"]:
            return None
        else:
            raise CommandError(
                gettext("give one of --days, --until or --indefinite"), returncode=USAGE
            )
        try:
            operation.validate(now=clock.now())
        except DomainError as error:
            raise CommandError(f"{option}: {describe_error(error)}", returncode=USAGE) from None
        return operation

    def check_csv_columns(self, path: str, columns: list[str], default: Extend | None) -> None:
        if default is None and not {"days", "until"} & set(columns):
            raise CommandError(
                gettext(
                    "--csv %(path)r has no days or until column: give --days, --until or "
                    "--indefinite"
                )
                % {"path": path},
                returncode=USAGE,
            )

    def row_operation(self, row: CsvRow, default: Extend | None) -> Extend:
        """The row's request: its own `days` / `until` in place of the flag of the same kind,
        then the contract's precedence (Extend drops what a higher value overrides). A bad
        value fails the row, quoting it."""
        until_text, days_text = row.extra.get("until", ""), row.extra.get("days", "")
        flags = default or Extend()
        until, days = flags.until, flags.days
        if until_text:
            try:
                until = parse_instant(until_text)
            except ValueError:
                raise InvalidExtensionPeriod(
                    gettext("until %(value)r is not an ISO 8601 date or datetime")
                    % {"value": until_text}
                ) from None
        if days_text:
            try:
                days = int(days_text)
            except ValueError:
                raise InvalidExtensionPeriod(
                    gettext("days %(value)r is not a whole number") % {"value": days_text}
                ) from None
        operation = Extend(
            days=days, until=until, indefinite=flags.indefinite, from_today=self.from_today
        )
        if operation == Extend():
            raise InvalidExtensionPeriod(
                gettext(
                    "the row gives no days or until, and no --days, --until or --indefinite was "
                    "given"
                )
            )
        try:
            operation.validate(now=clock.now())
        except InvalidExtensionPeriod as error:
            # The flags were checked already: what fails is the row's own value.
            value = f"until {until_text!r}" if operation.until else f"days {days_text!r}"
            raise InvalidExtensionPeriod(f"{value}: {error_detail(error)}") from None
        return operation
