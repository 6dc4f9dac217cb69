"""A bounded retry of transactions that the database aborted to resolve a conflict.

PostgreSQL aborts one of two transactions that wait on each other's locks (a deadlock, SQLSTATE
40P01) and, at the REPEATABLE READ / SERIALIZABLE levels, a transaction whose reads another one
changed (a serialization failure, 40001). Both are the database's way of saying "try again":
nothing of the aborted transaction was written, and running it again a moment later succeeds.
Without a retry the client would get a server error for what is only bad timing.

The operation core takes its row locks in primary-key order, so its writes should not deadlock
with each other; this is the backstop for what lock ordering cannot see (locks taken by other
code, such as completing an item, or by future code) and for serialization failures, applied
to every GraphQL mutation field (`retry_mutations`, wired in config/schema.py).

A retry is only safe when the failed call owned its transaction: inside an enclosing atomic
block the whole outer transaction is already aborted, so `retry_on_conflict` then lets the
error propagate to whoever owns the transaction.
"""

import functools
import logging
import random
import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, OperationalError, connections
from graphql import GraphQLSchema

logger = logging.getLogger(__name__)

#: SQLSTATEs of the conflicts worth running again: serialization_failure, deadlock_detected.
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})
#: Attempts in all (the first included); the third one succeeding is already rare.
MAX_ATTEMPTS = 3
#: Upper bound of the random pause before the n-th retry: BACKOFF_SECONDS * 2 ** (n - 1).
BACKOFF_SECONDS = 0.05

Result = TypeVar("Result")


def is_conflict(error: BaseException) -> bool:
    """Whether `error` is a deadlock or a serialization failure (Django's OperationalError
    wraps the driver's error, which carries the SQLSTATE)."""
    if not isinstance(error, OperationalError):
        return False
    cause = error.__cause__
    return getattr(cause, "sqlstate", None) in RETRYABLE_SQLSTATES


def retry_on_conflict(
    function: Callable[..., Result], *, using: str = DEFAULT_DB_ALIAS
) -> Callable[..., Result]:
    """`function`, run again (at most MAX_ATTEMPTS times in all, after a short random pause)
    when the database aborts it for a deadlock or a serialization failure, provided it was not
    called inside an atomic block. `function` must own its transactions (each core call does)."""

    @functools.wraps(function)
    def retrying(*args: Any, **kwargs: Any) -> Result:
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                return function(*args, **kwargs)
            except OperationalError as error:
                if (
                    not is_conflict(error)
                    or attempt == MAX_ATTEMPTS
                    or connections[using].in_atomic_block
                ):
                    raise
                logger.warning(
                    "%s: %s (attempt %d of %d), retrying",
                    function.__qualname__,
                    error.__cause__.__class__.__name__,
                    attempt,
                    MAX_ATTEMPTS,
                )
                time.sleep(random.uniform(0, BACKOFF_SECONDS * 2 ** (attempt - 1)))  # noqa: S311
        raise AssertionError("unreachable")  # pragma: no cover

    retrying.retries_conflicts = True  # type: ignore[attr-defined]
    return retrying


def retry_mutations(schema: GraphQLSchema) -> GraphQLSchema:
    """Wraps the resolver of every top-level mutation field of `schema` in retry_on_conflict.
    Each mutation field runs in transactions of its own (ATOMIC_MUTATIONS is off), so each is
    retried on its own: a conflict never re-runs a mutation of the document that already
    committed."""
    mutation_type = schema.mutation_type
    if mutation_type is not None:
        for field in mutation_type.fields.values():
            if field.resolve is not None and not getattr(field.resolve, "retries_conflicts", False):
                field.resolve = retry_on_conflict(field.resolve)
    return schema
