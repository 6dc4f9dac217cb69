"""Running a GraphQL request at less cost per request and per field (issue 15).

graphene-django's view parses the document on every request (and this API's view parsed it a
second time, for the rate limiter), validates it on every request and executes it with
graphql-core's default `is_awaitable` check on every resolved value. Here:

- a document is parsed once per distinct text and validated once per distinct text and set of
  rules: both results (errors included) are kept in bounded LRU caches keyed by the document's
  text (DOCUMENT_CACHE_SIZE entries each; documents longer than the length limit never get
  here). A cached document is the same immutable AST graphql-core would build again. The rules
  (validation_rules: one tuple of classes per kind of caller and limits) are part of the key,
  so changed limits (settings.GRAPHQL_LIMITS) or an anonymous caller validate anew;
- execution takes a synchronous path: this schema has no async resolver, so the per-field
  awaitable check is replaced by one that answers False at once (resolving.never_awaitable);
- the answer's size is bounded as it is built (ResponseTooLarge, BoundedExecutionContext);
- while the fast path `graphql_short_path` is on (enrollments/fastpaths/graphql_short_path.py,
  FASTPATHS_DISABLED turns it off), fields read by graphene's default resolver or a
  `root_only` resolver skip graphql-core's per-field machinery: execution_context_class asks
  the fast-path home for the class to execute with. Off, execution is graphql-core's own.

Everything else is graphene-django's `execute_graphql_request`, kept step for step: the GET
mutation refusal, the validation error answer, ATOMIC_MUTATIONS with its rollback flag. One
difference: what execution itself raises (a bug, a database outage) is raised to the view, which
answers it as the server's failure (enrollments/graphql/views.py), where graphene-django would
return it as the document's error, the client's fault with the exception's text.
"""

import functools
from collections.abc import Sized

from django.core.signals import setting_changed
from django.db import connection, transaction
from django.dispatch import receiver
from django.http import HttpResponseBadRequest, HttpResponseNotAllowed
from graphene_django.constants import MUTATION_ERRORS_FLAG
from graphene_django.settings import graphene_settings
from graphene_django.views import HttpError
from graphql import (
    DocumentNode,
    ExecutionContext,
    ExecutionResult,
    GraphQLError,
    GraphQLSchema,
    OperationType,
    ValidationRule,
    execute,
    get_nullable_type,
    get_operation_ast,
    is_object_type,
    parse,
    specified_rules,
    validate,
)

from enrollments.fastpaths import graphql_short_path
from enrollments.graphql import cost
from enrollments.graphql.errors import database_outage
from enrollments.graphql.limits import Limits, limit_rules, limits
from enrollments.graphql.resolving import never_awaitable

#: Distinct documents kept parsed, and (document, rules) pairs kept validated. Clients send a
#: handful of documents each (their queries are written in their code), so a few hundred cover
#: every client while bounding the memory: each entry is at most MAX_QUERY_LENGTH characters
#: and its AST.
DOCUMENT_CACHE_SIZE = 256


#: Documents kept parsed outside the LRU caches, never evicted: the operator's trusted
#: documents (persisted.py), parsed once when their manifest is read. Their validation is kept
#: per (schema, text, rules) in _pinned_validation, as long as they are pinned.
_pinned: dict[str, DocumentNode] = {}
_pinned_validation: dict[tuple[GraphQLSchema, str, tuple], tuple[GraphQLError, ...]] = {}


def pin(documents: dict[str, DocumentNode]) -> None:
    """Replaces the pinned documents (text: its parsed document) and forgets their validation."""
    global _pinned
    _pinned = dict(documents)
    _pinned_validation.clear()


def parsed(query: str) -> DocumentNode | GraphQLError:
    """The document `query` parses to, or its syntax error."""
    pinned = _pinned.get(query)
    return pinned if pinned is not None else _parsed(query)


@functools.lru_cache(maxsize=DOCUMENT_CACHE_SIZE)
def _parsed(query: str) -> DocumentNode | GraphQLError:
    try:
        return parse(query)
    except GraphQLError as error:
        return error


# The LRU's statistics and reset, where callers (and tests) look for them.
parsed.cache_info = _parsed.cache_info  # type: ignore[attr-defined]
parsed.cache_clear = _parsed.cache_clear  # type: ignore[attr-defined]


