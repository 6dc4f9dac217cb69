"""`manage.py jobs`: the runs (enrollments/operations/runs.py) in the terminal: list them, show
one, cancel one, queue a failed or stale one again, and sweep the stale ones (for cron).

A run is what a bulk command, a command's `--background` or an admin Confirm of many rows
applies a chunk at a time; its job (`manage.py db_worker`) or `--resume RUN` advances it. This
command reads and controls runs through the runs module only.

Exit statuses: 0 done; 1 the run's state refuses what was asked (cancel a finished run, retry a
run that is done, queued or running with a fresh heartbeat); 2 usage errors (a malformed or
unknown run id, RUN_NOT_FOUND; an unknown --state). Examples: docs/commands.md, "Runs".
"""

from datetime import datetime

from django.core.management.base import CommandError, CommandParser

from enrollments import clock, privacy
from enrollments.errors import message_of
from enrollments.jobs import runs as run_jobs
from enrollments.jobs import webhooks as webhook_jobs
from enrollments.management.bulk import enrollment_labels
from enrollments.management.output import SOME_FAILED, format_instant
from enrollments.management.run_options import find_run, resume_command
from enrollments.models import OperationRun
from enrollments.operations import runs
from lms.command_options import TextCheckedCommand
from lms.control_characters import terminal_safe

State = OperationRun.State

#: A skipped row's reason, by its code (the first error of a shared code).


def started_by(run: OperationRun) -> str:
    """Who started the run: the actor's e-mail, else its source (command, admin)."""
    if run.actor is not None:
        return terminal_safe(run.actor.email)
    return run.source


def when(value: datetime | None) -> str:
    return format_instant(value) if value is not None else "-"


