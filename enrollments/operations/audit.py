"""Audit rows: written by the operation core only, in the transaction of the change they record."""

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ImproperlyConfigured

from enrollments.errors import InvalidReason
from enrollments.models import AccessChange
from enrollments.operations.bulk_insert import insert_rows
from lms.models import User
from lms.text import is_valid_text

#: Longest reason an audit row keeps; every door (API, admin form, command option) refuses more.
MAX_REASON_LENGTH = 1000


def clean_reason(reason: str | None) -> str:
    """The reason as stored: stripped, at most MAX_REASON_LENGTH characters, valid text by the
    one text rule (lms.text: no NUL, no unpaired surrogate; PostgreSQL can store neither).
    Raises InvalidReason; adapters may call it early to report a bad option before any work."""
    cleaned = (reason or "").strip()
    if len(cleaned) > MAX_REASON_LENGTH or not is_valid_text(cleaned):
        raise InvalidReason()
    return cleaned


@dataclass(frozen=True, slots=True)
class Attribution:
    """Who changed access, through which door, why, and in which bulk operation: the part of
    an audit row that is the same for every row one core call writes. The reason is checked
    here (clean_reason), so every operation refuses a bad one before writing."""

    actor: User | None
    source: AccessChange.Source
    reason: str = ""
    batch_id: uuid.UUID | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "reason", clean_reason(self.reason))

    def audit_values(
        self,
        *,
        enrollment_id: object,
        action: AccessChange.Action,
        now: datetime,
        old_ended_at: datetime | None = None,
        new_ended_at: datetime | None = None,
        old_is_paused: bool | None = None,
        new_is_paused: bool | None = None,
        paused_seconds: int | None = None,
        old_paused_at: datetime | None = None,
        old_total_paused_duration: int | None = None,
        old_removed_at: datetime | None = None,
        undoes_batch_id: uuid.UUID | None = None,
    ) -> dict[str, object]:
        """One audit row as its column values (attribute names, every column, a new id): what
        the core hands to save_audit_rows by the thousand, without building a model instance
        per row (Model.__init__ was a fifth of a bulk extension's time: docs/benchmarks.md)."""
        return {
            "id": uuid.uuid4(),
            "enrollment_id": enrollment_id,
            "action": action,
            "old_ended_at": old_ended_at,
            "new_ended_at": new_ended_at,
            "old_is_paused": old_is_paused,
            "new_is_paused": new_is_paused,
            "paused_seconds": paused_seconds,
            # An anonymous user (pk None) is recorded as no actor.
            "actor_id": self.actor.pk if self.actor is not None else None,
            "source": self.source,
            "reason": self.reason,
            "batch_id": self.batch_id,
            "created_at": now,
            "old_paused_at": old_paused_at,
            "old_total_paused_duration": old_total_paused_duration,
            "old_removed_at": old_removed_at,
            "undoes_batch_id": undoes_batch_id,
        }


#: The audit row's columns (attribute names) in the order save_audit_rows writes them: a row
#: may be given as a tuple in this order (writing.audit_rows builds them so, by the hundred
#: thousand) instead of a mapping (Attribution.audit_values). Every column, checked below.
AUDIT_COLUMNS = (
    "id",
    "enrollment_id",
    "action",
    "old_ended_at",
    "new_ended_at",
    "old_is_paused",
    "new_is_paused",
    "paused_seconds",
    "actor_id",
    "source",
    "reason",
    "batch_id",
    "created_at",
    "old_paused_at",
    "old_total_paused_duration",
    "old_removed_at",
    "undoes_batch_id",
)
if sorted(AUDIT_COLUMNS) != sorted(f.attname for f in AccessChange._meta.concrete_fields):
    raise ImproperlyConfigured("audit.AUDIT_COLUMNS must name every AccessChange column")


def save_audit_rows(rows: Iterable[Mapping[str, object] | Sequence[object]]) -> None:
    """Inserts audit rows, given as their column values (a mapping by attribute name,
    `Attribution.audit_values`, or a tuple in AUDIT_COLUMNS order, `writing.audit_rows`), in the
    caller's transaction (bulk_insert.insert_rows: COPY on PostgreSQL)."""
    insert_rows(AccessChange, AUDIT_COLUMNS, rows)
