"""The "Remove from course…" page (changelist action and the enrollment page's button): the
confirmation page of `confirming` (preview, reason, Confirm applying exactly the previewed
plan) for the core's Remove."""

from enrollments.admin.confirming import ConfirmationPage
from enrollments.operations import Remove

INTRO = (
    "The learners below lose access at once and leave the default lists. Nothing is deleted: "
    "their progress and audit trail stay."
)

remove_from_course = ConfirmationPage(
    Remove(), title="Remove from course", verb="Removed", will="will be removed", intro=INTRO
)
