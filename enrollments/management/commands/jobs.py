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
from django.utils.translation import gettext, gettext_lazy, ngettext

from enrollments import clock, privacy
from enrollments.errors import message_of
from enrollments.jobs import runs as run_jobs
from enrollments.jobs import webhooks as webhook_jobs
from enrollments.management.bulk import enrollment_labels, unknown_enrollment
from enrollments.management.output import SOME_FAILED, format_instant, translated
from enrollments.management.run_options import find_run, resume_command
from enrollments.management.selection import count_argument
from enrollments.models import OperationRun
from enrollments.operations import runs
from lms.command_options import TextCheckedCommand
from lms.control_characters import terminal_safe

State = OperationRun.State

#: The most runs `jobs list` shows at once (`--limit`).
MAX_LISTED = 10_000


def started_by(run: OperationRun) -> str:
    """Who started the run: the actor's e-mail, else its source (command, admin)."""
    if run.actor is not None:
        return terminal_safe(run.actor.email)
    return run.source  # a data value (command, admin), as `--state` values are


def when(value: datetime | None) -> str:
    return format_instant(value) if value is not None else "-"


class Command(TextCheckedCommand):
    help = gettext_lazy(
        "The runs of bulk changes: list [--state STATE], show RUN, cancel RUN, retry RUN (a "
        "failed or stale run queued again), sweep (queue again every stale run; for cron). "
        "Exit status: 0 done, 1 the run's state refuses it, 2 usage error."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        listing = actions.add_parser("list", help=gettext("the runs, newest first"))
        listing.add_argument("--state", choices=[state.value for state in State])
        listing.add_argument(
            "--limit",
            type=count_argument(MAX_LISTED),
            default=50,
            help=gettext("at most this many (default 50)"),
        )
        for name, text in (
            ("show", gettext("one run: its state, progress, error and skipped rows")),
            ("cancel", gettext("stop the run between chunks (what committed stays, undoable)")),
            ("retry", gettext("queue a failed or stale run again for the job worker")),
        ):
            action = actions.add_parser(name, help=text)
            action.add_argument("run", metavar="RUN", help=gettext("the run's id"))
        actions.add_parser(
            "sweep",
            help=gettext(
                "queue again every run that lost its runner, delete old drafts, blank audit "
                "reasons past AUDIT_REASON_RETENTION_DAYS (cron)"
            ),
        )

    def handle(self, *args, **options) -> None:
        action = options["action"]
        if action == "list":
            self._list(options["state"], options["limit"])
        elif action == "sweep":
            requeued, discarded = run_jobs.sweep()
            self.stdout.write(
                gettext("Queued again %(runs)d stale runs; deleted %(drafts)d old drafts.")
                % {"runs": len(requeued), "drafts": discarded}
            )
            for run in requeued:
                self.stdout.write(f"  {run.pk}: {run.description}")
            recorded, fanned, endpoints = webhook_jobs.sweep_events()
            self.stdout.write(
                gettext(
                    "Recorded %(recorded)d events of the clock; fanned out %(fanned)d events; "
                    "queued %(endpoints)d webhook endpoints' deliveries."
                )
                % {"recorded": recorded, "fanned": fanned, "endpoints": endpoints}
            )
            retention = privacy.blank_old_reasons()
            if retention is not None:
                self.stdout.write(
                    gettext(
                        "Blanked the reasons of %(audit_reasons_blanked)d audit rows and "
                        "%(run_reasons_blanked)d runs older than %(retention_days)d days "
                        "(AUDIT_REASON_RETENTION_DAYS)."
                    )
                    % retention.counts
                )
        else:
            run = find_run(options["run"], label="RUN")
            getattr(self, f"_{action}")(run)

    def _list(self, state: str | None, limit: int) -> None:
        found = OperationRun.objects.select_related("actor").order_by("-created_at")
        if state:
            found = found.filter(state=state)
        rows = list(found[:limit])
        if not rows:
            if state:
                # Translators: the state is a value of --state (queued, running, failed, ...).
                self.stdout.write(gettext("No %(state)s runs.") % {"state": state})
            else:
                self.stdout.write(gettext("No runs."))
            return
        header = (
            gettext("id"),
            gettext("state"),
            gettext("done/total"),
            gettext("changed"),
            gettext("skipped"),
            gettext("started by"),
            gettext("created"),
        )
        table = [header] + [
            (
                str(run.pk),
                run.state,  # the value `--state` takes
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
        state = run.get_state_display()
        if run.cancel_requested and run.finished_at is None:
            state = gettext("%(state)s (cancel asked)") % {"state": state}
        fields = [
            (gettext("what"), terminal_safe(run.description)),
            (gettext("state"), state),
            (
                gettext("done"),
                gettext(
                    "%(done)d of %(total)d (changed %(changed)d, unchanged %(unchanged)d, "
                    "skipped %(skipped)d)"
                )
                % {
                    "done": run.done,
                    "total": run.total,
                    "changed": run.changed,
                    "unchanged": run.unchanged,
                    "skipped": run.skipped,
                },
            ),
            (gettext("started by"), started_by(run)),
            (gettext("reason"), terminal_safe(run.reason) or "-"),
            (gettext("audit batch"), str(run.batch_id)),
            (gettext("created"), when(run.created_at)),
            (gettext("started"), when(run.started_at)),
            (gettext("heartbeat"), when(run.heartbeat_at)),
            (gettext("finished"), when(run.finished_at)),
        ]
        if run.error:
            fields.append((gettext("error"), terminal_safe(run.error)))
        if run.finished_at is None and run.state != State.PREVIEWED:
            fields.append(
                (
                    gettext("continue it"),
                    gettext("%(command)s (or the job worker)") % {"command": resume_command(run)},
                )
            )
        # The labels' column as wide as its longest label, plus the colon and one space
        # ("  audit batch: ..." in English, as before).
        width = max(len(label) for label, _value in fields) + 2
        lines = [gettext("Run %(run)s") % {"run": run.pk}]
        lines += [f"  {(label + ':').ljust(width)}{value}" for label, value in fields]
        self.stdout.write("\n".join(lines))
        skipped = list(runs.skipped_rows(run))
        if skipped:
            labels = enrollment_labels([pk for pk, _code in skipped])
            if run.skipped > len(skipped):
                heading = ngettext(
                    "Skipped rows (the first %(count)d):",
                    "Skipped rows (the first %(count)d):",
                    len(skipped),
                ) % {"count": len(skipped)}
            else:
                heading = gettext("Skipped rows:")
            self.stdout.write(heading)
            for pk, code in skipped:
                where = labels.get(pk) or unknown_enrollment(pk)
                self.stdout.write(f"  {where}: {translated(message_of(code))} [{code}]")

    def _cancel(self, run: OperationRun) -> None:
        if run.state == State.PREVIEWED:  # no job: runs.cancel refuses it as unknown
            raise CommandError(
                gettext("run %(run)s is an admin preview nobody confirmed: nothing to cancel")
                % {"run": run.pk},
                returncode=SOME_FAILED,
            )
        if run.finished_at is not None:
            raise CommandError(
                gettext("run %(run)s is already %(state)s: nothing to cancel")
                % {"run": run.pk, "state": run.get_state_display()},
                returncode=SOME_FAILED,
            )
        run = runs.cancel(run.pk)
        if run.state == State.CANCELLED:
            self.stdout.write(
                ngettext(
                    "Run %(run)s cancelled: %(done)d of %(total)d rows were done (they stay; "
                    "undo them with manage.py undo_batch %(batch)s).",
                    "Run %(run)s cancelled: %(done)d of %(total)d rows were done (they stay; "
                    "undo them with manage.py undo_batch %(batch)s).",
                    run.total,
                )
                % {"run": run.pk, "done": run.done, "total": run.total, "batch": run.batch_id}
            )
        else:
            self.stdout.write(
                gettext(
                    "Run %(run)s: cancel asked; its runner stops after the chunk in flight "
                    "(follow it: manage.py jobs show %(run)s)."
                )
                % {"run": run.pk}
            )

    def _retry(self, run: OperationRun) -> None:
        stale = {found.pk for found in runs.stale()}
        if run.finished_at is not None:
            raise CommandError(
                gettext("run %(run)s is already %(state)s: nothing to retry")
                % {"run": run.pk, "state": run.get_state_display()},
                returncode=SOME_FAILED,
            )
        if run.state != State.FAILED and run.pk not in stale:
            seen = run.heartbeat_at or run.created_at
            seconds = int((clock.now() - seen).total_seconds())
            raise CommandError(
                gettext(
                    "run %(run)s is %(state)s (last seen %(seconds)d s ago): retry is for "
                    "failed runs and stale ones (manage.py jobs show to follow it)"
                )
                % {"run": run.pk, "state": run.get_state_display(), "seconds": seconds},
                returncode=SOME_FAILED,
            )
        run_jobs.retry(run)
        self.stdout.write(
            gettext(
                "Run %(run)s queued again (%(done)d of %(total)d done): the job worker "
                "(manage.py db_worker) continues it. Follow it: manage.py jobs show %(run)s"
            )
            % {"run": run.pk, "done": run.done, "total": run.total}
        )
