"""`manage.py undo_batch BATCH_ID`: put back every enrollment a batch changed.

A thin adapter over the core's `Undo` operation (operations/undoing.py says what is restored
and what is skipped). It follows the bulk commands' conventions (bulk_command, bulk, output):
`--dry-run` prints the plan and its fingerprint, `--expect FINGERPRINT` applies exactly that
plan or nothing, `--reason` and `--actor` go on the audit rows (source `command`), one stderr
line per skipped row. Exit status: 0 all undone, 1 some rows skipped, 2 usage error (a
malformed or unknown batch id, a bad option). Examples: docs/commands.md.
"""

from django.core.management.base import CommandError, CommandParser

from enrollments.errors import BatchNotFound, DomainError, InvalidReason
from enrollments.management.bulk import DEFAULT_BATCH_SIZE, BulkRun, Target
from enrollments.management.output import (
    SOME_FAILED,
    describe_error,
    exit_for_failures,
    format_instant,
    write_failures,
)
from enrollments.management.selection import USAGE, positive_int_argument, resolve_actor
from enrollments.operations import Change, Undo
from enrollments.operations.audit import clean_reason
from enrollments.operations.undoing import batch_selection, changed_fields
from lms.command_options import TextCheckedCommand
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


class Command(TextCheckedCommand):
    help = (
        "Undo a batch of access changes (the batch id of its audit rows): each enrollment goes "
        "back to its state before the batch, unless it changed since. "
        "Exit status: 0 all undone, 1 some rows skipped, 2 usage error."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("batch_id", metavar="BATCH_ID", help="the batch id to undo")
        parser.add_argument("--reason", default="", help="recorded on every audit row")
        parser.add_argument(
            "--actor",
            metavar="EMAIL",
            help=f"the staff member recorded as actor (needs {Undo.permission}); default: none",
        )
        confirmed = parser.add_mutually_exclusive_group()
        confirmed.add_argument(
            "--dry-run", action="store_true", help="print what would change and change nothing"
        )
        confirmed.add_argument(
            "--expect",
            metavar="FINGERPRINT",
            help="apply exactly the plan a --dry-run printed, in one transaction, or nothing "
            "if anything changed since (exit status 1)",
        )
        parser.add_argument(
            "--batch-size",
            type=positive_int_argument,
            default=DEFAULT_BATCH_SIZE,
            help=f"enrollments per transaction (default {DEFAULT_BATCH_SIZE})",
        )

    def handle(self, *args, **options) -> None:
        try:
            reason = clean_reason(options["reason"])
        except InvalidReason as error:
            raise CommandError(f"--reason: {describe_error(error)}", returncode=USAGE) from None
        text = options["batch_id"]
        batch_id = parse_uuid(text)
        if batch_id is None:
            raise CommandError(f"BATCH_ID {text!r}: not a batch id (a UUID)", returncode=USAGE)
        actor = resolve_actor(options["actor"], Undo.permission)
        try:
            selection = batch_selection(batch_id)
        except BatchNotFound as error:
            raise CommandError(
                f"BATCH_ID {text!r}: {describe_error(error)}", returncode=USAGE
            ) from None
        target = Target(operation=Undo(batch_id), selection=selection)
        run = UndoRun(
            stdout=self.stdout,
            actor=actor,
            reason=reason,
            dry_run=options["dry_run"],
            batch_size=options["batch_size"],
            show_changes=options["verbosity"] >= 2,
            verbs=("undo", "undid"),
        )
        try:
            outcome = run.run([target], expect=options["expect"])
        except DomainError as error:  # the plan changed since the dry run
            raise CommandError(
                f"{describe_error(error)}; run the dry run again", returncode=SOME_FAILED
            ) from None
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
