"""What an anonymous client learns from an error: no more than the public contract.

graphql-core's validation and variable errors end with schema hints ("Cannot query field
'courseMembershp' on type 'Query'. Did you mean 'courseMembership' or 'courseMemberships'?"),
which let a client that may not introspect reconstruct the schema by guessing. For anonymous
requests the view drops the hint and keeps the rest of the message (what is wrong, and where).
Signed-in clients (a session or an API key) may introspect anyway, so they keep the hints.

The same holds for the contract's INVALID_EXTENSION_PERIOD for numbers beyond a 32-bit Int
(extension_range): it is an answer about the mutation's business rule, so the view gives it only
after authentication; an anonymous client gets GraphQL's generic validation error.
"""

from typing import Any

_HINT = " Did you mean "


def without_schema_hint(message: str) -> str:
    """`message` without graphql-core's trailing "Did you mean ...?" suggestion."""
    return message.split(_HINT, 1)[0]


def hide_schema_hints(formatted: dict[str, Any]) -> dict[str, Any]:
    """A formatted error (errors.format_error) as an anonymous client may see it."""
    message = formatted.get("message")
    if isinstance(message, str) and _HINT in message:
        return {**formatted, "message": without_schema_hint(message)}
    return formatted
