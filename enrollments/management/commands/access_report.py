"""`manage.py access_report`: enrollments whose access ends soon, or ended lately.

Read-only. `--format csv` writes RFC 4180 CSV on stdout for spreadsheets and scripts, through
the project's CSV writer (enrollments.csv_output: a name or e-mail that begins like a formula is
written with a leading `'`); the default table is for reading in a terminal, and shows stored
text (names, e-mails, slugs) with escape sequences and other control characters removed
(lms.control_characters.terminal_safe), so no learner's name can recolour, clear or retitle the
operator's terminal, or break a row in two.

Its columns and their values are data, the same in both formats (the COLUMNS names, access
states, ISO instants, `indefinite`): only the sentences around the table are translated.
"""

from datetime import timedelta

from django.core.management.base import CommandParser
from django.utils.translation import gettext, gettext_lazy, ngettext

from enrollments import clock
from enrollments.csv_output import csv_writer
from enrollments.management.output import machine_instant, raw_stream
from enrollments.management.selection import day_count_argument, option_id
from enrollments.selectors.access import enrollment_access_state
from enrollments.selectors.expiry import enrollments_ending_between
from lms.command_options import TextCheckedCommand
from lms.control_characters import terminal_safe

COLUMNS = ("user_email", "user_name", "course", "start_at", "ended_at", "state", "enrollment_id")


class Command(TextCheckedCommand):
    help = gettext_lazy(
        "List the enrollments whose access ends within --ending-within DAYS, or ended within "
        "the last --ended-within DAYS, as a table or --format csv."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        window = parser.add_mutually_exclusive_group(required=True)
        window.add_argument(
            "--ending-within",
            type=day_count_argument,
            metavar="DAYS",
            help=gettext("access ends between now and DAYS from now"),
        )
        window.add_argument(
            "--ended-within",
            type=day_count_argument,
            metavar="DAYS",
            help=gettext("access ended between DAYS ago and now"),
        )
        parser.add_argument("--course", help=gettext("only this course (slug or id)"))
        parser.add_argument("--format", choices=["table", "csv"], default="table")

    def handle(self, *args, ending_within, ended_within, course, format, **options) -> None:
        now = clock.now()
        if ending_within is not None:
            after, until = now, now + timedelta(days=ending_within)
            days = ending_within
        else:
            after, until = now - timedelta(days=ended_within), now
            days = ended_within
        course_id = option_id("course", course) if course else None
        enrollments = enrollments_ending_between(after=after, until=until, course_id=course_id)
        rows = (
            (
                enrollment.user.email,
                enrollment.user.full_name,
                enrollment.course.slug,
                machine_instant(enrollment.start_at),
                machine_instant(enrollment.ended_at),
                str(enrollment_access_state(enrollment, at=now)),
                str(enrollment.pk),
            )
            for enrollment in enrollments.iterator(chunk_size=2000)
        )
        if format == "csv":
            self._write_csv(rows)
        else:
            self._write_table(list(rows), days=days, ending=ending_within is not None)

    def _write_csv(self, rows) -> None:
        writer = csv_writer(raw_stream(self.stdout))  # csv writes its own line endings
        writer.writerow(COLUMNS)
        writer.writerows(rows)

    def _write_table(self, rows: list[tuple[str, ...]], *, days: int, ending: bool) -> None:
        values = {"count": len(rows), "days": days}
        if not rows:
            if ending:
                message = ngettext(
                    "No enrollments ending within %(days)d days.",
                    "No enrollments ending within %(days)d days.",
                    days,
                )
            else:
                message = ngettext(
                    "No enrollments ended within the last %(days)d days.",
                    "No enrollments ended within the last %(days)d days.",
                    days,
                )
            self.stdout.write(message % values)
            return
        rows = [tuple(terminal_safe(cell) for cell in row) for row in rows]
        widths = [
            max(len(str(cell)) for cell in column) for column in zip(COLUMNS, *rows, strict=True)
        ]

        def line(cells) -> str:
            return "  ".join(
                str(cell).ljust(width) for cell, width in zip(cells, widths, strict=True)
            ).rstrip()

        self.stdout.write(line(COLUMNS))
        self.stdout.write(line("-" * width for width in widths))
        for row in rows:
            self.stdout.write(line(row))
        if ending:
            # Translators: the plural form follows the count (the English says "1 enrollments"
            # as before); the days are a second number.
            message = ngettext(
                "%(count)d enrollments ending within %(days)d days.",
                "%(count)d enrollments ending within %(days)d days.",
                len(rows),
            )
        else:
            message = ngettext(
                "%(count)d enrollments ended within the last %(days)d days.",
                "%(count)d enrollments ended within the last %(days)d days.",
                len(rows),
            )
        self.stdout.write(message % values)
