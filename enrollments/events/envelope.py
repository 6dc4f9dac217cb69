"""The JSON body a receiver gets: Healthie's four keys, then ours.

Healthie's (WEBHOOKS-AND-VERSIONS.md, 1): `resource_id` (the membership's id, a string, as a
real client reads it), `resource_id_type` (`CourseMembership`), `event_type`
(`course_membership.created` / `.updated` / `.deleted`), `changed_fields` (the API's field
names; `[]` for created and deleted). Ours, additive, which no reference gives and receivers
need: `event_id` (their deduplication key: the same on every redelivery), `occurred_at` (ISO
8601 UTC), `action` (extend, pause, access_ended, ...), `batch_id` (the change's audit
batch; null for progress and the clock's events) and `sequence` (grows with every event of
one membership: drop an older one that arrives late).

Thin: no learner's name or e-mail; receivers read the membership through the API. Compact
ASCII JSON (`separators=(",", ":")`), as Healthie's sample verifier re-serialises the body to
count its length.
"""

import json

from enrollments.models import AccessEvent

RESOURCE_ID_TYPE = "CourseMembership"


def envelope(event: AccessEvent) -> dict[str, object]:
    return {
        "resource_id": str(event.enrollment_id),
        "resource_id_type": RESOURCE_ID_TYPE,
        "event_type": event.event_type,
        "changed_fields": list(event.changed_fields),
        "event_id": str(event.event_id),
        "occurred_at": event.occurred_at.isoformat().replace("+00:00", "Z"),
        "action": event.action,
        "batch_id": str(event.batch_id) if event.batch_id else None,
        "sequence": event.id,
    }


def body(payload: dict[str, object]) -> bytes:
    """The bytes sent: compact, ASCII, keys in the envelope's order."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=True).encode("ascii")
