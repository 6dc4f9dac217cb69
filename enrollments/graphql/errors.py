"""How errors reach API clients: a GraphQL error whose `message` is the domain error's text
verbatim and whose `extensions.code` is stable.

Domain errors (enrollments.errors) are raised by the core and the selectors and pass through
resolvers untouched; `format_error` gives them their code. Errors that only the API knows
(authentication, permissions, input shape, limits) are `ApiError`s raised here. Anything else is
a bug: the client gets INTERNAL_SERVER_ERROR with a generic message and an error id, never the
exception's text (which may name tables, hosts or data), and the server log gets the traceback
at ERROR with that same id (`internal_error`), so that a client's "error id 3f2a..." leads to
the traceback; with SENTRY_DSN set, sentry-sdk reports that log record too (config/settings.py).

A database that does not answer is not a bug: `is_database_unavailable` tells it from a
statement the database refused, and the view answers it with HTTP 503 and SERVICE_UNAVAILABLE
(enrollments/graphql/views.py).
"""

import logging
import uuid
from typing import Any

from django.db import InterfaceError, OperationalError
from graphene_django.views import HttpError
from graphql import GraphQLError, GraphQLSyntaxError

from apikeys.idempotency import (
    IDEMPOTENCY_KEY_IN_USE,
    IDEMPOTENCY_KEY_NOT_APPLICABLE,
    IDEMPOTENCY_KEY_REUSED,
    INVALID_IDEMPOTENCY_KEY,
)
from apikeys.ratelimit import TOO_MANY_REQUESTS
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
SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
BAD_REQUEST = "BAD_REQUEST"
PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
PERSISTED_QUERY_NOT_IN_LIST = "PERSISTED_QUERY_NOT_IN_LIST"
DOCUMENT_NOT_TRUSTED = "DOCUMENT_NOT_TRUSTED"
#: Healthie's code for a Healthie-GraphQL-API-Version this API does not serve (versions.py).
UNSUPPORTED_API_VERSION = "UNSUPPORTED_API_VERSION"

