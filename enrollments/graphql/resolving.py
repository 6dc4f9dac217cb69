"""What the API's resolvers promise its executor, stated once where the types and the executor
both read it.

- Every resolver answers synchronously: the schema has no async resolver, so no resolved value
  is ever awaitable, and execution is given `never_awaitable` (graphql-core's public
  `is_awaitable` option) instead of its per-value check. A coroutine returned by a resolver
  would then be serialised as a value, not awaited: any future async resolver needs this
  changed.
- A resolver marked `root_only` reads only its parent value: never `info`, never an argument.
  The GraphQL short path (enrollments/fastpaths/graphql_short_path.py) may then call it as
  `resolver(parent, None)`, without building graphql-core's resolve info; with the short path
  off, graphql-core calls it as any resolver. Tests run every marked resolver of the schema
  both ways (tests/fastpaths/test_graphql_short_path.py).
"""

from collections.abc import Callable

#: The attribute `root_only` sets on a resolver.
ROOT_ONLY = "reads_root_only"


def root_only(resolver: Callable) -> Callable:
    """Marks a resolver that reads only its parent value: never `info`, never an argument."""
    setattr(resolver, ROOT_ONLY, True)
    return resolver


def is_root_only(resolver: Callable | None) -> bool:
    return getattr(resolver, ROOT_ONLY, False) is True


def never_awaitable(_value: object) -> bool:
    """graphql-core's `is_awaitable` for this schema: no resolved value is awaitable."""
    return False
