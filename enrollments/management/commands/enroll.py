"""`manage.py enroll`: enroll learners in courses, one (`--user` with `--course`) or many
(`--csv FILE`, columns user,course and optionally name,ended_at).

A thin adapter over operations.enrolling_learners (the core's `Enroll`): a learner not enrolled
yet is enrolled (end: `--ended-at` / the row's `ended_at`, else the course default); a removed
one is restored (the same enrollment, progress and trail kept); an active one is unchanged
unless an end is given, which then becomes its end of access.

Unknown learners: without `--create-users` an e-mail address nobody has fails its row
(NOT_FOUND), so a typo never creates an account; with it, a learner is created for the address,
named by `--name` / the row's `name` (required: NAME_REQUIRED otherwise).

With `--actor`, a course outside the courses where the actor may enroll is answered exactly
as an unknown course (a usage error for `--course`, a NOT_FOUND row in a CSV): the actor
cannot tell another course from none (enrollments/operations/scope.py).

Output and exit status as the sibling commands (management/output.py): what was (or would be)
done on stdout, one line per failed row on stderr, 0 all done, 1 some rows failed, 2 usage
error. `--dry-run` prints the plan's fingerprint; `--expect FINGERPRINT` applies exactly that
plan or nothing. Examples: docs/commands.md.
"""

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext, gettext_lazy

from enrollments.errors import ChangedSincePreview, InvalidAccessEnd
from enrollments.instants import parse_instant
from enrollments.management.changing import ChangingCommand, refusing_a_changed_plan
from enrollments.management.csv_input import read_csv
from enrollments.management.output import (
    RowFailure,
    describe_error,
    exit_for_failures,
    write_failures,
)
from enrollments.management.selection import USAGE, command_scope
from enrollments.models import AccessChange
from enrollments.operations import Enroll
from enrollments.operations.audit import Attribution
from enrollments.operations.enrolling_learners import Entry, apply_entries, preview_entries
from enrollments.operations.scope import EVERYWHERE, Scope
from enrollments.selectors.by_key import course_ids_by_key, course_key
from lms.models import Course