#: Every code the API's own errors use, with when it happens (docs/api.md lists the same).
API_ERROR_CODES: dict[str, str] = {
    UNAUTHENTICATED: "no session and no API key, or an invalid, expired or revoked API key",
    FORBIDDEN: "signed in, but holding the operation's permission in no course",
    BAD_USER_INPUT: "an argument is missing, malformed or out of range",
    INVALID_CURSOR: "`after` / `before` is not a cursor this API issued",
    NOT_FOUND: "no such course membership or course item (or not yours, or not your courses')",
    CSRF_FAILED: "a browser-session POST without a valid CSRF token",
    QUERY_TOO_LARGE: "the document is longer than the limit",
    QUERY_TOO_DEEP: "the document nests fields deeper than the limit",
    TOO_MANY_ALIASES: "the document uses more aliases than the limit",
    QUERY_TOO_COSTLY: "the document costs more than the budget (counts, aliases, filters)",
    QUERY_TIMEOUT: "a query ran past the statement timeout and was cancelled",
    INTROSPECTION_DISABLED: "introspection by an anonymous client",
    GRAPHQL_PARSE_FAILED: "the document is not valid GraphQL syntax",
    GRAPHQL_VALIDATION_FAILED: "the document does not match the schema",
    INTERNAL_SERVER_ERROR: "a bug: the details are logged with the error id, not returned",
    SERVICE_UNAVAILABLE: "the database does not answer (an outage): retry later",
    BAD_REQUEST: "the HTTP request is not a GraphQL request this endpoint serves",
    UNSUPPORTED_API_VERSION: "the Healthie-GraphQL-API-Version header names a version not served",
    PERSISTED_QUERY_NOT_FOUND: "a persisted-query hash alone, not in the store (send the text)",
    PERSISTED_QUERY_NOT_IN_LIST: "trusted documents only: the hash is not in the manifest",
    DOCUMENT_NOT_TRUSTED: "trusted documents only: the document is not in the manifest",
    TOO_MANY_REQUESTS: "the API key's (or signed-in user's) budget for this minute is spent",
    INVALID_IDEMPOTENCY_KEY: "the Idempotency-Key header is empty, too long or not ASCII",
    IDEMPOTENCY_KEY_REUSED: "the Idempotency-Key was used for another request",
    IDEMPOTENCY_KEY_IN_USE: "the first request with this Idempotency-Key is still running",
    IDEMPOTENCY_KEY_NOT_APPLICABLE: "a keyed document calls a webhook beside other mutations",
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


INTERNAL_MESSAGE = "Internal server error"


UNAVAILABLE_MESSAGE = "The service is unavailable: its database does not answer. Retry later."


def _logged(code: str, message: str, error: BaseException) -> ApiError:
    """`code` and `message` with a new error id for the client; `error` logged at ERROR with
    its traceback and that id for the server (and sentry-sdk, when configured)."""
    error_id = uuid.uuid4().hex
    logger.error(
        "%s %s: %s",
        code,
        error_id,
        type(error).__name__,
        exc_info=error,
        extra={"error_id": error_id},
    )
    return ApiError(code, message, extensions={"error_id": error_id})


def internal_error(error: BaseException) -> ApiError:
    """The client's side of a bug: INTERNAL_SERVER_ERROR with an error id and nothing of
    `error`; the server's side: its traceback logged with the same id."""
    return _logged(INTERNAL_SERVER_ERROR, INTERNAL_MESSAGE, error)


def service_unavailable(error: BaseException) -> ApiError:
    """The client's side of a database outage: SERVICE_UNAVAILABLE, to be retried; the server's
    side, as for a bug: an outage is seen in the logs and by error tracking, not only by
    clients."""
    return _logged(SERVICE_UNAVAILABLE, UNAVAILABLE_MESSAGE, error)


#: SQLSTATE classes of a database that cannot serve at all: connection exceptions (08),
#: insufficient resources (53: too many connections, disk full), operator intervention (57P:
#: shutting down, crashed, starting up). Not 57014 (a cancelled statement: QUERY_TIMEOUT).
_UNAVAILABLE_SQLSTATES = ("08", "53", "57P")


def is_database_unavailable(error: BaseException | None) -> bool:
    """Whether `error` says that the database cannot be reached or cannot serve (a refused or
    dropped connection, a closed one, a server shutting down), as opposed to a statement it
    refused (a deadlock, a cancelled statement, a constraint: each has its own SQLSTATE).
    The driver's connection failures carry no SQLSTATE; Django wraps them into its own
    OperationalError / InterfaceError with the driver's error as the cause."""
    if isinstance(error, InterfaceError):  # the connection is already closed
        return True
    if not isinstance(error, OperationalError):
        return False
    sqlstate = getattr(error.__cause__, "sqlstate", None)
    return sqlstate is None or sqlstate.startswith(_UNAVAILABLE_SQLSTATES)


def database_outage(errors: list[GraphQLError] | None) -> BaseException | None:
    """The first of the fields' `errors` that a database outage caused, or None."""
    for error in errors or ():
        if is_database_unavailable(error.original_error):
            return error.original_error
    return None


def format_error(error: Exception) -> dict[str, Any]:
    """The JSON form of one error. Domain errors keep their message and get their code; an
    unexpected exception is logged and hidden."""
    if isinstance(error, HttpError):
        # graphene-django's HTTP-level refusals: no query, invalid JSON, a batch, a mutation
        # over GET, another method.
        return {"message": str(error), "extensions": {"code": BAD_REQUEST}}
    if not isinstance(error, GraphQLError):
        return internal_error(error).formatted
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
        formatted = dict(error.formatted)  # where it happened: locations and path
        hidden = internal_error(original).formatted
        formatted["message"] = hidden["message"]
        formatted["extensions"] = hidden["extensions"]
        return formatted
    formatted = dict(error.formatted)
    if "code" not in (formatted.get("extensions") or {}):
        if isinstance(error, GraphQLSyntaxError):
            code = GRAPHQL_PARSE_FAILED
        elif error.path is None:
            # No path: the document or its variables were refused before execution.
            code = GRAPHQL_VALIDATION_FAILED
        else:
            # graphql-core's own error during execution (a resolver returned null for a
            # non-null field, or a value its type cannot serialise): a bug of this API.
            hidden = internal_error(error).formatted
            formatted["message"] = hidden["message"]
            formatted["extensions"] = hidden["extensions"]
            return formatted
        formatted["extensions"] = {**(formatted.get("extensions") or {}), "code": code}
    return formatted
