"""`manage.py check_progress`: verifies that every enrollment's stored progress
(`items_completed`, `course_status`) equals what its item completions say, and repairs it.

The progress writes keep the stored values (enrollments.progress.counts); this finds what was
written around them (raw SQL, a restored backup, a bug). Without `--repair` it only reads and
exits 1 when some rows differ, so it can run from cron or CI as a check; with `--repair` it
recounts those rows (row-locked, one transaction) and exits 0.
"""

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext, gettext_lazy, ngettext

from enrollments.management.output import SOME_FAILED
from enrollments.management.selection import option_id, positive_int_argument
from enrollments.models import Enrollment
from enrollments.progress.counts import enrollments_recount_progress
from enrollments.selectors.memberships import enrollments_with_stale_progress
from lms.command_options import TranslatedCommand


class Command(TranslatedCommand):
    help = gettext_lazy(
        "Check that each enrollment's stored completed-items count and course status match its "
        "item completions; --repair recounts the rows that differ."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--course", help=gettext("only this course (slug or id)"))
        parser.add_argument(
            "--repair",
            action="store_true",
            help=gettext("recount the rows that differ (else: exit 1)"),
        )
        parser.add_argument(
            "--show",
            type=positive_int_argument,
            default=20,
            metavar="N",
            help=gettext("list at most N differing rows (default 20)"),
        )

    def handle(self, *args, course, repair, show, **options) -> None:
        scope = Enrollment.objects.all()
        if course:
            scope = scope.filter(course_id=option_id("course", course))
        stale = enrollments_with_stale_progress(scope).select_related("user", "course")
        rows = list(stale.order_by("pk"))
        for row in rows[:show]:
            # Translators: the statuses are data (not_started, in_progress, completed).
            self.stdout.write(
                gettext(
                    "%(id)s (%(email)s, %(course)s): stored %(stored)s %(stored_status)s, "
                    "counted %(counted)s %(counted_status)s"
                )
                % {
                    "id": row.pk,
                    "email": row.user.email,
                    "course": row.course.slug,
                    "stored": row.items_completed,
                    "stored_status": row.course_status,
                    "counted": row.counted_completed,
                    "counted_status": row.counted_status,
                }
            )
        if len(rows) > show:
            self.stdout.write(gettext("... and %(count)d more") % {"count": len(rows) - show})
        if not rows:
            self.stdout.write(
                gettext("Stored progress matches the completions of every enrollment.")
            )
            return
        if not repair:
            raise CommandError(
                ngettext(
                    "%(count)d enrollments' stored progress differs from their completions; "
                    "run with --repair to recount them.",
                    "%(count)d enrollments' stored progress differs from their completions; "
                    "run with --repair to recount them.",
                    len(rows),
                )
                % {"count": len(rows)},
                returncode=SOME_FAILED,
            )
        repaired = enrollments_recount_progress(
            queryset=Enrollment.objects.filter(pk__in=[row.pk for row in rows])
        )
        self.stdout.write(
            self.style.SUCCESS(
                ngettext(
                    "Repaired %(count)d enrollments.", "Repaired %(count)d enrollments.", repaired
                )
                % {"count": repaired}
            )
        )