@functools.cache
def _rules(anonymous: bool, _limits: Limits) -> tuple[type[ValidationRule], ...]:
    return (*specified_rules, *limit_rules(anonymous=anonymous))


def validation_rules(*, anonymous: bool) -> tuple[type[ValidationRule], ...]:
    """graphql's standard rules and the API's limits (limits.limit_rules) for a caller: the same
    classes for every request under the same limits, so that validation can be cached."""
    return _rules(anonymous, limits())


@functools.lru_cache(maxsize=DOCUMENT_CACHE_SIZE)
def _validation_errors(
    schema: GraphQLSchema, query: str, rules: tuple[type[ValidationRule], ...]
) -> tuple[GraphQLError, ...]:
    document = parsed(query)
    assert isinstance(document, DocumentNode)  # validated only once parsed
    return tuple(validate(schema, document, rules, graphene_settings.MAX_VALIDATION_ERRORS))


def validation_errors(
    schema: GraphQLSchema, query: str, rules: tuple[type[ValidationRule], ...]
) -> tuple[GraphQLError, ...]:
    """The errors of validating the document of `query` with `rules` (none: valid)."""
    rules = tuple(rules)
    if query not in _pinned:
        return _validation_errors(schema, query, rules)
    key = (schema, query, rules)
    errors = _pinned_validation.get(key)
    if errors is None:
        errors = _pinned_validation[key] = tuple(
            validate(schema, _pinned[query], rules, graphene_settings.MAX_VALIDATION_ERRORS)
        )
    return errors


def clear_caches() -> None:
    _parsed.cache_clear()
    _pinned_validation.clear()
    _rules.cache_clear()
    _validation_errors.cache_clear()
    cost.clear_cache()


@receiver(setting_changed)
def _forget_validation(*, setting: str, **_kwargs) -> None:
    if setting == "GRAPHQL_LIMITS":
        _rules.cache_clear()
        _validation_errors.cache_clear()
        _pinned_validation.clear()
        cost.clear_cache()


class ResponseTooLarge(BaseException):  # noqa: N818 - a signal, like KeyboardInterrupt
    """A query's answer would hold more than GRAPHQL_LIMITS["MAX_RESPONSE_VALUES"] list-item
    values: execution stops at once and the answer is QUERY_TOO_COSTLY, no data.

    Why in the executor: the cost model (cost.py) bounds an answer only as far as its list
    bounds hold, and one of them, the items of a course, is a setting the admin enforces, not a
    database constraint (a command or a migration can add more). So lists are counted as they
    are completed: before completing a list, its items times the fields selected on each are
    added to the request's count, and past the limit nothing more is built. Counting once per
    list, not per value, costs next to nothing. A BaseException, so that graphql-core's
    per-field error handling (which catches Exception) does not turn it into a null field and
    carry on building the rest; BoundedExecutionContext.execute_operation catches it. Mutations
    are not counted: their change is committed before their payload is built, and refusing the
    answer would invite a retry that applies it twice (their lists are one error, or an undo's
    skipped rows)."""

    def __init__(self, limit: int) -> None:
        super().__init__(limit)
        self.limit = limit

    def error(self) -> GraphQLError:
        return GraphQLError(
            f"The answer would hold more than {self.limit} values; ask for fewer items or fields",
            extensions={"code": cost.QUERY_TOO_COSTLY, "values_limit": self.limit},
        )


