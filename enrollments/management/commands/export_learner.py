"""`manage.py export_learner LEARNER [--output FILE] [--actor EMAIL]`: everything held about a
learner, as one JSON document (enrollments/privacy/document.py; its schema is
enrollments/schemas/learner-export.schema.json; docs/privacy.md says what it holds).

The document goes to stdout, or to FILE, readable by its owner only (mode 600: it is personal
data): created so, or an existing FILE made so before it is emptied and written
(`write_private`). With `--actor`, that person must hold EXPORT_LEARNER_DATA. Exit status: 0
written; 2 usage error (an unknown learner, an actor without the permission, a FILE that cannot
be written). Examples: docs/commands.md.
"""

import os
import stat

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext, gettext_lazy, ngettext

from enrollments import privacy
from enrollments.management.learner_option import add_learner_arguments, learner_and_actor
from enrollments.management.output import raw_stream
from enrollments.management.selection import USAGE
from enrollments.permissions import EXPORT_LEARNER_DATA
from lms.command_options import TextCheckedCommand


class Command(TextCheckedCommand):
    help = gettext_lazy(
        "Export everything held about a learner (LEARNER: e-mail or id) as one JSON document, "
        "to stdout or --output FILE. Exit status: 0 written, 2 usage error."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        add_learner_arguments(
            parser,
            actor_help=gettext(
                "who asks for the export (an active user holding the permission); recorded "
                "where it is kept"
            ),
        )
        parser.add_argument(
            "--output",
            metavar="FILE",
            help=gettext("write the document to FILE (mode 600) instead of stdout"),
        )

    def handle(self, *args, **options) -> None:
        learner, _actor = learner_and_actor(options, EXPORT_LEARNER_DATA)
        document = privacy.learner_export(learner)
        text = privacy.render(document)
        path = options.get("output")
        if not path:
            raw_stream(self.stdout).write(text)
            return
        try:
            write_private(path, text)
        except OSError as error:
            raise CommandError(
                gettext("--output %(path)r: cannot write it (%(error)s)")
                % {"path": path, "error": error.strerror},
                returncode=USAGE,
            ) from None
        enrollments = len(document["enrollments"])
        values = {
            "id": learner.pk,
            "path": path,
            "enrollments": enrollments,
            "rows": sum(len(e["access_changes"]) for e in document["enrollments"]),
        }
        self.stdout.write(
            ngettext(
                "Wrote the data of learner %(id)s to %(path)s: %(enrollments)d enrollments, "
                "%(rows)d audit rows.",
                "Wrote the data of learner %(id)s to %(path)s: %(enrollments)d enrollments, "
                "%(rows)d audit rows.",
                enrollments,
            )
            % values
        )


def write_private(path: str, text: str) -> None:
    """Writes `text` to `path`, readable by its owner only. os.open's mode applies only to a
    file it creates: an existing file (an earlier export's name reused, one made with `touch`)
    keeps its own, often 0644. So the file is opened without truncating it, set to 600, and
    only then emptied and written: a file whose mode cannot be changed (someone else's) is
    refused (OSError) with its content untouched. A device or pipe (`/dev/stdout`) is written
    as it is: its mode is not the document's."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as output:
        if stat.S_ISREG(os.fstat(descriptor).st_mode):
            os.fchmod(descriptor, 0o600)
            os.ftruncate(descriptor, 0)
        output.write(text)
