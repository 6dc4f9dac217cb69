"""The "Remove from course…" page (changelist action and the enrollment page's button): the
confirmation page of `confirming` (preview, reason, Confirm applying exactly the previewed
plan) for the core's Remove."""

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse

from enrollments.admin.confirming import Target, confirm_operation
from enrollments.models import Enrollment
from enrollments.operations import Remove

INTRO = (
    "The learners below lose access at once and leave the default lists. Nothing is deleted: "
    "their progress and audit trail stay."
)


def remove_from_course(
    model_admin, request: HttpRequest, target: "QuerySet[Enrollment] | Enrollment | Target"
) -> HttpResponse | None:
    return confirm_operation(
        model_admin,
        request,
        target,
        Remove(),
        title="Remove from course",
        verb="Removed",
        will="will be removed",
        intro=INTRO,
    )