class Command(ChangingCommand):
    help = gettext_lazy(
        "Enroll learners: --user EMAIL --course SLUG (with --name, --ended-at) or --csv FILE "
        "(columns user,course[,name,ended_at]). Removed learners are restored; --create-users "
        "creates learners for unknown e-mail addresses. Exit status: 0 all done, 1 some rows "
        "failed, 2 usage error."
    )
    permission = Enroll.permission
    expect_help = gettext_lazy(
        "apply exactly the plan a --dry-run printed, or nothing (exit status 1)"
    )
    batched = False  # one transaction, by operations.enrolling_learners

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--user", metavar="EMAIL", help=gettext("the learner's e-mail address or id")
        )
        parser.add_argument("--course", metavar="SLUG", help=gettext("the course's slug or id"))
        parser.add_argument("--name", default="", help=gettext("the name of a learner to create"))
        parser.add_argument(
            "--ended-at",
            metavar="ISO",
            help=gettext("end of access (ISO 8601, UTC when no offset); default: the course's"),
        )
        parser.add_argument(
            "--csv",
            metavar="FILE",
            help=gettext("rows of user,course[,name,ended_at]; '-' reads stdin"),
        )
        parser.add_argument(
            "--create-users",
            action="store_true",
            help=gettext("create a learner for an e-mail address nobody has (needs a name)"),
        )
        self.add_change_arguments(parser)

    _course_text: dict[int, str] = {}
    #: Where the command may enroll: every course, or the `--actor`'s (handle sets it).
    scope: Scope = EVERYWHERE

    def handle(self, *args, **options) -> None:
        reason = self.reason_option(options)
        actor = self.actor_option(options)
        self.scope = command_scope(actor, self.permission)
        entries, failures = self._entries(options)
        create = options["create_users"]
        if options["dry_run"]:
            result = preview_entries(entries, create_users=create, scope=self.scope)
        else:
            with refusing_a_changed_plan(ChangedSincePreview):
                result = apply_entries(
                    entries,
                    create_users=create,
                    by=Attribution(actor, AccessChange.Source.COMMAND, reason),
                    expected=options["expect"],
                )
        rows = result.rows()
        if options["verbosity"] >= 2:
            for outcome in ("enrolled", "restored", "updated"):
                verb = self._verb(outcome, dry_run=options["dry_run"])
                for entry, note in rows[outcome]:
                    self.stdout.write(
                        gettext("%(verb)s: %(where)s (%(note)s)")
                        % {"verb": verb, "where": self._where(entry), "note": note}
                    )
        failures += [
            RowFailure(self._where(entry), describe_error(error), entry.line)
            for entry, error in result.refusals()
        ]
        counts = {key: len(value) for key, value in rows.items() if key != "refused"}
        summary = gettext(
            "enrolled %(enrolled)d, restored %(restored)d, updated %(updated)d, "
            "unchanged %(unchanged)d, failed %(failed)d"
        ) % {**counts, "failed": len(failures)}
        if options["dry_run"]:
            self.stdout.write(
                gettext(
                    "Dry run, nothing was changed. Would have: %(summary)s. To apply exactly "
                    "this plan: --expect %(fingerprint)s"
                )
                % {"summary": summary, "fingerprint": result.fingerprint()}
            )
        else:
            self.stdout.write(gettext("Done: %(summary)s.") % {"summary": summary})
            if options["verbosity"] >= 2 and result.batch_id:
                self.stdout.write(gettext("Audit batch id: %(batch)s") % {"batch": result.batch_id})
        write_failures(self.stderr, failures)
        total = len(entries) + len(failures) - len(rows["refused"])
        exit_for_failures(len(failures), total, dry_run=options["dry_run"])

    @staticmethod
    def _verb(outcome: str, *, dry_run: bool) -> str:
        """How a verbose line starts: "enroll"/"would enroll", "restore", "update"."""
        if dry_run:
            return {
                "enrolled": gettext("would enroll"),
                "restored": gettext("would restore"),
                "updated": gettext("would update"),
            }[outcome]
        return {
            "enrolled": gettext("enroll"),
            "restored": gettext("restore"),
            "updated": gettext("update"),
        }[outcome]

    def _where(self, entry: Entry) -> str:
        course = entry.course.slug if entry.course else self._course_text.get(entry.line, "-")
        values = {"line": entry.line, "user": entry.user or "-", "course": course or "-"}
        if entry.line:
            return gettext("line %(line)d (%(user)s, %(course)s)") % values
        return f"({values['user']}, {values['course']})"  # no words of its own

    def _entries(self, options: dict) -> tuple[list[Entry], list[RowFailure]]:
        """The entries to enroll and the rows that could not even be read (bad end, unknown
        course, wrong number of fields). A missing or mixed selection is a usage error."""
        single = [name for name in ("user", "course") if options[name]]
        if options["csv"]:
            if single or options["name"] or options["ended_at"]:
                raise CommandError(
                    gettext("--csv takes no --user, --course, --name or --ended-at"),
                    returncode=USAGE,
                )
            return self._csv_entries(options["csv"])
        if len(single) != 2:
            raise CommandError(gettext("give --user and --course, or --csv FILE"), returncode=USAGE)
        ended_at = None
        if options["ended_at"]:
            try:
                ended_at = parse_instant(options["ended_at"])
            except ValueError:
                raise CommandError(
                    gettext("--ended-at %(value)r: not an ISO 8601 date or datetime")
                    % {"value": options["ended_at"]},
                    returncode=USAGE,
                ) from None
        course = self._courses([options["course"]]).get(course_key(options["course"]))
        if course is None:
            raise CommandError(
                gettext("--course %(value)r: no course with that slug or id")
                % {"value": options["course"]},
                returncode=USAGE,
            )
        return [Entry(0, options["user"], course, options["name"], ended_at)], []

    def _csv_entries(self, path: str) -> tuple[list[Entry], list[RowFailure]]:
        _columns, rows = read_csv(path, optional_columns=("name", "ended_at"))
        courses = self._courses({row.course for row in rows if row.course})
        self._course_text = {row.line: row.course for row in rows}
        entries, failures = [], []
        for row in rows:
            if row.problem:
                failures.append(row.failure(row.problem))
                continue
            ended_text = row.extra.get("ended_at", "")
            try:
                ended_at = parse_instant(ended_text) if ended_text else None
            except ValueError:
                error = InvalidAccessEnd(
                    gettext("ended_at %(value)r is not an ISO 8601 date") % {"value": ended_text}
                )
                failures.append(row.failure(describe_error(error)))
                continue
            course = courses.get(course_key(row.course))
            entries.append(Entry(row.line, row.user, course, row.extra.get("name", ""), ended_at))
        return entries, failures

    def _courses(self, values) -> dict:
        """{course_key: Course} for the values naming a course within the scope (one query per
        chunk): a course outside it is left out, as one that does not exist."""
        ids = course_ids_by_key(values)
        ids = {key: pk for key, pk in ids.items() if self.scope.covers(pk)}
        by_id = Course.objects.in_bulk(list(ids.values()))
        return {key: by_id[pk] for key, pk in ids.items()}
