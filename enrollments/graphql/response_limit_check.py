"""The response-size limit's hold on graphql-core, checked before the endpoint serves.

BoundedExecutionContext (execution.py) bounds an answer's size as graphql-core builds it: it
overrides `execute_operation`, `build_response` and `complete_list_value`, and calls
`collect_subfields`. graphql-core's documentation marks these steps of its ExecutionContext
private (`:meta private:`), though their names carry no underscore: a release may change them
without notice (3.3 reshapes the execution's steps for deferred and streamed answers). A fast
path relying on such steps (enrollments/fastpaths/) is switched off when they change, and
requests take the public path; the limit cannot be switched off: it is the guard against
answers too large to build, not an optimisation. So it fails closed:

- the endpoint's view is not made while they differ (`require`, called by
  config/urls.api_view, which the web server calls at start-up: config/wsgi.py,
  config/asgi.py). The server does not start and its log says what differs, rather than
  serving answers without their bound, or failing every request with a TypeError;
- `manage.py check --deploy` (docs/deploy.md runs it) reports it as error enrollments.E103.

What is checked: each step is there and takes the parameters the overrides pass, and a toy
document is answered as graphql-core alone answers it when its answer fits the limit exactly,
and refused one value past it. The check imports graphql-core and the execution module when it
runs: registering it (the apps import this module when they are ready) costs nothing more.
"""

from typing import TYPE_CHECKING

from django.core import checks
from django.core.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from graphql import ExecutionResult

#: graphql-core's ExecutionContext steps BoundedExecutionContext overrides or calls, with the
#: parameters it passes (`build_response` is a static method there).
STEPS = {
    "execute_operation": ["self", "operation", "root_value"],
    "build_response": ["data", "errors"],
    "complete_list_value": ["self", "return_type", "field_nodes", "info", "path", "result"],
    "collect_subfields": ["self", "return_type", "field_nodes"],
}

#: The toy schema and data: two fields per box, one per item.
TOY_SCHEMA = "type Query { boxes: [Box!]! } type Box { name: String items: [String!] }"
TOY_DOCUMENT = "{ boxes { name items } }"
TOY_BOXES = [
    {"name": "a", "items": ["x"]},
    {"name": "b", "items": ["y", "z"]},
    {"name": "c", "items": []},
]
#: The list-item values of its answer: three boxes of two fields, then three items.
TOY_VALUES = 3 * 2 + 3


def toy_answer(values_left: int | None) -> "ExecutionResult":
    """The toy document's answer: bounded to `values_left` values, by graphql-core alone for
    None; synchronous, as the endpoint executes (never_awaitable)."""
    from graphql import build_schema, execute, parse

    from enrollments.graphql.execution import BoundedExecutionContext
    from enrollments.graphql.resolving import never_awaitable

    class Toy(BoundedExecutionContext):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            self.values_left = values_left

    return execute(
        build_schema(TOY_SCHEMA),
        parse(TOY_DOCUMENT),
        root_value={"boxes": TOY_BOXES},
        execution_context_class=None if values_left is None else Toy,
        is_awaitable=never_awaitable,
    )


def mismatch() -> str | None:
    """None when the limit holds on the installed graphql-core; else what differs."""
    from enrollments.graphql import cost
    from enrollments.graphql.execution_steps import steps_mismatch

    changed = steps_mismatch(STEPS)
    if changed is not None:
        return changed
    try:
        alone, fitting, past = toy_answer(None), toy_answer(TOY_VALUES), toy_answer(TOY_VALUES - 1)
    except Exception as error:  # noqa: BLE001 - whatever breaks the toy is the mismatch
        return f"a toy document raised {type(error).__name__}: {error}"
    if (fitting.data, fitting.errors) != (alone.data, alone.errors):
        return f"a toy document that fits the limit answers {fitting}, graphql-core alone {alone}"
    codes = [error.extensions.get("code") for error in past.errors or []]
    if past.data is not None or codes != [cost.QUERY_TOO_COSTLY]:
        return f"a toy document one value past the limit answers {past}, not the refusal"
    return None


def message(found: str) -> str:
    import graphql

    from enrollments.graphql.execution_steps import supported_range

    return (
        f"The GraphQL response-size limit cannot hold on graphql-core {graphql.version}: "
        f"{found}. Install the range pyproject.toml names (graphql-core{supported_range()})."
    )


def require() -> None:
    """Raises ImproperlyConfigured when the limit cannot hold on the installed graphql-core."""
    found = mismatch()
    if found is not None:
        raise ImproperlyConfigured(message(found))


@checks.register(deploy=True)
def check_response_limit(**_kwargs) -> list[checks.CheckMessage]:
    """`manage.py check --deploy`: the limit's steps of graphql-core, as the web server checks
    them at start-up (only with --deploy: every command runs the system checks, and would pay
    graphql-core's import)."""
    found = mismatch()
    return [] if found is None else [checks.Error(message(found), id="enrollments.E103")]
