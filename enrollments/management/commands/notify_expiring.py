"""`manage.py notify_expiring --within DAYS`: the reminders' sweep, run from cron.

It claims a reminder for each learner whose access ends within DAYS and queues one send job per
reminder; `manage.py db_worker` sends them (enrollments/reminders.py: the claim's short
transactions, the retries with backoff, what happens to stalled and failed ones). Safe to run
from cron on every app server at once, as often as you like: each enrollment gets at most one
reminder per end date, and an extension re-arms it. Paused enrollments are not reminded
(selectors.expiry).

Reminders that failed for good (the mail server refused every try) and whose end is still ahead
are one line each on stderr at every run, and the run exits 1, until `--retry-failed` gives them
new tries or their end passes.
"""

from datetime import timedelta

from django.core.management.base import CommandParser
from django.utils.translation import gettext, gettext_lazy, ngettext

from enrollments import clock
from enrollments.management.output import (
    RowFailure,
    enrollment_label,
    exit_for_failures,
    format_instant,
    write_failures,
)
from enrollments.management.selection import day_count_argument
from enrollments.models import Enrollment, ExpiryReminder
from enrollments.reminders import retry_failed, sweep
from enrollments.selectors.expiry import enrollments_due_expiry_reminder
from lms.command_options import TextCheckedCommand


def _label(enrollment: Enrollment, ended_at=None) -> str:
    where = enrollment_label(enrollment.user.email, enrollment.course.slug)
    return gettext("%(where)s (access ends %(when)s)") % {
        "where": where,
        "when": format_instant(ended_at or enrollment.ended_at),
    }


def _reminder_label(reminder: ExpiryReminder) -> str:
    return _label(reminder.enrollment, reminder.ended_at)


class Command(TextCheckedCommand):
    help = gettext_lazy(
        "Queue an e-mail to each learner whose access ends within --within DAYS, once per end "
        "date; `manage.py db_worker` sends them, retrying a failing mail server. Exit status: 0 "
        "done, 1 some reminders failed for good (each on stderr; --retry-failed queues them "
        "again), 2 usage error."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--within",
            type=day_count_argument,
            required=True,
            metavar="DAYS",
            help=gettext("remind learners whose access ends within DAYS from now"),
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help=gettext("list who would be reminded; queue nothing"),
        )
        parser.add_argument(
            "--retry-failed",
            action="store_true",
            help=gettext("first give the reminders that failed for good a new set of tries"),
        )

    def handle(
        self, *args, within: int, dry_run: bool, retry_failed: bool, verbosity: int, **options
    ) -> None:
        if dry_run:
            self._dry_run(timedelta(days=within))
            return
        if retry_failed:
            self._retry_failed(verbosity)
        result = sweep(within=timedelta(days=within))
        if verbosity >= 2:
            for reminder in result.queued:
                self.stdout.write(
                    gettext("queued %(reminder)s") % {"reminder": _reminder_label(reminder)}
                )
            for reminder in result.requeued:
                self.stdout.write(
                    gettext("queued again %(reminder)s") % {"reminder": _reminder_label(reminder)}
                )
        # One sentence per fact, joined by a space: each translated whole.
        sentences = [
            ngettext(
                "Queued %(count)d expiry reminders for sending (access ending within %(days)d "
                "days).",
                "Queued %(count)d expiry reminders for sending (access ending within %(days)d "
                "days).",
                len(result.queued),
            )
            % {"count": len(result.queued), "days": within}
        ]
        if result.already_claimed:
            count = len(result.already_claimed)
            sentences.append(
                ngettext(
                    "%(count)d were claimed meanwhile by another run.",
                    "%(count)d were claimed meanwhile by another run.",
                    count,
                )
                % {"count": count}
            )
        if result.busy:
            count = len(result.busy)
            sentences.append(
                ngettext(
                    "%(count)d were being changed: left for the next run.",
                    "%(count)d were being changed: left for the next run.",
                    count,
                )
                % {"count": count}
            )
        if result.requeued:
            count = len(result.requeued)
            sentences.append(
                ngettext(
                    "%(count)d stalled reminders were queued again (is `manage.py db_worker` "
                    "running?).",
                    "%(count)d stalled reminders were queued again (is `manage.py db_worker` "
                    "running?).",
                    count,
                )
                % {"count": count}
            )
        if result.failed:
            count = len(result.failed)
            sentences.append(
                ngettext(
                    "%(count)d failed for good (listed on stderr; --retry-failed queues them "
                    "again).",
                    "%(count)d failed for good (listed on stderr; --retry-failed queues them "
                    "again).",
                    count,
                )
                % {"count": count}
            )
        self.stdout.write(" ".join(sentences))
        write_failures(
            self.stderr,
            (
                RowFailure(
                    _reminder_label(reminder),
                    ngettext(
                        "sending failed %(count)d times, last: %(error)s",
                        "sending failed %(count)d times, last: %(error)s",
                        reminder.attempts,
                    )
                    % {"count": reminder.attempts, "error": reminder.last_error},
                )
                for reminder in result.failed
            ),
        )
        total = len(result.queued) + len(result.already_claimed) + len(result.busy)
        exit_for_failures(len(result.failed), total + len(result.failed), reminders=True)

    def _retry_failed(self, verbosity: int) -> None:
        again = retry_failed()
        if verbosity >= 2:
            for reminder in again:
                self.stdout.write(
                    gettext("retrying %(reminder)s") % {"reminder": _reminder_label(reminder)}
                )
        self.stdout.write(
            ngettext(
                "Queued %(count)d failed expiry reminders again.",
                "Queued %(count)d failed expiry reminders again.",
                len(again),
            )
            % {"count": len(again)}
        )

    def _dry_run(self, within: timedelta) -> None:
        """Lists who the real run would claim now (the same selector), queuing nothing."""
        due = enrollments_due_expiry_reminder(within=within, at=clock.now())
        count = 0
        for enrollment in due.select_related("user", "course").iterator(chunk_size=2000):
            self.stdout.write(gettext("would remind %(learner)s") % {"learner": _label(enrollment)})
            count += 1
        self.stdout.write(
            ngettext(
                "Dry run, nothing was queued: %(count)d learners would be reminded.",
                "Dry run, nothing was queued: %(count)d learners would be reminded.",
                count,
            )
            % {"count": count}
        )
