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
from django.utils.translation import gettext, gettext_lazy, ngettext

from enrollments.errors import BatchNotFound, BatchRunUnfinished
from enrollments.management.bulk import BulkRun, SelectedOperation, unknown_enrollment
from enrollments.management.changing import ChangingCommand
from enrollments.management.output import (
    SOME_FAILED,
    describe_error,
    exit_for_failures,
    format_instant,
    translated,
    write_failures,
)
from enrollments.management.selection import USAGE, command_scope
from enrollments.operations import Change, Undo
from enrollments.operations.undoing import batch_selection, changed_fields
from lms.identifiers import parse_uuid


def format_value(name: str, value: object) -> str:
    """A State value as a command line shows it."""
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    if value is None:
        return gettext("indefinite") if name == "ended_at" else gettext("none")
    if isinstance(value, int):
        return str(value)
    return format_instant(value)  # type: ignore[arg-type]


class UndoRun(BulkRun):
    """A BulkRun whose change lines name every field the undo restores."""

    def _change_line(self, change: Change, labels) -> str:
        where = labels.get(change.enrollment_id) or unknown_enrollment(change.enrollment_id)
        moves = ", ".join(
            # The field's label is the core's (operations/undoing.FIELD_LABELS), the same
            # English words the admin's undo page marks: looked up in the catalogue as it is.
            f"{translated(field.label)} {format_value(field.name, field.old)} -> "
            f"{format_value(field.name, field.new)}"
            for field in changed_fields(change)
        )
        return f"{self.change_verb()} {where}: {moves}"  # no words of its own


class Command(ChangingCommand):
    help = gettext_lazy(
        "Undo a batch of access changes (the batch id of its audit rows): each enrollment goes "
        "back to its state before the batch, unless it changed since. "
        "Exit status: 0 all undone, 1 some rows skipped, 2 usage error."
    )
    permission = Undo.permission

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("batch_id", metavar="BATCH_ID", help=gettext("the batch id to undo"))
        self.add_change_arguments(parser)

    def handle(self, *args, **options) -> None:
        reason = self.reason_option(options)
        text = options["batch_id"]
        batch_id = parse_uuid(text)
        if batch_id is None:
            raise CommandError(
                gettext("BATCH_ID %(value)r: not a batch id (a UUID)") % {"value": text},
                returncode=USAGE,
            )
        actor = self.actor_option(options)
        try:
            selection = batch_selection(batch_id, scope=command_scope(actor, self.permission))
        except BatchNotFound:
            # Without the error's detail: a batch outside the actor's courses reads as none.
            raise CommandError(
                gettext("BATCH_ID %(value)r: %(error)s")
                % {"value": text, "error": describe_error(BatchNotFound())},
                returncode=USAGE,
            ) from None
        except BatchRunUnfinished as error:
            # Not a usage error: the same command succeeds once the run is over.
            raise CommandError(
                gettext("BATCH_ID %(value)r: %(error)s")
                % {"value": text, "error": describe_error(error)},
                returncode=SOME_FAILED,
            ) from None
        target = SelectedOperation(operation=Undo(batch_id), selection=selection)
        run, outcome = self.run_targets(
            [target],
            options,
            actor=actor,
            reason=reason,
            verbs=(gettext("undo"), gettext("undid")),
            run_class=UndoRun,
        )
        failed = len(outcome.failures)
        values = {
            "changed": outcome.changed,
            "total": outcome.total,
            "batch": batch_id,
            "unchanged": outcome.unchanged,
            "failed": failed,
        }
        if options["dry_run"]:
            values["fingerprint"] = run.fingerprint
            self.stdout.write(
                ngettext(
                    "Dry run, nothing was changed. Would undo %(changed)d of the %(total)d "
                    "enrollments of batch %(batch)s, unchanged %(unchanged)d, would skip "
                    "%(failed)d. To apply exactly this plan: --expect %(fingerprint)s",
                    "Dry run, nothing was changed. Would undo %(changed)d of the %(total)d "
                    "enrollments of batch %(batch)s, unchanged %(unchanged)d, would skip "
                    "%(failed)d. To apply exactly this plan: --expect %(fingerprint)s",
                    outcome.total,
                )
                % values
            )
        else:
            self.stdout.write(
                ngettext(
                    "Undid %(changed)d of the %(total)d enrollments of batch %(batch)s, "
                    "unchanged %(unchanged)d, skipped %(failed)d.",
                    "Undid %(changed)d of the %(total)d enrollments of batch %(batch)s, "
                    "unchanged %(unchanged)d, skipped %(failed)d.",
                    outcome.total,
                )
                % values
            )
            if outcome.changed:
                self.stdout.write(gettext("Undo batch id: %(batch)s") % {"batch": run.batch_id})
        write_failures(self.stderr, outcome.failures)
        exit_for_failures(failed, outcome.total, dry_run=options["dry_run"])
