"""`manage.py erase_learner LEARNER (--dry-run | --yes) [--actor EMAIL]`: pseudonymise a
learner and blank the free text about them, keeping every fact (enrollments/privacy/erasure.py;
docs/privacy.md).

It always prints the preview first: what is erased and what is kept, counted. `--dry-run` stops
there; `--yes` erases, in one transaction, and writes the erasure's own record (who, whom by
id, when, the counts); neither is a usage error that erases nothing. With `--actor`, that
person must hold ERASE_LEARNER (and may not erase themselves, nor a superuser unless they are
one). Nothing here prints the learner's address after the erasure: the output names the
learner by id.

Exit status: 0 erased (or previewed with --dry-run); 1 refused (already erased, a bulk change
still running over their enrollments, ...: the message says why; nothing written); 2 usage
error (an unknown learner, an actor without the permission, neither or both of --dry-run and
--yes). Examples: docs/commands.md.
"""

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext, gettext_lazy

from enrollments import privacy
from enrollments.management.learner_option import add_learner_arguments, learner_and_actor
from enrollments.management.output import SOME_FAILED, translated
from enrollments.management.selection import USAGE
from enrollments.models import AccessChange
from enrollments.permissions import ERASE_LEARNER
from lms.command_options import TextCheckedCommand
from lms.control_characters import terminal_safe


class Command(TextCheckedCommand):
    help = gettext_lazy(
        "Erase a learner (LEARNER: e-mail or id): pseudonymise the account, blank the reasons "
        "about them, keep every fact. Prints the preview; --dry-run stops there, --yes erases. "
        "Exit status: 0 done, 1 refused, 2 usage error."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        add_learner_arguments(
            parser,
            actor_help=gettext(
                "who erases (an active user holding the permission); recorded where it is kept"
            ),
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help=gettext("print what would be erased; change nothing"),
        )
        parser.add_argument("--yes", action="store_true", help=gettext("erase (after the preview)"))

    def handle(self, *args, **options) -> None:
        if options["dry_run"] and options["yes"]:
            raise CommandError(gettext("--dry-run and --yes exclude each other"), returncode=USAGE)
        learner, actor = learner_and_actor(options, ERASE_LEARNER)
        try:
            counts = privacy.erasure_preview(learner, actor=actor)
        except privacy.ErasureRefused as refused:
            raise CommandError(
                terminal_safe(refused.translated()), returncode=SOME_FAILED
            ) from None
        name = f" ({terminal_safe(learner.full_name)})" if learner.full_name else ""
        values = {"id": learner.pk, "email": terminal_safe(learner.email), "name": name}
        if options["yes"]:
            heading = gettext("Erasing learner %(id)s: %(email)s%(name)s")
        else:
            heading = gettext("Would erase learner %(id)s: %(email)s%(name)s")
        self.stdout.write(heading % values)
        self._write_counts(counts)
        if options["dry_run"]:
            self.stdout.write(gettext("Dry run, nothing was changed. To erase: --yes"))
            return
        if not options["yes"]:
            raise CommandError(
                gettext(
                    "nothing was erased: add --yes to erase this learner (--dry-run to preview "
                    "only)"
                ),
                returncode=USAGE,
            )
        try:
            record = privacy.erase_learner(learner, actor=actor, source=AccessChange.Source.COMMAND)
        except privacy.ErasureRefused as refused:
            raise CommandError(
                terminal_safe(refused.translated()), returncode=SOME_FAILED
            ) from None
        learner.refresh_from_db(fields=["email"])
        self.stdout.write(
            gettext(
                "Erased learner %(id)s: now %(email)s, log-in disabled. Erasure record: %(record)s"
            )
            % {"id": learner.pk, "email": learner.email, "record": record.pk}
        )

    def _write_counts(self, counts: dict[str, int]) -> None:
        width = max(len(str(value)) for value in counts.values())
        for key, value in counts.items():
            # The labels are the privacy module's (enrollments/privacy/erasure.py), looked up in
            # the catalogue as they are.
            self.stdout.write(f"  {value:>{width}}  {translated(privacy.LABELS[key])}")
