"""What a bulk service reports back to its adapter."""

import uuid
from dataclasses import dataclass, field

from enrollments.rules import PlannedChange, Skipped


@dataclass(slots=True)
class BulkResult:
    """The rows a bulk operation changed and the rows it skipped, with why.

    `batch_id` is written on every audit row of the operation, so one bulk action can be found
    (and reviewed) as a whole in the audit trail.
    """

    batch_id: uuid.UUID
    changed: list[PlannedChange] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    @property
    def changed_count(self) -> int:
        return len(self.changed)

    @property
    def skipped_count(self) -> int:
        return len(self.skipped)
