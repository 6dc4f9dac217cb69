"""The shared shape of extend_access, expire_access, pause_membership, resume_membership and
remove_from_course (the options they share with every changing command: changing.py).

Parse the options, resolve the actor, pick the enrollments (selection options or a CSV, as a
core `Selection`: named or by filter, see selection.select_enrollments), hand them to
`BulkRun`, then render: the summary on stdout, one line per failed row on stderr, and the exit
status (0 all done, 1 some rows failed, 2 usage error). Subclasses only say which operation to
run and, for the extension, how a CSV row's values and the flags make its request.
"""

from collections import defaultdict

from django.core.management.base import CommandParser

from enrollments.errors import DomainError
from enrollments.management.bulk import SelectedOperation
from enrollments.management.changing import ChangingCommand
from enrollments.management.csv_input import CsvRow, read_csv, resolve_rows
from enrollments.management.output import (
    RowFailure,
    describe_error,
    exit_for_failures,
    write_failures,
)
from enrollments.management.selection import (
    add_selection_arguments,
    check_no_selection_with_csv,
    select_enrollments,
)
from enrollments.operations import Operation, Selection


class BulkEnrollmentCommand(ChangingCommand):
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
        self.add_change_arguments(parser)

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
        reason = self.reason_option(options)
        actor = self.actor_option(options)
        default = self.command_line_operation(options)
        if options["csv"]:
            check_no_selection_with_csv(options)
            targets, failures = self._csv_targets(options["csv"], default)
        else:
            targets, failures = self._selection_targets(options, default)
        run, outcome = self.run_targets(
            targets, options, actor=actor, reason=reason, verbs=self.verbs
        )
        total = outcome.total + len(failures)  # rows that never reached the core failed too
        failures += outcome.failures
        self._summary(run, targets, outcome, failed=len(failures), options=options)
        write_failures(self.stderr, failures)
        exit_for_failures(len(failures), total, dry_run=options["dry_run"])

    def _selection_targets(
        self, options, default
    ) -> tuple[list[SelectedOperation], list[RowFailure]]:
        assert default is not None
        selection, failure = select_enrollments(options)
        if failure:
            return [], [failure]
        return [SelectedOperation(operation=default, selection=selection)], []

    def _csv_targets(self, path: str, default) -> tuple[list[SelectedOperation], list[RowFailure]]:
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
            SelectedOperation(
                operation=operation,
                selection=Selection.named(pk for _row, pk in rows),
                where={pk: row.where for row, pk in rows},
                lines={pk: row.line for row, pk in rows},
            )
            for operation, rows in groups.items()
        ]
        return targets, failures

    def _summary(self, run, targets, outcome, *, failed: int, options: dict) -> None:
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
                f"unchanged {outcome.unchanged}, would fail {failed}. To apply exactly this "
                f"plan: --expect {run.fingerprint}"
            )
            return
        self.stdout.write(
            f"Asked: {asked}. Changed {outcome.changed}, unchanged {outcome.unchanged}, "
            f"failed {failed}."
        )
        if outcome.changed and options["verbosity"] >= 2:
            self.stdout.write(f"Audit batch id: {run.batch_id}")
