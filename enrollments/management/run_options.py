"""The bulk commands' runs (enrollments/operations/runs.py) on the command line: `--resume RUN`
and `--background`, the request's identity, finding a run by its id, and the messages of a run
that could not start or stopped.

A command's real run is written down before it changes anything, so a run killed at any point
(kill -9, Ctrl-C, the database gone) is continued with `--resume RUN` and every row ends changed
once. The identity makes "run it again" safe too: while a run is unfinished, the identical
request (same command, same selection options or CSV content, same mode; the reason, the actor
and the batch size do not count) refuses to start and names the run to resume.

Exit statuses (docs/commands.md, "Runs"): an identical run unfinished, a run that stopped
(failed, interrupted) and a cancelled run asked to resume are 1 (something asked is not done);
a malformed or unknown run id (RUN_NOT_FOUND), a run of another command, and options that
cannot go with `--resume` or `--background` are usage errors, 2.
"""

import hashlib
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING

from django.core.management.base import CommandError, CommandParser, OutputWrapper
from django.utils.translation import gettext, ngettext

from enrollments.errors import DomainError, RunNotFound, RunUnfinished
from enrollments.management.output import SOME_FAILED, describe_error, write_failures
from enrollments.management.selection import USAGE, option_id
from enrollments.models import OperationRun
from lms.identifiers import parse_uuid

if TYPE_CHECKING:
    from enrollments.management.bulk import BulkRun

#: The command that continues a run of each operation (`--resume RUN`).
COMMAND_OF_OPERATION = {
    "Extend": "extend_access",
    "Expire": "expire_access",
    "Pause": "pause_membership",
    "Resume": "resume_membership",
    "Remove": "remove_from_course",
}

#: The selection options (selection.add_selection_arguments, and --csv).
SELECTION_OPTIONS = ("user", "course", "all", "state", "expiring_before", "csv")

#: Exit status of a command interrupted by Ctrl-C (the shell's 128 + SIGINT).
INTERRUPTED = 130


def add_run_arguments(parser: CommandParser) -> None:
    group = parser.add_argument_group(gettext("runs (docs/commands.md, Runs)"))
    group.add_argument(
        "--resume",
        metavar="RUN",
        help=gettext(
            "continue the unfinished run RUN (the id a run prints) in the foreground, with no "
            "selection, mode, --reason or --actor: the run keeps its own"
        ),
    )
    group.add_argument(
        "--background",
        action="store_true",
        help=gettext(
            "write the run down and queue it for the job worker (manage.py db_worker); print "
            "its id and return at once (follow it with manage.py jobs show RUN)"
        ),
    )


def given(value: object) -> bool:
    return value not in (None, False, "")


def check_run_options(options: dict, request_options: Sequence[str]) -> None:
    """Usage errors for options that cannot go together: `--resume` takes nothing that defines
    a request (the run has its own, batches included: they were fixed when it was written
    down), `--background` applies the run (no dry run, no --expect,
    and its job's chunk size is the RUNS_CHUNK_SIZE setting)."""
    if options.get("resume") is not None:
        taken = [*request_options, "reason", "actor", "dry_run", "expect", "batch_size"]
        mixed = [f"--{name.replace('_', '-')}" for name in taken if given(options.get(name))]
        if mixed:
            raise CommandError(
                gettext("--resume continues the run as it was asked: drop %(options)s")
                % {"options": ", ".join(mixed)},
                returncode=USAGE,
            )
    if options.get("background"):
        mixed = [
            f"--{name.replace('_', '-')}"
            for name in ("dry_run", "expect", "batch_size")
            if given(options.get(name))
        ]
        if mixed:
            raise CommandError(
                gettext(
                    "--background queues the run for the job worker (its chunk size is the "
                    "RUNS_CHUNK_SIZE setting): drop %(options)s"
                )
                % {"options": ", ".join(mixed)},
                returncode=USAGE,
            )


def csv_digest(columns: Sequence[str], rows: Sequence[object]) -> str:
    """The CSV's content as one hash: its columns and every row with its line."""
    text = json.dumps([list(columns), [repr(row) for row in rows]])
    return hashlib.sha256(text.encode()).hexdigest()


