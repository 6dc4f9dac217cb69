"""A row's place in a `(created_at, id)` order: what keyset pages start after, and what the
API's opaque cursors encode (enrollments/graphql/pagination.py). One type for every list walked
that way: the memberships, the webhook endpoints and the audit trail."""

import uuid
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Position:
    """A row's place in the `(created_at, id)` order (total: ties broken by id)."""

    created_at: datetime
    id: uuid.UUID

    @classmethod
    def of(cls, row) -> "Position":
        """The place of a model instance (or anything with `created_at` and `pk`)."""
        return cls(row.created_at, row.pk)
