"""graphql-core's ExecutionContext steps the project leans on, compared with what it expects.

graphql-core's documentation marks most steps of its ExecutionContext private (`:meta
private:`), though their names carry no underscore. Two parts of the project override or call
some of them, and each checks them before it can be taken: the GraphQL short path
(enrollments/fastpaths/graphql_short_path.py: a mismatch switches it off) and the response-size
limit (response_limit_check.py: a mismatch stops the endpoint). Both compare the steps'
parameters here, the same way.
"""

import inspect
from collections.abc import Mapping

from graphql import ExecutionContext

#: graphql-core versions whose execution steps the project was written for and checked against:
#: at least the first, below the second (pyproject.toml names the same range).
SUPPORTED_GRAPHQL_CORE = ((3, 2, 6), (3, 3, 0))


def supported_range() -> str:
    """SUPPORTED_GRAPHQL_CORE as a requirement's version range: `>=3.2.6,<3.3.0`."""
    low, high = SUPPORTED_GRAPHQL_CORE
    return f">={'.'.join(map(str, low))},<{'.'.join(map(str, high))}"


def steps_mismatch(expected: Mapping[str, list[str]]) -> str | None:
    """None when every step named in `expected` is on graphql-core's ExecutionContext and takes
    those parameters; else the first that differs."""
    for name, parameters in expected.items():
        step = getattr(ExecutionContext, name, None)
        if step is None:
            return f"graphql-core's ExecutionContext has no {name}"
        found = list(inspect.signature(step).parameters)
        if found != parameters:
            return f"graphql-core's ExecutionContext.{name} takes {found}, expected {parameters}"
    return None
