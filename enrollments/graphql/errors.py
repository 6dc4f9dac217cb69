"""How errors reach API clients: a GraphQL error whose `message` is the domain error's text
verbatim and whose `extensions.code` is stable.

Domain errors (enrollments.errors) are raised by services and selectors and pass through
resolvers untouched; `format_error` gives them their code. Errors that only the API knows
(authentication, permissions, input shape, limits) are `ApiError`s raised here. Anything else is
a bug: it is logged and reported as INTERNAL_SERVER_ERROR without its details.
"""

import logging
from typing import Any

from graphql import GraphQLError, GraphQLSyntaxError

from apikeys.idempotency import (
    IDEMPOTENCY_KEY_IN_USE,
    IDEMPOTENCY_KEY_REUSED,
    INVALID_IDEMPOTENCY_KEY,
)
from apikeys.ratelimit import RATE_LIMITED
from enrollments.errors import DomainError
from enrollments.graphql.statement_timeout import is_statement_timeout

logger = logging.getLogger(__name__)

# Codes of the API's own errors (domain error codes live in enrollments.errors.ALL_ERRORS).
UNAUTHENTICATED = "UNAUTHENTICATED"
FORBIDDEN = "FORBIDDEN"
BAD_USER_INPUT = "BAD_USER_INPUT"
INVALID_CURSOR = "INVALID_CURSOR"
NOT_FOUND = "NOT_FOUND"
CSRF_FAILED = "CSRF_FAILED"
QUERY_TOO_LARGE = "QUERY_TOO_LARGE"
QUERY_TOO_DEEP = "QUERY_TOO_DEEP"
TOO_MANY_ALIASES = "TOO_MANY_ALIASES"
QUERY_TOO_COSTLY = "QUERY_TOO_COSTLY"
QUERY_TIMEOUT = "QUERY_TIMEOUT"
INTROSPECTION_DISABLED = "INTROSPECTION_DISABLED"
GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"
BAD_REQUEST = "BAD_REQUEST"

#: Every code the API's own errors use, with when it happens (docs/api.md lists the same).
API_ERROR_CODES: dict[str, str] = {
    UNAUTHENTICATED: "no session and no API key, or an invalid, expired or revoked API key",
    FORBIDDEN: "signed in, but without the permission the operation needs",
    BAD_USER_INPUT: "an argument is missing, malformed or out of range",
    INVALID_CURSOR: "`after` / `before` is not a cursor this API issued",
    NOT_FOUND: "no such course membership or course item (or not yours)",
    CSRF_FAILED: "a browser-session POST without a valid CSRF token",
    QUERY_TOO_LARGE: "the document is longer than the limit",
    QUERY_TOO_DEEP: "the document nests fields deeper than the limit",
    TOO_MANY_ALIASES: "the document uses more aliases than the limit",
    QUERY_TOO_COSTLY: "the document costs more than the budget (counts, aliases, filters)",
    QUERY_TIMEOUT: "a query ran past the statement timeout and was cancelled",
    INTROSPECTION_DISABLED: "introspection by an anonymous client",
    GRAPHQL_PARSE_FAILED: "the document is not valid GraphQL syntax",
    GRAPHQL_VALIDATION_FAILED: "the document does not match the schema",
    INTERNAL_SERVER_ERROR: "a bug: the details are logged, not returned",
    BAD_REQUEST: "the HTTP request is not a GraphQL request this endpoint serves",
    RATE_LIMITED: "the API key's (or signed-in user's) budget for this minute is spent",
    INVALID_IDEMPOTENCY_KEY: "the Idempotency-Key header is empty, too long or not ASCII",
    IDEMPOTENCY_KEY_REUSED: "the Idempotency-Key was used for another request",
    IDEMPOTENCY_KEY_IN_USE: "the first request with this Idempotency-Key is still running",
}


class ApiError(GraphQLError):
    """A GraphQL error with a stable `extensions.code`."""

    def __init__(self, code: str, message: str, **kwargs: Any) -> None:
        extensions = {"code": code, **kwargs.pop("extensions", {})}
        super().__init__(message, extensions=extensions, **kwargs)


def unauthenticated() -> ApiError:
    return ApiError(
        UNAUTHENTICATED,
        "Authentication required: sign in, or send an API key as 'Authorization: Bearer <key>', "
        "'Authorization: Basic <key>' or 'X-Teachify-API-Key: <key>'",
    )


def forbidden() -> ApiError:
    return ApiError(FORBIDDEN, "You do not have permission to perform this action")


def bad_input(message: str) -> ApiError:
    return ApiError(BAD_USER_INPUT, message)


def format_error(error: Exception) -> dict[str, Any]:
    """The JSON form of one error. Domain errors keep their message and get their code; an
    unexpected exception is logged and hidden."""
    if not isinstance(error, GraphQLError):
        # graphene-django's HTTP-level refusals: no query, invalid JSON, a batch, a mutation
        # over GET, another method.
        return {"message": str(error), "extensions": {"code": BAD_REQUEST}}
    original = error.original_error
    if isinstance(original, DomainError):
        formatted = dict(error.formatted)
        formatted["message"] = original.message
        formatted["extensions"] = {"code": original.code}
        return formatted
    if is_statement_timeout(original):
        formatted = dict(error.formatted)
        formatted["message"] = "The query ran past the statement timeout and was cancelled"
        formatted["extensions"] = {"code": QUERY_TIMEOUT}
        return formatted
    if original is not None and not isinstance(original, GraphQLError):
        logger.error("GraphQL resolver failed", exc_info=original)
        formatted = dict(error.formatted)
        formatted["message"] = "Internal server error"
        formatted["extensions"] = {"code": INTERNAL_SERVER_ERROR}
        return formatted
    formatted = dict(error.formatted)
    if "code" not in (formatted.get("extensions") or {}):
        if isinstance(error, GraphQLSyntaxError):
            code = GRAPHQL_PARSE_FAILED
        elif error.path is None:
            # No path: the document or its variables were refused before execution.
            code = GRAPHQL_VALIDATION_FAILED
        else:
            code = INTERNAL_SERVER_ERROR
        formatted["extensions"] = {**(formatted.get("extensions") or {}), "code": code}
    return formatted
