"""The shared shape of extend_access, expire_access, pause_membership, resume_membership and
remove_from_course (the options they share with every changing command: changing.py).

Parse the options, resolve the actor, pick the enrollments (selection options or a CSV, as a
core `Selection`: named or by filter, see selection.select_enrollments), hand them to
`BulkRun`, then render: the summary on stdout, one line per failed row on stderr, and the exit
status (0 all done, 1 some rows failed, 2 usage error). Subclasses only say which operation to
run and, for the extension, how a CSV row's values and the flags make its request.

A real run (not `--dry-run`, not `--expect`) is a durable run (run_options): written down,
applied a chunk per transaction, named in the summary; `--resume RUN` continues one that
stopped, `--background` queues one for the job worker.

With `--actor`, every selection (options or CSV) is built within the actor's scope for the
operation's permission (selection.command_scope): a filter never reaches a row outside their
courses, a named one outside them fails as a pair without an enrollment, and the course
staff limits' refusals (EXTENSION_OVER_COURSE_LIMIT, REASON_REQUIRED) are failed rows like any
other skip.
"""

from collections import defaultdict

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext, ngettext

from enrollments.errors import DomainError
from enrollments.events.previewing import PlannedDeliveries, planned_deliveries
from enrollments.jobs import runs as run_jobs
from enrollments.management.bulk import BulkRun, SelectedOperation
from enrollments.management.changing import ChangingCommand
from enrollments.management.csv_input import CsvRow, read_csv, resolve_rows
from enrollments.management.output import (
    SOME_FAILED,
    RowFailure,
    describe_error,
    exit_for_failures,
    write_failures,
)
from enrollments.management.run_options import (
    SELECTION_OPTIONS,
    add_run_arguments,
    check_run_options,
    csv_digest,
    find_run,
    operation_kinds,
    reporting_a_stopped_run,
    request_identity,
    resume_command,
)
from enrollments.management.selection import (
    USAGE,
    add_selection_arguments,
    check_no_selection_with_csv,
    command_scope,
    select_enrollments,
)
from enrollments.models import OperationRun
from enrollments.operations import Operation, Selection
from enrollments.operations.scope import EVERYWHERE, Scope


def deliveries_sentence(planned: PlannedDeliveries) -> str:
    """What applying a dry run's plan sends to webhook endpoints: "Applying this plan sends 3
    events to 2 webhook endpoints.", or that no endpoint receives them (the words of
    `PlannedDeliveries.sentence`, written here whole for translation; the admin's preview says
    the same with "Confirming")."""
    count = planned.events
    if not planned.endpoints:
        return ngettext(
            "No enabled webhook endpoint receives this %(count)s event: nothing is sent.",
            "No enabled webhook endpoint receives these %(count)s events: nothing is sent.",
            count,
        ) % {"count": f"{count:,}"}
    events = ngettext("%(count)s event", "%(count)s events", count) % {"count": f"{count:,}"}
    endpoints = ngettext(
        "%(count)s webhook endpoint", "%(count)s webhook endpoints", planned.endpoints
    ) % {"count": planned.endpoints}
    # Translators: a dry run's note: "Applying this plan sends 3 events to 2 webhook endpoints."
    return gettext("Applying this plan sends %(events)s to %(endpoints)s.") % {
        "events": events,
        "endpoints": endpoints,
    }


