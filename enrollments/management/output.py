"""How the commands talk to the operator: progress, failures, summaries and exit statuses.

stdout carries what was (or would be) done and the summary; stderr carries one line per failed
row, naming the row (`line 17 (ann@example.com, python-basics)` for a CSV, the learner and the
course otherwise) and the domain error's contract message and code. The exit status is 0 when
everything asked was done, 1 when some rows failed, 2 for usage errors (raised elsewhere as
`CommandError(..., returncode=2)` or by argparse).

Every line for people is marked for translation (Django's gettext; docs/admin.md "Languages"):
the commands speak LANGUAGE_CODE, English unless a deployment sets it. A domain error's message
is translated here (`describe_error`), its code never. Counts go through `ngettext`; where the
English said the plural for one too ("1 rows failed"), its singular msgid is the same text, so
English output is unchanged while a translation gives each form its own words. Machine output
(JSON, CSV rows and columns, ids, fingerprints, command lines) is never translated.
"""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TextIO

from django.core.management.base import CommandError, OutputWrapper
from django.utils.translation import gettext, ngettext
from tqdm import tqdm

from enrollments.errors import DomainError, utc_text
from lms.control_characters import terminal_safe

#: Exit status when some rows failed and the others were done.
SOME_FAILED = 1


@dataclass(frozen=True, slots=True)
class RowFailure:
    """One row that was not done: where it came from and why."""

    where: str
    reason: str
    #: The CSV line, for ordering the report; 0 outside CSV input.
    line: int = 0

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}"  # no words of its own


def translated(text: str) -> str:
    """A text made elsewhere (a domain error's message, a label of the privacy module) looked
    up in the catalogue as it is: its translation when it is a msgid there, else unchanged.
    Never for "" (gettext would answer the catalogue's header)."""
    return gettext(text) if text else text


def error_message(error: DomainError) -> str:
    """The error's message in the active language: the contract's (enrollments/errors.py marks
    each one), or the words the instance gives (`error.phrase`, a webhook URL's reason)
    translated whole with their values."""
    if error.phrase is not None:
        return error.phrase.translated()
    return translated(error.message)


def error_detail(error: DomainError) -> str | None:
    """The detail that names the bad value, in the active language where the core marked its
    words: a Phrase translated with its values, a template with instants translated before
    they are filled (in UTC, as the commands write instants), a fixed text looked up as it is;
    a bare value (an id, the text typed) is no msgid and stays as it is."""
    if error.detail_phrase is not None:
        return error.detail_phrase.translated()
    if error.detail_template and error.instants:
        return gettext(error.detail_template).format_map(
            {name: utc_text(instant) for name, instant in error.instants.items()}
        )
    return translated(error.detail) if error.detail else error.detail


def describe_error(error: DomainError) -> str:
    """The contract's message (translated: enrollments/errors.py marks each one), the stable
    code, and the detail that names the bad value."""
    text = f"{error_message(error)} [{error.code}]"
    detail = error_detail(error)
    if detail:
        text += f": {detail}"
    return text


def enrollment_label(email: str, slug: str) -> str:
    """How a line names an enrollment: `learner@example.com in course-slug`, stored text made
    safe for a terminal (lms.control_characters.terminal_safe)."""
    # Translators: an enrollment on a command's line: "ann@example.com in python-basics".
    return terminal_safe(gettext("%(email)s in %(course)s") % {"email": email, "course": slug})


def format_instant(value: datetime | None) -> str:
    """An instant on a command's line: ISO 8601 in UTC, or "indefinite" (translated) for no
    end. CSV output writes `machine_instant` instead."""
    if value is None:
        return gettext("indefinite")
    return machine_instant(value)


def machine_instant(value: datetime | None) -> str:
    """An instant as data (a CSV cell): ISO 8601 in UTC, `indefinite` for no end, never
    translated."""
    if value is None:
        return "indefinite"  # a data value, as the CSV's readers expect it
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


class Progress:
    """Counts work done; `write` prints a line without breaking the bar."""

    def __init__(self, stdout: OutputWrapper, bar: tqdm | None = None, stream=None) -> None:
        self._stdout, self._bar, self._stream = stdout, bar, stream

    def update(self, n: int) -> None:
        if self._bar is not None:
            self._bar.update(n)

    def write(self, line: str) -> None:
        if self._bar is None:
            self._stdout.write(line)
        else:
            self._bar.write(line, file=self._stream)


class UnendedWriter:
    """Django's OutputWrapper writing text as given, for writers that manage their own line
    endings (tqdm redraws with \r, which the wrapper would end with a newline; csv ends rows
    with \r\n): `write(text, ending="")`, the wrapper's public way to add no ending. Every
    other attribute (flush, isatty, encoding) is the wrapper's, which passes it on to its
    stream."""

    def __init__(self, stdout: OutputWrapper) -> None:
        self.stdout = stdout

    def write(self, text: str) -> int:
        self.stdout.write(text, ending="")
        return len(text)

    def __getattr__(self, name: str):
        return getattr(self.stdout, name)


def raw_stream(stdout: OutputWrapper | TextIO) -> TextIO:
    """A stream that writes text as given through Django's OutputWrapper (UnendedWriter);
    anything else passed as stdout is used as it is."""
    if isinstance(stdout, OutputWrapper):
        return UnendedWriter(stdout)  # type: ignore[return-value]
    return stdout


@contextmanager
def progress(stdout: OutputWrapper, *, total: int, unit: str = "") -> Iterator[Progress]:
    """A tqdm bar on stdout when stdout is a terminal; none when it is a file, a pipe or cron
    mail, so logs stay clean. `unit`: what one step is, in the active language (an
    enrollment by default)."""
    if not stdout.isatty() or total == 0:
        yield Progress(stdout)
        return
    stream = raw_stream(stdout)  # tqdm needs its \r updates as is
    unit = unit or gettext("enrollment")
    with tqdm(total=total, unit=unit, file=stream, dynamic_ncols=True) as bar:
        yield Progress(stdout, bar, stream)


def write_failures(stderr: OutputWrapper, failures: Iterable[RowFailure]) -> None:
    """One stderr line per failure, CSV input in line order. A row's text or an error's message
    may hold control characters: made safe for the terminal, and one line each."""
    for failure in sorted(failures, key=lambda failure: failure.line):
        stderr.write(terminal_safe(str(failure)))


def exit_for_failures(
    failed: int, total: int, *, dry_run: bool = False, reminders: bool = False
) -> None:
    """Raises the exit status 1 when some rows (or, with `reminders`, reminders) failed, after
    their lines were written."""
    if not failed:
        return
    values = {"failed": failed, "total": total}
    if dry_run:
        raise CommandError(
            ngettext(
                "%(failed)d of %(total)d rows would fail (dry run)",
                "%(failed)d of %(total)d rows would fail (dry run)",
                total,
            )
            % values,
            returncode=SOME_FAILED,
        )
    if reminders:
        message = ngettext(
            "%(failed)d of %(total)d reminders failed (listed above); the others were done",
            "%(failed)d of %(total)d reminders failed (listed above); the others were done",
            total,
        )
    else:
        message = ngettext(
            "%(failed)d of %(total)d rows failed (listed above); the others were done",
            "%(failed)d of %(total)d rows failed (listed above); the others were done",
            total,
        )
    raise CommandError(message % values, returncode=SOME_FAILED)