class Command(TextCheckedCommand):
    help = (
        "The runs of bulk changes: list [--state STATE], show RUN, cancel RUN, retry RUN (a "
        "failed or stale run queued again), sweep (queue again every stale run; for cron). "
        "Exit status: 0 done, 1 the run's state refuses it, 2 usage error."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        listing = actions.add_parser("list", help="the runs, newest first")
        listing.add_argument("--state", choices=[state.value for state in State])
        listing.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
        for name, text in (
            ("show", "one run: its state, progress, error and skipped rows"),
            ("cancel", "stop the run between chunks (what committed stays, undoable)"),
            ("retry", "queue a failed or stale run again for the job worker"),
        ):
            action = actions.add_parser(name, help=text)
            action.add_argument("run", metavar="RUN", help="the run's id")
        actions.add_parser(
            "sweep",
            help="queue again every run that lost its runner, delete old drafts, blank audit "
            "reasons past AUDIT_REASON_RETENTION_DAYS (cron)",
        )

    def handle(self, *args, **options) -> None:
        action = options["action"]
        if action == "list":
            self._list(options["state"], options["limit"])
        elif action == "sweep":
            requeued, discarded = run_jobs.sweep()
            self.stdout.write(
                f"Queued again {len(requeued)} stale runs; deleted {discarded} old drafts."
            )
            for run in requeued:
                self.stdout.write(f"  {run.pk}: {run.description}")
            recorded, fanned, endpoints = webhook_jobs.sweep_events()
            self.stdout.write(
                f"Recorded {recorded} events of the clock; fanned out {fanned} events; queued "
                f"{endpoints} webhook endpoints' deliveries."
            )
            retention = privacy.blank_old_reasons()
            if retention is not None:
                self.stdout.write(
                    f"Blanked the reasons of {retention.counts['audit_reasons_blanked']} audit "
                    f"rows and {retention.counts['run_reasons_blanked']} runs older than "
                    f"{retention.counts['retention_days']} days (AUDIT_REASON_RETENTION_DAYS)."
                )
        else:
            run = find_run(options["run"], label="RUN")
            getattr(self, f"_{action}")(run)

    def _list(self, state: str | None, limit: int) -> None:
        found = OperationRun.objects.select_related("actor").order_by("-created_at")
        if state:
            found = found.filter(state=state)
        rows = list(found[: max(limit, 1)])
        if not rows:
            self.stdout.write("No runs." if not state else f"No {state} runs.")
            return
        header = ("id", "state", "done/total", "changed", "skipped", "started by", "created")
        table = [header] + [
            (
                str(run.pk),
                run.state,
                f"{run.done}/{run.total}",
                str(run.changed),
                str(run.skipped),
                started_by(run),
                when(run.created_at),
            )
            for run in rows
        ]
        widths = [max(len(row[i]) for row in table) for i in range(len(header))]
        for row in table:
            self.stdout.write(
                "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
            )

    def _show(self, run: OperationRun) -> None:
        lines = [
            f"Run {run.pk}",
            f"  what:        {terminal_safe(run.description)}",
            f"  state:       {run.get_state_display()}"
            + (" (cancel asked)" if run.cancel_requested and run.finished_at is None else ""),
            f"  done:        {run.done} of {run.total} (changed {run.changed}, unchanged "
            f"{run.unchanged}, skipped {run.skipped})",
            f"  started by:  {started_by(run)}",
            f"  reason:      {terminal_safe(run.reason) or '-'}",
            f"  audit batch: {run.batch_id}",
            f"  created:     {when(run.created_at)}",
            f"  started:     {when(run.started_at)}",
            f"  heartbeat:   {when(run.heartbeat_at)}",
            f"  finished:    {when(run.finished_at)}",
        ]
        if run.error:
            lines.append(f"  error:       {terminal_safe(run.error)}")
        if run.finished_at is None and run.state != State.PREVIEWED:
            lines.append(f"  continue it: {resume_command(run)} (or the job worker)")
        self.stdout.write("\n".join(lines))
        skipped = list(runs.skipped_rows(run))
        if skipped:
            labels = enrollment_labels([pk for pk, _code in skipped])
            more = f" (the first {len(skipped)})" if run.skipped > len(skipped) else ""
            self.stdout.write(f"Skipped rows{more}:")
            for pk, code in skipped:
                where = labels.get(pk, f"enrollment {pk}")
                self.stdout.write(f"  {where}: {message_of(code)} [{code}]")

    def _cancel(self, run: OperationRun) -> None:
        if run.finished_at is not None:
            raise CommandError(
                f"run {run.pk} is already {run.get_state_display()}: nothing to cancel",
                returncode=SOME_FAILED,
            )
        run = runs.cancel(run.pk)
        if run.state == State.CANCELLED:
            self.stdout.write(
                f"Run {run.pk} cancelled: {run.done} of {run.total} rows were done (they stay; "
                f"undo them with manage.py undo_batch {run.batch_id})."
            )
        else:
            self.stdout.write(
                f"Run {run.pk}: cancel asked; its runner stops after the chunk in flight "
                f"(follow it: manage.py jobs show {run.pk})."
            )

    def _retry(self, run: OperationRun) -> None:
        stale = {found.pk for found in runs.stale()}
        if run.finished_at is not None:
            raise CommandError(
                f"run {run.pk} is already {run.get_state_display()}: nothing to retry",
                returncode=SOME_FAILED,
            )
        if run.state != State.FAILED and run.pk not in stale:
            seen = run.heartbeat_at or run.created_at
            seconds = int((clock.now() - seen).total_seconds())
            raise CommandError(
                f"run {run.pk} is {run.get_state_display()} (last seen {seconds} s ago): retry "
                "is for failed runs and stale ones (manage.py jobs show to follow it)",
                returncode=SOME_FAILED,
            )
        run_jobs.retry(run)
        self.stdout.write(
            f"Run {run.pk} queued again ({run.done} of {run.total} done): the job worker "
            f"(manage.py db_worker) continues it. Follow it: manage.py jobs show {run.pk}"
        )
