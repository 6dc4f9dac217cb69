"""The learner's data (issue 25): what is held about a learner, given to them, and erased.

- document.py: `learner_export(user)`, one JSON document with everything held about a learner,
  following the committed schema enrollments/schemas/learner-export.schema.json.
- erasure.py: `erasure_preview(user, actor=)` and `erase_learner(user, actor=, source=)`:
  pseudonymise the learner and blank the free text about them, keeping every fact, with an
  `Erasure` record of its own.
- mentions.py: every text column of the database placed once: where a learner's address may be
  quoted, which columns are theirs, which hold nobody's words.
- retention.py: AUDIT_REASON_RETENTION_DAYS, the periodic blanking of old audit reasons.

The doors: `manage.py export_learner` and `erase_learner`, and the user admin's actions
(enrollments/admin/privacy.py), under EXPORT_LEARNER_DATA and ERASE_LEARNER
(enrollments/permissions.py). docs/privacy.md says what is exported, what erasure keeps and why.
"""

from enrollments.privacy.document import learner_export, render
from enrollments.privacy.erasure import (
    LABELS,
    ErasureRefused,
    erase_learner,
    erasure_preview,
    is_erased,
)
from enrollments.privacy.retention import blank_old_reasons, retention_days

__all__ = [
    "LABELS",
    "ErasureRefused",
    "blank_old_reasons",
    "erase_learner",
    "erasure_preview",
    "is_erased",
    "learner_export",
    "render",
    "retention_days",
]
