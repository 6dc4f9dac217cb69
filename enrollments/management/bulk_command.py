"""The shared shape of extend_access, pause_membership and resume_membership.

Parse the options, resolve the actor, pick the enrollments (selection options or a CSV, as a
core `Selection`: named or by filter, see selection.select_enrollments), hand them to
`BulkRun`, then render: the summary on stdout, one line per failed row on stderr, and the exit
status (0 all done, 1 some rows failed, 2 usage error). Subclasses only say which operation to
run and, for the extension, how a CSV row's values and the flags make its request.
"""

from collections import defaultdict

from django.core.management.base import CommandError, CommandParser

from enrollments.errors import DomainError, InvalidReason
from enrollments.management.bulk import DEFAULT_BATCH_SIZE, BulkRun, Target
from enrollments.management.csv_input import CsvRow, read_csv, resolve_rows
from enrollments.management.output import (
    RowFailure,
    describe_error,
    exit_for_failures,
    write_failures,
)
from enrollments.management.selection import (
    USAGE,
    add_selection_arguments,
    check_no_selection_with_csv,
    positive_int_argument,
    resolve_actor,
    select_enrollments,
)
from enrollments.operations import Operation, Selection
from enrollments.operations.audit import clean_reason
from enrollments.permissions import Permission
from lms.command_options import TextCheckedCommand


class BulkEnrollmentCommand(TextCheckedCommand):
    #: The permission an `--actor` must hold: the operation's.
    permission: Permission
    #: "would <verb>" / "<done>" in the lines naming each change.
    verbs: tuple[str, str]
    #: The operation of commands without mode options (pause, resume).
    operation: Operation | None = None
    #: CSV columns besides user and course.
    csv_optional_columns: tuple[str, ...] = ()

    def add_arguments(self, parser: CommandParser) -> None:
        add_selection_arguments(parser)
        parser.add_argument(
            "--csv",
            metavar="FILE",
            help="rows of user,course"
            + (
                f" (optionally {', '.join(self.csv_optional_columns)})"
                if self.csv_optional_columns
                else ""
            )
            + "; '-' reads stdin",
        )
        self.add_mode_arguments(parser)
        parser.add_argument("--reason", default="", help="recorded on every audit row")
        parser.add_argument(
            "--actor",
            metavar="EMAIL",
            help=f"the staff member recorded as actor (needs {self.permission}); default: none",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="print what would change and change nothing"
        )
        parser.add_argument(
            "--batch-size",
            type=positive_int_argument,
            default=DEFAULT_BATCH_SIZE,
            help=f"enrollments per transaction (default {DEFAULT_BATCH_SIZE})",
        )

    def add_mode_arguments(self, parser: CommandParser) -> None:
        """Options choosing what to do (the extension's --days/--until/--indefinite)."""

    def command_line_operation(self, options: dict) -> Operation | None:
        """The operation the options ask for; None when only CSV rows can say. An invalid
        request is a usage error naming the option."""
        return self.operation

    def row_operation(self, row: CsvRow, default: Operation | None) -> Operation:
        """The operation of one CSV row. Raises DomainError for a bad row."""
        assert default is not None
        return default

    def check_csv_columns(self, path: str, columns: list[str], default: Operation | None) -> None:
        """Raises a usage error when the CSV's header cannot work with the options."""

    def handle(self, *args, **options) -> None:
        try:  # the services check it too, but a dry run calls none, and no batch should start
            reason = clean_reason(options["reason"])
        except InvalidReason as error:
            raise CommandError(f"--reason: {describe_error(error)}", returncode=USAGE) from None
        actor = resolve_actor(options["actor"], self.permission)
        default = self.command_line_operation(options)
        if options["csv"]:
            check_no_selection_with_csv(options)
            targets, failures = self._csv_targets(options["csv"], default)
        else:
            targets, failures = self._selection_targets(options, default)
        run = BulkRun(
            stdout=self.stdout,
            actor=actor,
            reason=reason,
            dry_run=options["dry_run"],
            batch_size=options["batch_size"],
            show_changes=options["verbosity"] >= 2,
            verbs=self.verbs,
        )
        outcome = run.run(targets)
        total = outcome.total + len(failures)  # rows that never reached a service failed too
        failures += outcome.failures
        self._summary(targets, outcome, run.batch_id, failed=len(failures), options=options)
        write_failures(self.stderr, failures)
        exit_for_failures(len(failures), total, dry_run=options["dry_run"])

    def _selection_targets(self, options, default) -> tuple[list[Target], list[RowFailure]]:
        assert default is not None
        selected = select_enrollments(options)
        if selected.failure:
            return [], [selected.failure]
        return [Target(operation=default, selection=selected.selection)], []

    def _csv_targets(self, path: str, default) -> tuple[list[Target], list[RowFailure]]:
        """One target per distinct operation, rows kept in file order within each: every row
        names its enrollment, so each target is a named selection."""
        columns, rows = read_csv(path, optional_columns=self.csv_optional_columns)
        self.check_csv_columns(path, columns, default)
        resolved = resolve_rows(rows)
        failures = list(resolved.failures)
        groups: dict[Operation, list] = {}
        for row, enrollment_id in resolved.rows:
            try:
                operation = self.row_operation(row, default)
            except DomainError as error:
                failures.append(row.failure(describe_error(error)))
                continue
            groups.setdefault(operation, []).append((row, enrollment_id))
        targets = [
            Target(
                operation=operation,
                selection=Selection.named(pk for _row, pk in rows),
                where={pk: row.where for row, pk in rows},
                lines={pk: row.line for row, pk in rows},
            )
            for operation, rows in groups.items()
        ]
        return targets, failures

    def _summary(self, targets, outcome, batch_id, *, failed: int, options: dict) -> None:
        if outcome.total == 0 and not failed:
            self.stdout.write("No enrollments match the selection: nothing to do.")
            return
        by_operation: dict[str, int] = defaultdict(int)
        for target in targets:
            by_operation[target.operation.describe()] += target.size()
        asked = "; ".join(f"{what}: {count}" for what, count in by_operation.items()) or "none"
        if options["dry_run"]:
            self.stdout.write(
                f"Dry run, nothing was changed. Asked: {asked}. Would change {outcome.changed}, "
                f"unchanged {outcome.unchanged}, would fail {failed}."
            )
            return
        self.stdout.write(
            f"Asked: {asked}. Changed {outcome.changed}, unchanged {outcome.unchanged}, "
            f"failed {failed}."
        )
        if outcome.changed and options["verbosity"] >= 2:
            self.stdout.write(f"Audit batch id: {batch_id}")
