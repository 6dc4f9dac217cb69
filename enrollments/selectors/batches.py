"""Reads about batches: the audit rows one bulk operation wrote share a `batch_id`."""

import uuid

from enrollments.errors import BatchNotFound
from enrollments.models import AccessChange


def batch_enrollment_ids(batch_id: uuid.UUID) -> list[uuid.UUID]:
    """The enrollments a batch changed, in key order (one query); raises BatchNotFound when
    the batch has no audit rows."""
    ids = list(
        AccessChange.objects.filter(batch_id=batch_id)
        .order_by("enrollment_id")  # not the model's ordering: DISTINCT would include it
        .values_list("enrollment_id", flat=True)
        .distinct()
    )
    if not ids:
        raise BatchNotFound()
    return ids