def request_identity(command: str, options: dict, request_options: Sequence[str]) -> str:
    """What makes two runs of `command` the same request: the options in `request_options`
    (`--user` and `--course` as the ids they name, so an e-mail and an id are one request;
    `--csv` as its content's digest, in options["csv_digest"]). SHA-256, hex (64 characters,
    OperationRun.identity's length)."""
    request: dict[str, object] = {"command": command}
    for name in request_options:
        value = options.get(name)
        if name == "csv" and value:
            value = options["csv_digest"]
        elif name in ("user", "course") and value:
            value = str(option_id(name, value))
        elif isinstance(value, datetime):
            value = value.isoformat()
        request[name] = value
    text = json.dumps(request, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def find_run(text: str, label: str = "--resume") -> OperationRun:
    """The run `text` names; a usage error quoting it when it is not a run id or names none."""
    run_id = parse_uuid(text)
    if run_id is None:
        raise CommandError(
            gettext("%(option)s %(value)r: not a run id (a UUID)")
            % {"option": label, "value": text},
            returncode=USAGE,
        )
    run = OperationRun.objects.select_related("actor").filter(pk=run_id).first()
    if run is None:
        raise CommandError(
            f"{label} {text!r}: {describe_error(RunNotFound())}",  # no words of its own
            returncode=USAGE,
        )
    return run


def operation_kinds(run: OperationRun) -> set[str]:
    return {part["operation"]["kind"] for part in run.parts}


def resume_command(run: OperationRun) -> str:
    """How to continue the run in a terminal."""
    commands = {COMMAND_OF_OPERATION.get(kind, "") for kind in operation_kinds(run)}
    if len(commands) == 1 and "" not in commands:
        return f"manage.py {commands.pop()} --resume {run.pk}"
    return f"manage.py jobs retry {run.pk}"


def unfinished_message(error: RunUnfinished) -> str:
    run = OperationRun.objects.filter(pk=error.run_id).first()
    if run is None:  # finished and deleted meanwhile: the next try starts
        return gettext("%(error)s; try again") % {"error": describe_error(error)}
    return gettext(
        "an identical run is unfinished: run %(run)s (%(state)s, %(done)d of %(total)d done) "
        "[%(code)s]. Continue it: %(resume)s (or cancel it: manage.py jobs cancel %(run)s)"
    ) % {
        "run": run.pk,
        "state": run.get_state_display(),
        "done": run.done,
        "total": run.total,
        "code": error.code,
        "resume": resume_command(run),
    }


@contextmanager
def reporting_a_stopped_run(bulk: "BulkRun", stderr: OutputWrapper) -> Iterator[None]:
    """A run that cannot start (an identical one unfinished) or stops (an error, an --until
    that passed meanwhile, Ctrl-C) ends the command with a message naming the run and how to
    continue it, after the failed rows seen so far. Exit status 1 (130 for Ctrl-C)."""
    try:
        yield
    except RunUnfinished as error:
        raise CommandError(unfinished_message(error), returncode=SOME_FAILED) from None
    except (Exception, KeyboardInterrupt) as error:
        if bulk.op_run is None:
            raise
        run = OperationRun.objects.get(pk=bulk.op_run.pk)
        write_failures(stderr, bulk.outcome.failures)
        if isinstance(error, KeyboardInterrupt):
            why, status = gettext("interrupted"), INTERRUPTED
        elif isinstance(error, DomainError):
            why, status = describe_error(error), SOME_FAILED
        else:
            why, status = f"{type(error).__name__}: {error}", SOME_FAILED
        raise CommandError(
            ngettext(
                "run %(run)s stopped (%(why)s) with %(done)d of %(total)d rows done; those stay "
                "done (audit batch %(batch)s). Continue it: %(resume)s",
                "run %(run)s stopped (%(why)s) with %(done)d of %(total)d rows done; those stay "
                "done (audit batch %(batch)s). Continue it: %(resume)s",
                run.total,
            )
            % {
                "run": run.pk,
                "why": why,
                "done": run.done,
                "total": run.total,
                "batch": run.batch_id,
                "resume": resume_command(run),
            },
            returncode=status,
        ) from None
