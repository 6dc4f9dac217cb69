"""`manage.py resume_membership`: resume enrollments, one or many.

A thin adapter over the core's `Resume` operation (see bulk_command for the shared options,
exit statuses and output). Examples are in docs/commands.md.
"""

from django.utils.translation import gettext_lazy

from enrollments.management.bulk_command import BulkEnrollmentCommand
from enrollments.operations import Resume


class Command(BulkEnrollmentCommand):
    help = gettext_lazy(
        "Resume the enrollments selected by --user/--course/--all (with --state and "
        "--expiring-before) or listed in --csv (columns user,course). "
        "Exit status: 0 all done, 1 some rows failed, 2 usage error."
    )
    operation = Resume()
    permission = Resume.permission
    operation_type = Resume
    verbs = (gettext_lazy("resume"), gettext_lazy("resumed"))
