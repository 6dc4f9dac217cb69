"""What every command that changes enrollments shares: `--reason` and `--actor` for the audit
rows, `--dry-run` or `--expect FINGERPRINT`, and (for the commands run by `BulkRun`)
`--batch-size`; the checks of those options; the run over `BulkRun`; and the answer to a plan
that changed since its dry run.

The commands differ in what they select and in their summaries, not in these: bulk_command's
`BulkEnrollmentCommand` (extend, expire, pause, resume, remove), undo_batch and enroll all
build on `ChangingCommand`, so the options read and fail the same everywhere.
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext, gettext_lazy

from enrollments.errors import DomainError, InvalidReason
from enrollments.management.bulk import DEFAULT_BATCH_SIZE, BulkRun, Outcome, SelectedOperation
from enrollments.management.output import SOME_FAILED, describe_error
from enrollments.management.run_options import reporting_a_stopped_run
from enrollments.management.selection import USAGE, positive_int_argument, resolve_actor
from enrollments.operations.audit import clean_reason
from enrollments.permissions import Permission
from lms.command_options import TextCheckedCommand
from lms.models import User

#: `--expect`'s help where the plan is applied in one transaction by BulkRun.
EXPECT_HELP = gettext_lazy(
    "apply exactly the plan a --dry-run printed, in one transaction, or nothing "
    "if anything changed since (exit status 1)"
)


@contextmanager
def refusing_a_changed_plan(errors: type[DomainError] = DomainError) -> Iterator[None]:
    """`errors` raised inside (the plan changed since the dry run, or went invalid) end the
    command with exit status 1, asking for a new dry run."""
    try:
        yield
    except errors as error:
        raise CommandError(
            gettext("%(error)s; run the dry run again") % {"error": describe_error(error)},
            returncode=SOME_FAILED,
        ) from None


class ChangingCommand(TextCheckedCommand):
    #: The permission an `--actor` must hold: the operation's.
    permission: Permission
    #: `--expect`'s help.
    expect_help: str = EXPECT_HELP  # a lazy translation
    #: Whether the command offers `--batch-size` (those run by BulkRun do).
    batched: bool = True

    def add_change_arguments(self, parser: CommandParser) -> None:
        """--reason, --actor, --dry-run | --expect (and --batch-size), in that order."""
        parser.add_argument("--reason", default="", help=gettext("recorded on every audit row"))
        parser.add_argument(
            "--actor",
            metavar="EMAIL",
            help=gettext(
                "the staff member recorded as actor (needs %(permission)s, globally or "
                "through a course role: the command then acts within their courses only); "
                "default: none, every course"
            )
            % {"permission": self.permission},
        )
        confirmed = parser.add_mutually_exclusive_group()
        confirmed.add_argument(
            "--dry-run",
            action="store_true",
            help=gettext("print what would change and change nothing"),
        )
        confirmed.add_argument("--expect", metavar="FINGERPRINT", help=str(self.expect_help))
        if self.batched:
            parser.add_argument(
                "--batch-size",
                type=positive_int_argument,
                help=gettext("enrollments per transaction (default %(size)d)")
                % {"size": DEFAULT_BATCH_SIZE},
            )

    @staticmethod
    def reason_option(options: dict) -> str:
        """The cleaned `--reason`; a bad one is a usage error. The core checks it too, but
        a dry run writes nothing, and no batch should start."""
        try:
            return clean_reason(options["reason"])
        except InvalidReason as error:
            raise CommandError(
                gettext("--reason: %(error)s") % {"error": describe_error(error)},
                returncode=USAGE,
            ) from None

    def actor_option(self, options: dict) -> User | None:
        """The `--actor`, who must hold the permission globally or in at least one course (a
        usage error otherwise); the command's selection is then built within their scope
        (selection.command_scope)."""
        return resolve_actor(options["actor"], self.permission)

    def run_targets(
        self,
        targets: Sequence[SelectedOperation],
        options: dict,
        *,
        actor: User | None,
        reason: str,
        verbs: tuple[str, str],
        run_class: type[BulkRun] = BulkRun,
        identity: str | None = None,
    ) -> tuple[BulkRun, Outcome]:
        """Runs the targets as the options say (dry run, --expect, --batch-size, verbosity);
        the run (its fingerprint and batch id) and its totals. With an `identity`, a real run
        is a durable run (bulk.BulkRun): one that cannot start or stops ends the command with
        a message naming it (run_options.reporting_a_stopped_run)."""
        run = self.bulk_run(options, actor=actor, reason=reason, verbs=verbs, run_class=run_class)
        run.identity = identity
        durable = identity is not None and not options["dry_run"] and options["expect"] is None
        guard = reporting_a_stopped_run(run, self.stderr) if durable else refusing_a_changed_plan()
        with guard:
            outcome = run.run(targets, expect=options["expect"])
        return run, outcome

    def bulk_run(
        self,
        options: dict,
        *,
        actor: User | None,
        reason: str,
        verbs: tuple[str, str],
        run_class: type[BulkRun] = BulkRun,
    ) -> BulkRun:
        """The BulkRun the options ask for (dry run, --batch-size, verbosity)."""
        return run_class(
            stdout=self.stdout,
            actor=actor,
            reason=reason,
            dry_run=options["dry_run"],
            batch_size=options.get("batch_size") or DEFAULT_BATCH_SIZE,
            show_changes=options["verbosity"] >= 2,
            verbs=verbs,
        )