class BulkEnrollmentCommand(ChangingCommand):
    #: "would <verb>" / "<done>" in the lines naming each change.
    verbs: tuple[str, str]
    #: The operation of commands without mode options (pause, resume).
    operation: Operation | None = None
    #: The operation's class: a run of another operation is not this command's to resume.
    operation_type: type[Operation]
    #: The options that choose what to do (add_mode_arguments): part of the request's identity.
    mode_options: tuple[str, ...] = ()
    #: CSV columns besides user and course.
    csv_optional_columns: tuple[str, ...] = ()

    @property
    def command_name(self) -> str:
        return type(self).__module__.rsplit(".", 1)[-1]

    def add_arguments(self, parser: CommandParser) -> None:
        add_selection_arguments(parser)
        parser.add_argument(
            "--csv",
            metavar="FILE",
            help=(
                gettext("rows of user,course (optionally %(columns)s); '-' reads stdin")
                % {"columns": ", ".join(self.csv_optional_columns)}
                if self.csv_optional_columns
                else gettext("rows of user,course; '-' reads stdin")
            ),
        )
        self.add_mode_arguments(parser)
        self.add_change_arguments(parser)
        add_run_arguments(parser)

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
        request_options = (*SELECTION_OPTIONS, *self.mode_options)
        check_run_options(options, request_options)
        if options["resume"] is not None:
            self._resume(options)
            return
        reason = self.reason_option(options)
        actor = self.actor_option(options)
        default = self.command_line_operation(options)
        scope = command_scope(actor, self.permission)
        if options["csv"]:
            check_no_selection_with_csv(options)
            targets, failures = self._csv_targets(options["csv"], default, options, scope=scope)
        else:
            targets, failures = self._selection_targets(options, default, scope=scope)
        identity = None
        if not options["dry_run"] and options["expect"] is None:
            identity = self._identity(options, request_options, scope)
        if options["background"]:
            self._background(targets, failures, actor=actor, reason=reason, identity=identity)
            return
        run, outcome = self.run_targets(
            targets, options, actor=actor, reason=reason, verbs=self.verbs, identity=identity
        )
        total = outcome.total + len(failures)  # rows that never reached the core failed too
        failures += outcome.failures
        self._summary(run, targets, outcome, failed=len(failures), options=options)
        write_failures(self.stderr, failures)
        exit_for_failures(len(failures), total, dry_run=options["dry_run"])

    def _identity(self, options: dict, request_options, scope: Scope) -> str:
        """The request's identity (run_options.request_identity); an `--actor`'s scope is part
        of it, since the same options select other rows for another scope (and a scoped actor
        must not be told of a run reaching beyond their courses). Unscoped requests keep the
        identity they always had."""
        if scope.everywhere:
            return request_identity(self.command_name, options, request_options)
        courses = ",".join(sorted(map(str, scope.courses or ())))
        limited = ",".join(sorted(map(str, scope.limited)))
        scoped = {**options, "actor_scope": f"{courses}|{limited}"}
        return request_identity(self.command_name, scoped, (*request_options, "actor_scope"))

    def _selection_targets(
        self, options, default, *, scope: Scope = EVERYWHERE
    ) -> tuple[list[SelectedOperation], list[RowFailure]]:
        assert default is not None
        selection, failure = select_enrollments(options, scope=scope)
        if failure:
            return [], [failure]
        return [SelectedOperation(operation=default, selection=selection)], []

    def _csv_targets(
        self, path: str, default, options: dict, *, scope: Scope = EVERYWHERE
    ) -> tuple[list[SelectedOperation], list[RowFailure]]:
        """One target per distinct operation, rows kept in file order within each: every row
        names its enrollment, so each target is a named selection within `scope` (a row
        outside it fails as a pair without an enrollment). The file's digest goes in
        options["csv_digest"] (the request's identity)."""
        columns, rows = read_csv(path, optional_columns=self.csv_optional_columns)
        options["csv_digest"] = csv_digest(columns, rows)
        self.check_csv_columns(path, columns, default)
        resolved = resolve_rows(rows, scope=scope)
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
                selection=Selection.named((pk for _row, pk in rows), scope=scope),
                where={pk: row.where for row, pk in rows},
                lines={pk: row.line for row, pk in rows},
            )
            for operation, rows in groups.items()
        ]
        return targets, failures

    def _summary(self, run, targets, outcome, *, failed: int, options: dict) -> None:
        if outcome.total == 0 and not failed:
            self.stdout.write(gettext("No enrollments match the selection: nothing to do."))
            return
        by_operation: dict[str, int] = defaultdict(int)
        for target in targets:
            by_operation[target.operation.describe()] += target.size()
        asked = "; ".join(f"{what}: {count}" for what, count in by_operation.items())
        values = {
            "asked": asked or gettext("none"),
            "changed": outcome.changed,
            "unchanged": outcome.unchanged,
            "failed": failed,
            "fingerprint": run.fingerprint if options["dry_run"] else "",
        }
        if options["dry_run"]:
            changes = [change for plan in run.plans for change in plan.changes]
            if changes:
                self.stdout.write(deliveries_sentence(planned_deliveries(changes)))
            # Last: the fingerprint ends the output (scripts take its last word).
            self.stdout.write(
                gettext(
                    "Dry run, nothing was changed. Asked: %(asked)s. Would change %(changed)d, "
                    "unchanged %(unchanged)d, would fail %(failed)d. To apply exactly this "
                    "plan: --expect %(fingerprint)s"
                )
                % values
            )
            return
        self.stdout.write(
            gettext(
                "Asked: %(asked)s. Changed %(changed)d, unchanged %(unchanged)d, failed %(failed)d."
            )
            % values
        )
        if run.op_run is not None:
            self._run_lines(run.op_run)
        elif outcome.changed and options["verbosity"] >= 2:
            self.stdout.write(gettext("Audit batch id: %(batch)s") % {"batch": run.batch_id})

    def _run_lines(self, op_run: OperationRun) -> None:
        """The run's id and state, and its audit batch (what undo_batch takes)."""
        self.stdout.write(
            gettext("Run %(run)s: %(state)s.")
            % {"run": op_run.pk, "state": op_run.get_state_display()}
        )
        self.stdout.write(gettext("Audit batch id: %(batch)s") % {"batch": op_run.batch_id})

    def _background(self, targets, failures, *, actor, reason: str, identity) -> None:
        """Writes the run down, queues its job, says how to follow it; returns at once. Rows
        that never reached the run (a CSV's bad rows) are listed and make the exit status 1."""
        bulk = BulkRun(
            stdout=self.stdout, actor=actor, reason=reason, dry_run=False, identity=identity
        )
        with reporting_a_stopped_run(bulk, self.stderr):
            op_run = bulk.start_background(targets)
        if op_run is None:
            self.stdout.write(gettext("No enrollments match the selection: nothing to do."))
        else:
            run_jobs.enqueue(op_run)
            self.stdout.write(
                ngettext(
                    "Run %(run)s queued: %(description)s, %(total)d enrollments. "
                    "The job worker (manage.py db_worker) applies it.",
                    "Run %(run)s queued: %(description)s, %(total)d enrollments. "
                    "The job worker (manage.py db_worker) applies it.",
                    op_run.total,
                )
                % {"run": op_run.pk, "description": op_run.description, "total": op_run.total}
            )
            self.stdout.write(self._follow(op_run))
            self.stdout.write(gettext("Audit batch id: %(batch)s") % {"batch": op_run.batch_id})
        write_failures(self.stderr, failures)
        total = (op_run.total if op_run else 0) + len(failures)
        if failures:
            raise CommandError(
                ngettext(
                    "%(failed)d of %(total)d rows failed (listed above); the run has the others",
                    "%(failed)d of %(total)d rows failed (listed above); the run has the others",
                    total,
                )
                % {"failed": len(failures), "total": total},
                returncode=SOME_FAILED,
            )

    @staticmethod
    def _follow(op_run: OperationRun) -> str:
        return gettext("Follow it: manage.py jobs show %(run)s") % {"run": op_run.pk}

    def _resume(self, options: dict) -> None:
        """`--resume RUN`: continues the run in the foreground (or queues it with
        --background). A finished run is not run again: done exits 0, cancelled 1."""
        op_run = find_run(options["resume"])
        if operation_kinds(op_run) != {self.operation_type.__name__}:
            raise CommandError(
                gettext(
                    "--resume %(run)s: a run of %(description)r, not of %(command)s: %(resume)s"
                )
                % {
                    "run": op_run.pk,
                    "description": op_run.description,
                    "command": self.command_name,
                    "resume": resume_command(op_run),
                },
                returncode=USAGE,
            )
        if op_run.state == OperationRun.State.PREVIEWED:
            raise CommandError(
                gettext("--resume %(run)s: an admin preview nobody confirmed") % {"run": op_run.pk},
                returncode=USAGE,
            )
        if op_run.finished_at is not None:
            self._finished(op_run)
            return
        if options["background"]:
            # Queued as staff's Retry queues it: a job resumes a queued run, not a failed one.
            op_run = run_jobs.retry(op_run)
            self.stdout.write(
                gettext("Run %(run)s queued again: %(description)s.")
                % {"run": op_run.pk, "description": op_run.description}
            )
            self.stdout.write(self._follow(op_run))
            return
        bulk = self.bulk_run(options, actor=op_run.actor, reason=op_run.reason, verbs=self.verbs)
        with reporting_a_stopped_run(bulk, self.stderr):
            outcome = bulk.resume(op_run)
        op_run = bulk.op_run
        assert op_run is not None
        failed = len(outcome.failures)
        self.stdout.write(
            gettext(
                "Resumed run %(run)s (%(description)s). Now: changed %(changed)d, "
                "unchanged %(unchanged)d, failed %(failed)d. In all: changed %(all_changed)d, "
                "unchanged %(all_unchanged)d, failed %(all_failed)d of %(total)d."
            )
            % {
                "run": op_run.pk,
                "description": op_run.description,
                "changed": outcome.changed,
                "unchanged": outcome.unchanged,
                "failed": failed,
                "all_changed": op_run.changed,
                "all_unchanged": op_run.unchanged,
                "all_failed": op_run.skipped,
                "total": op_run.total,
            }
        )
        self._run_lines(op_run)
        write_failures(self.stderr, outcome.failures)
        if op_run.skipped > failed:
            before = op_run.skipped - failed
            self.stderr.write(
                ngettext(
                    "%(count)d rows failed before: manage.py jobs show %(run)s",
                    "%(count)d rows failed before: manage.py jobs show %(run)s",
                    before,
                )
                % {"count": before, "run": op_run.pk}
            )
        if op_run.state == OperationRun.State.CANCELLED:
            raise CommandError(
                ngettext(
                    "run %(run)s was cancelled meanwhile: %(done)d of %(total)d rows done",
                    "run %(run)s was cancelled meanwhile: %(done)d of %(total)d rows done",
                    op_run.total,
                )
                % {"run": op_run.pk, "done": op_run.done, "total": op_run.total},
                returncode=SOME_FAILED,
            )
        exit_for_failures(op_run.skipped, op_run.total)

    def _finished(self, op_run: OperationRun) -> None:
        """A finished run asked to resume: nothing to do (0) when done, 1 when cancelled."""
        counts = gettext(
            "changed %(changed)d, unchanged %(unchanged)d, failed %(failed)d of %(total)d"
        ) % {
            "changed": op_run.changed,
            "unchanged": op_run.unchanged,
            "failed": op_run.skipped,
            "total": op_run.total,
        }
        if op_run.state == OperationRun.State.CANCELLED:
            raise CommandError(
                gettext(
                    "run %(run)s was cancelled (%(counts)s): nothing to resume; the rows it did "
                    "not reach need a new run"
                )
                % {"run": op_run.pk, "counts": counts},
                returncode=SOME_FAILED,
            )
        self.stdout.write(
            gettext("Run %(run)s is already done (%(counts)s): nothing to resume.")
            % {"run": op_run.pk, "counts": counts}
        )
        self._run_lines(op_run)
