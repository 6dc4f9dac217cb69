"""Audit rows: written by services only, in the transaction of the change they record."""

import uuid
from collections.abc import Iterable
from datetime import datetime

from enrollments.models import AccessChange
from enrollments.services.locking import CHUNK_SIZE
from lms.models import User


def audit_row(
    *,
    enrollment_id: object,
    action: AccessChange.Action,
    actor: User | None,
    source: AccessChange.Source,
    reason: str,
    now: datetime,
    batch_id: uuid.UUID | None = None,
    old_ended_at: datetime | None = None,
    new_ended_at: datetime | None = None,
    old_is_paused: bool | None = None,
    new_is_paused: bool | None = None,
    paused_seconds: int | None = None,
) -> AccessChange:
    """An unsaved audit row: bulk services create many at once, single ones save it."""
    return AccessChange(
        enrollment_id=enrollment_id,
        action=action,
        actor=actor if actor is not None and actor.is_authenticated else None,
        source=source,
        reason=reason or "",
        batch_id=batch_id,
        old_ended_at=old_ended_at,
        new_ended_at=new_ended_at,
        old_is_paused=old_is_paused,
        new_is_paused=new_is_paused,
        paused_seconds=paused_seconds,
        created_at=now,
    )


def save_audit_rows(rows: Iterable[AccessChange]) -> None:
    AccessChange.objects.bulk_create(rows, batch_size=CHUNK_SIZE)
