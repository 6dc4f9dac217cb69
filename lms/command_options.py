"""The text rule (lms.text) for every management command's arguments.

A command argument with an invalid byte arrives as an unpaired surrogate (Python decodes argv
with `surrogateescape`); printed or sent to the database it is a traceback. `TextCheckedCommand`
checks every string option, and every string in a list option, before `handle` runs, and
answers a usage error naming the option (exit status 2, the commands' convention). The value
itself is not echoed: it cannot be written to a UTF-8 terminal.
"""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext

from lms.text import text_problem

#: The commands' exit status for a usage error (docs/commands.md).
USAGE_ERROR = 2


def check_text_arguments(labelled: dict[str, object]) -> None:
    """Raises a usage error for the first argument (by label) whose text breaks the rule; a
    list's strings are checked one by one."""
    for label, value in labelled.items():
        values = value if isinstance(value, list | tuple) else [value]
        for item in values:
            problem = text_problem(item) if isinstance(item, str) else None
            if problem is not None:
                raise CommandError(
                    gettext("%(option)s: the value %(problem)s")
                    % {"option": label, "problem": gettext(problem)},
                    returncode=USAGE_ERROR,
                )


class TranslatedCommand(BaseCommand):
    """A BaseCommand whose `help` may be a lazy translation (`gettext_lazy`, marked where it is
    written): argparse needs a str, so it is made one, in the active language, when the parser
    is built (`manage.py CMD --help`)."""

    def create_parser(self, prog_name: str, subcommand: str, **kwargs):
        if self.help:
            self.help = str(self.help)
        return super().create_parser(prog_name, subcommand, **kwargs)


class TextCheckedCommand(TranslatedCommand):
    """A BaseCommand whose string arguments all pass the text rule before `handle` runs."""

    def execute(self, *args, **options):
        check_text_arguments(
            {gettext("argument %(n)d") % {"n": i}: value for i, value in enumerate(args, 1)}
        )
        check_text_arguments({"--" + name.replace("_", "-"): v for name, v in options.items()})
        return super().execute(*args, **options)