class BoundedExecutionContext(ExecutionContext):
    """graphql-core's execution with the answer's size bounded (ResponseTooLarge): lists are
    counted as they are completed, and past the limit the answer is the refusal alone.

    Given to graphql-core through its public extension point
    (`execute(execution_context_class=...)`); the short path, when on, is mixed in by the
    fast-path home (execution_context_class) and counts the lists it completes itself through
    count_list. The steps of the class it overrides and calls are marked private in
    graphql-core's documentation: the endpoint is served only once response_limit_check found
    them as expected (it fails closed: a limit cannot be switched off as a fast path is)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        #: List-item values this query's answer may still hold (None: a mutation, uncounted).
        self.values_left: int | None = (
            limits().max_response_values
            if self.operation.operation is OperationType.QUERY
            else None
        )
        self.too_large: ResponseTooLarge | None = None

    def execute_operation(self, operation, root_value):
        """graphql-core's, stopped by ResponseTooLarge (build_response then answers it)."""
        try:
            return super().execute_operation(operation, root_value)
        except ResponseTooLarge as too_large:
            self.too_large = too_large
            return None

    def build_response(self, data, errors) -> ExecutionResult:
        """graphql-core's; only the refusal when the answer was too large (no data: nothing of
        it was sent, and the errors of the fields completed before it do not matter)."""
        if self.too_large is not None:
            return ExecutionResult(data=None, errors=[self.too_large.error()])
        return super().build_response(data, errors)

    def count_list(self, items: int, fields_per_item: int) -> None:
        """Counts a list about to be completed; raises ResponseTooLarge past the limit."""
        if self.values_left is None:
            return
        self.values_left -= items * max(1, fields_per_item)
        if self.values_left < 0:
            raise ResponseTooLarge(limits().max_response_values)

    def complete_list_value(self, return_type, field_nodes, info, path, result):
        """graphql-core's, after counting the list (count_list)."""
        if self.values_left is not None and isinstance(result, Sized):
            item_type = get_nullable_type(return_type.of_type)
            fields = (
                len(self.collect_subfields(item_type, field_nodes))
                if is_object_type(item_type)
                else 1
            )
            self.count_list(len(result), fields)
        return super().complete_list_value(return_type, field_nodes, info, path, result)


def execution_context_class() -> type[ExecutionContext]:
    """The class a request executes with: BoundedExecutionContext, with the GraphQL short path
    mixed in while that fast path is on (enrollments/fastpaths/graphql_short_path.py)."""
    return graphql_short_path.execution_context_class(BoundedExecutionContext)


def execute_request(view, request, query, variables, operation_name, show_graphiql=False):
    """graphene-django's GraphQLView.execute_graphql_request over the cached document and
    validation, executed synchronously. `view` supplies the schema, rules, context and
    middleware as graphene-django's method reads them."""
    if not query:
        if show_graphiql:
            return None
        raise HttpError(HttpResponseBadRequest("Must provide query string."))
    schema = view.schema.graphql_schema
    document = parsed(query)
    if isinstance(document, GraphQLError):
        return ExecutionResult(errors=[document])
    operation_ast = get_operation_ast(document, operation_name)
    if (
        request.method.lower() == "get"
        and operation_ast is not None
        and operation_ast.operation != OperationType.QUERY
    ):
        if show_graphiql:
            return None
        raise HttpError(
            HttpResponseNotAllowed(
                ["POST"],
                f"Can only perform a {operation_ast.operation.value} operation from a POST "
                "request.",
            )
        )
    errors = validation_errors(schema, query, view.validation_rules)
    if errors:
        return ExecutionResult(data=None, errors=list(errors))
    # The cost model, with the request's variables (cost.py): refused before anything runs.
    too_costly = cost.cost_error(schema, query, document, operation_name, variables, limits())
    if too_costly is not None:
        return ExecutionResult(data=None, errors=[too_costly])
    options = {
        "root_value": view.get_root_value(request),
        "context_value": view.get_context(request),
        "variable_values": variables,
        "operation_name": operation_name,
        # None, not an empty list, when there is no middleware: graphql-core wraps every
        # field's resolver through a MiddlewareManager it is given, even an empty one.
        "middleware": view.get_middleware(request) or None,
        "is_awaitable": never_awaitable,
    }
    options["execution_context_class"] = view.execution_context_class or execution_context_class()
    # Unlike graphene-django, a failure of execution itself (not of a field: graphql-core
    # reports those in the result) is raised, not returned as the document's error: the view
    # answers it as the server's fault (500 INTERNAL_SERVER_ERROR, logged with an error id),
    # or 503 SERVICE_UNAVAILABLE when the database does not answer.
    if (
        operation_ast is not None
        and operation_ast.operation == OperationType.MUTATION
        and (
            graphene_settings.ATOMIC_MUTATIONS is True
            or connection.settings_dict.get("ATOMIC_MUTATIONS", False) is True
        )
    ):
        with transaction.atomic():
            result = execute(schema, document, **options)
            if getattr(request, MUTATION_ERRORS_FLAG, False) is True:
                transaction.set_rollback(True)
    else:
        result = execute(schema, document, **options)
    # A field that failed because the database does not answer fails the whole request: the
    # view answers 503, which a client retries, rather than a partial answer blaming a field.
    outage = database_outage(result.errors)
    if outage is not None:
        raise outage
    return result
