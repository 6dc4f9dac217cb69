"""Services: every function that writes enrollment state. One transaction each, an audit row for
every access change, domain errors from `enrollments.errors`.

Adapters (GraphQL, admin, management commands) import from here and decide no rule themselves.
"""

from enrollments.services.access import (
    enrollment_extend_access,
    enrollments_extend_access_bulk,
)
from enrollments.services.enrolling import enrollment_create
from enrollments.services.pausing import (
    enrollment_pause,
    enrollment_resume,
    enrollments_pause_bulk,
    enrollments_resume_bulk,
)
from enrollments.services.progress import enrollment_complete_item
from enrollments.services.results import BulkResult

__all__ = [
    "BulkResult",
    "enrollment_complete_item",
    "enrollment_create",
    "enrollment_extend_access",
    "enrollment_pause",
    "enrollment_resume",
    "enrollments_extend_access_bulk",
    "enrollments_pause_bulk",
    "enrollments_resume_bulk",
]

# Expiry reminders (the notify_expiring command).
from enrollments.services.reminders import (  # noqa: E402
    ReminderRun,
    expiry_reminder_send,
    expiry_reminders_send,
)

__all__ += ["ReminderRun", "expiry_reminder_send", "expiry_reminders_send"]
