"""`manage.py notify_expiring --within DAYS`: e-mail learners whose access ends soon.

Safe to run from cron as often as you like: each enrollment gets at most one reminder per end
date (see enrollments/reminders.py for how overlapping runs, changes made while the run goes and
failed sends are handled), and an extension re-arms it. Paused enrollments are not reminded
(selectors.expiry).

A row that fails, for whatever reason, is one line on stderr (the learner, the course, the error)
and counted in the summary; the run goes on and exits 1 (enrollments/reminders.py logs it at ERROR,
with the traceback when it is not a delivery failure).
"""

from datetime import timedelta

from django.core.management.base import CommandParser

from enrollments import clock
from enrollments.management.output import (
    RowFailure,
    enrollment_label,
    exit_for_failures,
    format_instant,
    write_failures,
)
from enrollments.management.selection import positive_int_argument
from enrollments.reminders import SENDING_ERRORS, expiry_reminders_send
from enrollments.selectors.expiry import enrollments_due_expiry_reminder
from lms.command_options import TextCheckedCommand


def _label(enrollment) -> str:
    where = enrollment_label(enrollment.user.email, enrollment.course.slug)
    return f"{where} (access ends {format_instant(enrollment.ended_at)})"


def _reason(error: Exception) -> str:
    if isinstance(error, SENDING_ERRORS):
        return f"sending failed, will retry next run: {error}"
    return f"failed, skipped (tried again next run): {type(error).__name__}: {error}"


class Command(TextCheckedCommand):
    help = (
        "E-mail each learner whose access ends within --within DAYS, once per end date. "
        "Exit status: 0 all sent, 1 some rows failed (each on stderr, the others sent; "
        "retried next run), 2 usage error."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--within",
            type=positive_int_argument,
            required=True,
            metavar="DAYS",
            help="remind learners whose access ends within DAYS from now",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="list who would be reminded; send nothing"
        )

    def handle(self, *args, within: int, dry_run: bool, verbosity: int, **options) -> None:
        if dry_run:
            self._dry_run(timedelta(days=within))
            return
        run = expiry_reminders_send(within=timedelta(days=within))
        if verbosity >= 2:
            for enrollment in run.sent:
                self.stdout.write(f"reminded {_label(enrollment)}")
        summary = f"Sent {len(run.sent)} expiry reminders (access ending within {within} days)."
        if run.already_claimed:
            summary += f" {len(run.already_claimed)} were sent meanwhile by another run."
        if run.no_longer_due:
            summary += (
                f" {len(run.no_longer_due)} were no longer due when their turn came"
                " (extended, paused, removed or reminded meanwhile): not sent."
            )
        if run.failed:
            summary += f" {len(run.failed)} failed (listed on stderr; tried again next run)."
        self.stdout.write(summary)
        write_failures(
            self.stderr,
            (RowFailure(_label(enrollment), _reason(error)) for enrollment, error in run.failed),
        )
        total = len(run.sent) + len(run.already_claimed) + len(run.no_longer_due) + len(run.failed)
        exit_for_failures(len(run.failed), total, noun="reminders")

    def _dry_run(self, within: timedelta) -> None:
        """Lists who the real run would remind now (the same selector), sending nothing."""
        due = enrollments_due_expiry_reminder(within=within, at=clock.now())
        count = 0
        for enrollment in due.select_related("user", "course").iterator(chunk_size=2000):
            self.stdout.write(f"would remind {_label(enrollment)}")
            count += 1
        self.stdout.write(f"Dry run, nothing was sent: {count} learners would be reminded.")
