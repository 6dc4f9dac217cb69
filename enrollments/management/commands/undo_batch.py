"""`manage.py undo_batch BATCH_ID`: put back every enrollment a batch changed.

A thin adapter over the core's `Undo` operation (operations/undoing.py says what is restored
and what is skipped). It follows the bulk commands' conventions (changing, bulk, output):
`--dry-run` prints the plan and its fingerprint, `--expect FINGERPRINT` applies exactly that
plan or nothing, `--reason` and `--actor` go on the audit rows (source `command`), one stderr
line per skipped row. Exit status: 0 all undone, 1 some rows skipped, 2 usage error (a
malformed or unknown batch id, a bad option). Examples: docs/commands.md.

With `--actor` (a course manager, say), a batch that changed any enrollment outside the
courses where the actor may undo is answered exactly as an unknown batch (BATCH_NOT_FOUND):
the actor cannot tell another course's batch from none (enrollments/operations/scope.py).
"""

from django.core.management.base import CommandError, CommandParser

from enrollments.errors import BatchNotFound
from enrollments.management.bulk import BulkRun, SelectedOperation
from enrollments.management.changing import ChangingCommand
from enrollments.management.output import (
    describe_error,
    exit_for_failures,
    format_instant,
    write_failures,
)
from enrollments.management.selection import USAGE, command_scope
from enrollments.operations import Change, Undo
from enrollments.operations.undoing import batch_selection, changed_fields
from lms.identifiers import parse_uuid


def format_value(name: str, value: object) -> str:
    """A State value as a command line shows it."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        return "indefinite" if name == "ended_at" else "none"
    if isinstance(value, int):
        return str(value)
    return format_instant(value)  # type: ignore[arg-type]


class UndoRun(BulkRun):
    """A BulkRun whose change lines name every field the undo restores."""

    def _change_line(self, change: Change, labels) -> str:
        verb = f"would {self.verb}" if self.dry_run else self.done
        where = labels.get(change.enrollment_id, f"enrollment {change.enrollment_id}")
        moves = ", ".join(
            f"{field.label} {format_value(field.name, field.old)} -> "
            f"{format_value(field.name, field.new)}"
            for field in changed_fields(change)
        )
        return f"{verb} {where}: {moves}"


class Command(ChangingCommand):
    help = (
        "Undo a batch of access changes (the batch id of its audit rows): each enrollment goes "
        "back to its state before the batch, unless it changed since. "
        "Exit status: 0 all undone, 1 some rows skipped, 2 usage error."
    )
    permission = Undo.permission

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("batch_id", metavar="BATCH_ID", help="the batch id to undo")
        self.add_change_arguments(parser)

    def handle(self, *args, **options) -> None:
        reason = self.reason_option(options)
        text = options["batch_id"]
        batch_id = parse_uuid(text)
        if batch_id is None:
            raise CommandError(f"BATCH_ID {text!r}: not a batch id (a UUID)", returncode=USAGE)
        actor = self.actor_option(options)
        try:
            selection = batch_selection(batch_id, scope=command_scope(actor, self.permission))
        except BatchNotFound:
            # Without the error's detail: a batch outside the actor's courses reads as none.
            raise CommandError(
                f"BATCH_ID {text!r}: {describe_error(BatchNotFound())}", returncode=USAGE
            ) from None
        target = SelectedOperation(operation=Undo(batch_id), selection=selection)
        run, outcome = self.run_targets(
            [target],
            options,
            actor=actor,
            reason=reason,
            verbs=("undo", "undid"),
            run_class=UndoRun,
        )
        failed = len(outcome.failures)
        counts = f"of the {outcome.total} enrollments of batch {batch_id}"
        if options["dry_run"]:
            self.stdout.write(
                f"Dry run, nothing was changed. Would undo {outcome.changed} {counts}, "
                f"unchanged {outcome.unchanged}, would skip {failed}. To apply exactly this "
                f"plan: --expect {run.fingerprint}"
            )
        else:
            self.stdout.write(
                f"Undid {outcome.changed} {counts}, unchanged {outcome.unchanged}, "
                f"skipped {failed}."
            )
            if outcome.changed:
                self.stdout.write(f"Undo batch id: {run.batch_id}")
        write_failures(self.stderr, outcome.failures)
        exit_for_failures(failed, outcome.total, dry_run=options["dry_run"])
