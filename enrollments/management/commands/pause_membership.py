"""`manage.py pause_membership`: pause enrollments, one or many.

A thin adapter over the core's `Pause` operation (see bulk_command for the shared options,
exit statuses and output). Examples are in docs/commands.md.
"""

from django.utils.translation import gettext_lazy

from enrollments.management.bulk_command import BulkEnrollmentCommand
from enrollments.operations import Pause


class Command(BulkEnrollmentCommand):
    help = gettext_lazy(
        "Pause the enrollments selected by --user/--course/--all (with --state and "
        "--expiring-before) or listed in --csv (columns user,course). "
        "Exit status: 0 all done, 1 some rows failed, 2 usage error."
    )
    operation = Pause()
    permission = Pause.permission
    operation_type = Pause
    verbs = (gettext_lazy("pause"), gettext_lazy("paused"))
