"""`manage.py notify_expiring --within DAYS`: e-mail learners whose access ends soon.

Safe to run from cron as often as you like: each enrollment gets at most one reminder per end
date (see services/reminders.py for how overlapping runs and failed sends are handled), and an
extension re-arms it. Paused enrollments are not reminded (selectors_expiry).
"""

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandParser

from enrollments.management.output import (
    RowFailure,
    enrollment_label,
    exit_for_failures,
    format_instant,
    write_failures,
)
from enrollments.management.selection import positive_int_argument
from enrollments.services import expiry_reminders_send


def _label(enrollment) -> str:
    where = enrollment_label(enrollment.user.email, enrollment.course.slug)
    return f"{where} (access ends {format_instant(enrollment.ended_at)})"


class Command(BaseCommand):
    help = (
        "E-mail each learner whose access ends within --within DAYS, once per end date. "
        "Exit status: 0 all sent, 1 some sends failed (retried next run), 2 usage error."
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
        run = expiry_reminders_send(within=timedelta(days=within), dry_run=dry_run)
        if dry_run or verbosity >= 2:
            for enrollment in run.sent:
                self.stdout.write(
                    f"{'would remind' if dry_run else 'reminded'} {_label(enrollment)}"
                )
        if dry_run:
            self.stdout.write(
                f"Dry run, nothing was sent: {len(run.sent)} learners would be reminded."
            )
            return
        summary = f"Sent {len(run.sent)} expiry reminders (access ending within {within} days)."
        if run.already_claimed:
            summary += f" {len(run.already_claimed)} were sent meanwhile by another run."
        self.stdout.write(summary)
        write_failures(
            self.stderr,
            (
                RowFailure(_label(enrollment), f"sending failed, will retry next run: {error}")
                for enrollment, error in run.failed
            ),
        )
        total = len(run.sent) + len(run.already_claimed) + len(run.failed)
        exit_for_failures(len(run.failed), total, noun="reminders")
