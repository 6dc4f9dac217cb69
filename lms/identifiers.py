"""Reading ids that come from outside (API arguments, command options, CSV cells, URLs)."""

import uuid


def parse_uuid(value: object) -> uuid.UUID | None:
    """The UUID in `value`, or None when it is not one: a malformed id is treated like an
    unknown one ('not found'), never as a server error."""
    if isinstance(value, uuid.UUID):
        return value
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        return None
