"""`manage.py remove_from_course`: remove learners from courses, one or many.

A thin adapter over the core's `Remove` operation (see bulk_command for the shared options,
exit statuses and output). Nothing is deleted: the enrollments get the removal mark, keep
their progress and audit trail, and `manage.py enroll` (the core's `Enroll`) brings the same
enrollment back. Examples: docs/commands.md.
"""

from django.utils.translation import gettext_lazy

from enrollments.management.bulk_command import BulkEnrollmentCommand
from enrollments.operations import Remove


class Command(BulkEnrollmentCommand):
    help = gettext_lazy(
        "Remove from their course the enrollments selected by --user/--course/--all (with "
        "--state and --expiring-before) or listed in --csv (columns user,course); nothing is "
        "deleted. Exit status: 0 all done, 1 some rows failed, 2 usage error."
    )
    operation = Remove()
    permission = Remove.permission
    operation_type = Remove
    verbs = (gettext_lazy("remove"), gettext_lazy("removed"))
