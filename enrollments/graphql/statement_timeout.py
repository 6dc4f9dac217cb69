"""A per-request statement timeout on PostgreSQL: the backstop of the cost model (cost.py).

The cost model prices what it knows is expensive; a statement it does not foresee (a plan gone
wrong, a table grown past what the weights assumed) must still not hold a worker and a database
connection for minutes. While a query document executes, the view sets PostgreSQL's
`statement_timeout` for the session (GRAPHQL_LIMITS["STATEMENT_TIMEOUT_MS"], default 5 s) and
resets it afterwards, so the admin, the commands and mutations (which may rightly wait for row
locks) are not bounded by it. A statement that runs past it is cancelled by PostgreSQL
(SQLSTATE 57014) and the client gets QUERY_TIMEOUT, not INTERNAL_SERVER_ERROR
(errors.format_error asks `is_statement_timeout`).

The SET (just before the request's first statement) and the RESET are two statements of their
own per query request that reads the database, shown in query logs like any other. Other
databases (SQLite) have no such setting: there it does nothing.
"""

import contextlib
import logging
from collections.abc import Iterator

from django.db import DEFAULT_DB_ALIAS, DatabaseError, OperationalError, connections
from graphql import DocumentNode, OperationType, get_operation_ast

logger = logging.getLogger(__name__)

QUERY_CANCELED = "57014"


def is_statement_timeout(error: BaseException | None) -> bool:
    """Whether `error` is PostgreSQL cancelling a statement (the timeout, or an operator's
    pg_cancel_backend)."""
    return (
        isinstance(error, OperationalError)
        and getattr(error.__cause__, "sqlstate", None) == QUERY_CANCELED
    )


class _SetOnFirstStatement:
    """An execute wrapper that sets the timeout just before the block's first statement, so
    that a document refused before it reads anything (validation, limits) costs no SET."""

    def __init__(self, milliseconds: int) -> None:
        self.value = f"{milliseconds}ms"
        self.set = False

    def __call__(self, execute, sql, params, many, context):
        if not self.set:
            self.set = True
            context["cursor"].execute(
                "SELECT set_config('statement_timeout', %s, false)", [self.value]
            )
        return execute(sql, params, many, context)


@contextlib.contextmanager
def statement_timeout(milliseconds: int, *, using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """Bounds every statement of the block to `milliseconds` on PostgreSQL (0: no bound)."""
    connection = connections[using]
    if milliseconds <= 0 or connection.vendor != "postgresql":
        yield
        return
    timeout = _SetOnFirstStatement(milliseconds)
    try:
        with connection.execute_wrapper(timeout):
            yield
    finally:
        if timeout.set:
            _reset(connection)


def _reset(connection) -> None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("RESET statement_timeout")
    except DatabaseError:
        # Only inside a failed enclosing transaction, whose rollback undoes the SET too;
        # outside one, never reuse a session that may still carry the timeout.
        logger.warning("could not reset statement_timeout", exc_info=True)
        if not connection.in_atomic_block:
            connection.close()


def for_operation(
    document: DocumentNode | None, operation_name: str | None, milliseconds: int
) -> contextlib.AbstractContextManager[None]:
    """The statement timeout for executing `document`: bounded for a query operation, none
    for mutations (they may wait for row locks) and for documents that will not execute."""
    operation = get_operation_ast(document, operation_name) if document is not None else None
    if operation is None or operation.operation is not OperationType.QUERY:
        return contextlib.nullcontext()
    return statement_timeout(milliseconds)
