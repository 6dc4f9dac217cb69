"""Services: every function that writes enrollment state. One transaction each, an audit row for
every access change, domain errors from `enrollments.errors`.

The access changes (extend, pause, resume) are thin wrappers over the operation core
(enrollments.operations), kept because their names read well at the doors that change one
enrollment; bulk doors call the core directly.
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

__all__ = [
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
    ReminderOutcome,
    ReminderRun,
    expiry_reminder_send,
    expiry_reminders_send,
)

__all__ += ["ReminderOutcome", "ReminderRun", "expiry_reminder_send", "expiry_reminders_send"]
