"""The "Pause…" and "Resume…" pages (changelist actions and the enrollment page's button): the
confirmation page of `confirming`, with a reason, for the core's Pause and Resume."""

from enrollments.admin.confirming import ConfirmationPage
from enrollments.operations import Pause, Resume

PAUSE_INTRO = (
    "A paused enrollment gives no access until it is resumed. When the course freezes access "
    "during pauses (the default), the paused time is added to the end date on resuming."
)
RESUME_INTRO = (
    "Access comes back at once. When the course freezes access during pauses, the paused "
    "time is added to the end date (the new end below counts it up to now)."
)

pause = ConfirmationPage(
    Pause(), title="Pause access", verb="Paused", will="will be paused", intro=PAUSE_INTRO
)
resume = ConfirmationPage(
    Resume(), title="Resume access", verb="Resumed", will="will be resumed", intro=RESUME_INTRO
)
