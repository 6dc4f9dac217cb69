"""A statement timeout on PostgreSQL for the API's reads: the backstop of the cost model (cost.py).

The cost model prices what it knows is expensive; a statement it does not foresee (a plan gone
wrong, a table grown past what the weights assumed) must still not hold a worker and a database
connection for minutes. So the reads of a GraphQL query document go to a database alias of
their own, API_READS: the same database, on a connection whose session PostgreSQL starts with
`statement_timeout` set (config/settings.py builds it from GRAPHQL_STATEMENT_TIMEOUT_MS,
default 5 s, as libpq's `options=-c statement_timeout=...`). A statement that runs past it is
cancelled by PostgreSQL (SQLSTATE 57014) and the client gets QUERY_TIMEOUT, not
INTERNAL_SERVER_ERROR (errors.format_error asks `is_statement_timeout`).

Set once per connection, not per request: a page is its own statements only (no SET, no
RESET), and there is no reset that could fail and leave a bounded session behind for the next
user of the connection. Who is bounded, and who is not:

- the reads of a query document (ApiReadsRouter, while `reads_of` marks the block): bounded;
- mutations, the admin, the commands, the API key's look-up: on `default`, unbounded. A
  mutation may rightly wait for row locks, and must never be cut mid-transaction;
- a read inside a transaction on `default` stays there (it must see that transaction's
  writes and locks), so nothing a transaction does is split over two connections.

Each server process holds one more connection while it serves queries (docs/deploy.md,
"Sizing"). Without PostgreSQL, or with the timeout set to 0, there is no such alias and every
read stays on `default`.
"""

import contextlib
import contextvars
from collections.abc import Iterator

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, OperationalError, connections
from graphql import DocumentNode, OperationType, get_operation_ast

#: The database alias of the API's reads (config/settings.py).
API_READS = "api_reads"

QUERY_CANCELED = "57014"

_reading = contextvars.ContextVar("api_reads", default=False)


def is_statement_timeout(error: BaseException | None) -> bool:
    """Whether `error` is PostgreSQL cancelling a statement (the timeout, or an operator's
    pg_cancel_backend)."""
    return (
        isinstance(error, OperationalError)
        and getattr(error.__cause__, "sqlstate", None) == QUERY_CANCELED
    )


def configured() -> bool:
    """Whether the API_READS alias exists (PostgreSQL with a timeout above 0)."""
    return API_READS in settings.DATABASES


@contextlib.contextmanager
def reads_of(document: DocumentNode | None, operation_name: str | None) -> Iterator[None]:
    """Within the block, the reads of a query operation go to API_READS (ApiReadsRouter);
    a mutation, a subscription or a document that will not execute keeps `default`."""
    operation = get_operation_ast(document, operation_name) if document is not None else None
    if operation is None or operation.operation is not OperationType.QUERY:
        yield
        return
    token = _reading.set(True)
    try:
        yield
    finally:
        _reading.reset(token)


class ApiReadsRouter:
    """Sends the reads of a GraphQL query document to API_READS (see the module); everything
    else, and every write, to `default`."""

    def db_for_read(self, model, **hints) -> str | None:
        if _reading.get() and configured() and not connections[DEFAULT_DB_ALIAS].in_atomic_block:
            return API_READS
        return None

    def db_for_write(self, model, **hints) -> str:
        # Also for an instance read through API_READS: writes are never bounded.
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints) -> bool | None:
        # One database under two aliases: a row read through either may refer to the other.
        if {obj1._state.db, obj2._state.db} <= {DEFAULT_DB_ALIAS, API_READS}:
            return True
        return None

    def allow_migrate(self, db, app_label, model_name=None, **hints) -> bool | None:
        return False if db == API_READS else None
