"""The "Pause…" and "Resume…" pages (changelist actions and the enrollment page's button): the
confirmation page of `confirming`, with a reason, for the core's Pause and Resume."""

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse

from enrollments.admin.confirming import Target, confirm_operation
from enrollments.models import Enrollment
from enrollments.operations import Pause, Resume

PAUSE_INTRO = (
    "A paused enrollment gives no access until it is resumed. When the course freezes access "
    "during pauses (the default), the paused time is added to the end date on resuming."
)
RESUME_INTRO = (
    "Access comes back at once. When the course freezes access during pauses, the paused "
    "time is added to the end date (the new end below counts it up to now)."
)


def pause(
    model_admin, request: HttpRequest, target: "QuerySet[Enrollment] | Enrollment | Target"
) -> HttpResponse | None:
    return confirm_operation(
        model_admin,
        request,
        target,
        Pause(),
        title="Pause access",
        verb="Paused",
        will="will be paused",
        intro=PAUSE_INTRO,
    )


def resume(
    model_admin, request: HttpRequest, target: "QuerySet[Enrollment] | Enrollment | Target"
) -> HttpResponse | None:
    return confirm_operation(
        model_admin,
        request,
        target,
        Resume(),
        title="Resume access",
        verb="Resumed",
        will="will be resumed",
        intro=RESUME_INTRO,
    )
