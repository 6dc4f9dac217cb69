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
- execution takes a synchronous path: this schema has no async resolver, so no resolved value is
  ever awaitable and the per-field check is replaced by one that answers False at once. (A
  coroutine returned by a resolver would then be serialised as a value, not awaited: any
  future async resolver needs this path changed.) Fields read by the default resolver or a
  `root_only` resolver (scalars, objects, lists of non-null objects) skip graphql-core's
  per-field machinery altogether (SyncExecutionContext).

Everything else is graphene-django's `execute_graphql_request`, kept step for step: the GET
mutation refusal, the validation error answer, ATOMIC_MUTATIONS with its rollback flag. One
difference: what execution itself raises (a bug, a database outage) is raised to the view, which
answers it as the server's failure (enrollments/graphql/views.py), where graphene-django would
return it as the document's error, the client's fault with the exception's text.
"""

import functools
from collections.abc import Callable, Sized
from dataclasses import dataclass
from typing import Any

from django.core.signals import setting_changed
from django.db import connection, transaction
from django.dispatch import receiver
from django.http import HttpResponseBadRequest, HttpResponseNotAllowed
from graphene.types.resolver import attr_resolver, dict_or_attr_resolver
from graphene_django.constants import MUTATION_ERRORS_FLAG
from graphene_django.settings import graphene_settings
from graphene_django.views import HttpError
from graphql import (
    DocumentNode,
    ExecutionContext,
    ExecutionResult,
    GraphQLError,
    GraphQLField,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    OperationType,
    ValidationRule,
    execute,
    get_nullable_type,
    get_operation_ast,
    is_leaf_type,
    is_list_type,
    is_non_null_type,
    is_object_type,
    located_error,
    parse,
    specified_rules,
    validate,
)
from graphql.pyutils import Path, Undefined

from enrollments.graphql import cost
from enrollments.graphql.errors import database_outage
from enrollments.graphql.limits import Limits, limit_rules, limits

#: Distinct documents kept parsed, and (document, rules) pairs kept validated. Clients send a
#: handful of documents each (their queries are written in their code), so a few hundred cover
#: every client while bounding the memory: each entry is at most MAX_QUERY_LENGTH characters
#: and its AST.
DOCUMENT_CACHE_SIZE = 256


@functools.lru_cache(maxsize=DOCUMENT_CACHE_SIZE)
def parsed(query: str) -> DocumentNode | GraphQLError:
    """The document `query` parses to, or its syntax error."""
    try:
        return parse(query)
    except GraphQLError as error:
        return error


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
    return _validation_errors(schema, query, tuple(rules))


def clear_caches() -> None:
    parsed.cache_clear()
    _rules.cache_clear()
    _validation_errors.cache_clear()
    cost.clear_cache()


@receiver(setting_changed)
def _forget_validation(*, setting: str, **_kwargs) -> None:
    if setting == "GRAPHQL_LIMITS":
        _rules.cache_clear()
        _validation_errors.cache_clear()
        cost.clear_cache()


def _never_awaitable(_value: object) -> bool:
    return False


def root_only(resolver: Callable) -> Callable:
    """Marks a resolver that reads only its parent value: never `info`, never an argument. The
    short path (SyncExecutionContext) calls it as `resolver(parent, None)`; tests run every
    marked resolver of the schema that way against graphql-core's own execution."""
    resolver.reads_root_only = True  # type: ignore[attr-defined]
    return resolver


_DEFAULT_RESOLVERS = (dict_or_attr_resolver, attr_resolver)


def _reader(field: GraphQLField) -> Callable[[Any], Any] | None:
    """How the short path reads `field` from its parent: graphene's default resolver (an
    attribute or dict key) or a root_only resolver; None when only graphql-core may."""
    resolver = field.resolve
    if getattr(resolver, "reads_root_only", False):
        return lambda source: resolver(source, None)
    if not (
        isinstance(resolver, functools.partial)
        and resolver.func in _DEFAULT_RESOLVERS
        and len(resolver.args) == 2
        and not resolver.keywords
    ):
        return None
    attname, default = resolver.args

    def read(source):
        if isinstance(source, dict):
            return source.get(attname, default)
        return getattr(source, attname, default)

    return read


@dataclass(frozen=True, slots=True)
class _Plan:
    """How the short path completes one schema field: `read` the value from the parent, then
    serialise it (a scalar or enum), execute its selection (an object type) or do either for
    each item (a list of non-null objects)."""

    read: Callable[[Any], Any]
    return_type: GraphQLOutputType
    nullable: bool
    serialize: Callable[[Any], Any] | None = None
    object_type: GraphQLObjectType | None = None
    is_list: bool = False


def _plan(field: GraphQLField) -> _Plan | None:
    """The short path's plan of `field`, or None: the field takes graphql-core's path (an
    argument-reading resolver, an abstract type, an is_type_of check, a nullable list item)."""
    read = _reader(field)
    if read is None:
        return None
    nullable = not is_non_null_type(field.type)
    named = field.type.of_type if not nullable else field.type
    if is_leaf_type(named):
        return _Plan(read, field.type, nullable, serialize=named.serialize)
    is_list = is_list_type(named)
    if is_list:
        if not is_non_null_type(named.of_type):
            return None
        named = named.of_type.of_type
    if not is_object_type(named) or named.is_type_of is not None:
        return None
    return _Plan(read, field.type, nullable, object_type=named, is_list=is_list)


#: What SyncExecutionContext._short answers when a field must take graphql-core's path.
_SLOW = object()


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
    carry on building the rest; SyncExecutionContext.execute_operation catches it. Mutations
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


class SyncExecutionContext(ExecutionContext):
    """graphql-core's execution with a short path for the fields of a page that need none of
    its per-field machinery (every field of the benchmark's page of 100 but its root): a field
    read by graphene's default resolver or by a root_only resolver, passed no arguments, whose
    value is a scalar, an object or a list of non-null objects. It is read and completed
    directly, without resolve info, argument dict, middleware and awaitable checks (and, for
    scalars, without a response path).

    Every short-path read is pure (an attribute, a key, a root_only resolver), so whatever the
    short path cannot complete as it is (a null where the type forbids one, a value that does
    not serialise, a read that raises, a list that is not a list) is handed to graphql-core's
    own path from the start, before anything of it was recorded: same value, same error, same
    path. An error raised inside an object's selection is located and handled as graphql-core's
    execute_field would (null at the nearest nullable field). Only with `_never_awaitable`
    (execute_request's) and no middleware: graphql-core's own loop gathers awaitable results,
    which this one never has.
    """

    #: Per schema field: (field, plan or None). Bounded by the schema (a plan per field node
    #: would keep every document ever sent alive); checked by identity against a reused id.
    _plans: dict[int, tuple[GraphQLField, _Plan | None]] = {}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        #: Per selection (a collected fields dict, kept alive by graphql-core's subfields
        #: cache): its fields with their plans, looked up once per request, not once per row.
        self._selections: dict[int, tuple[dict, list]] = {}
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

    def execute_fields(self, parent_type, source_value, path, fields):
        middleware = self.middleware_manager
        if self.is_awaitable is not _never_awaitable or (middleware and middleware.middlewares):
            return super().execute_fields(parent_type, source_value, path, fields)
        results = {}
        for response_name, field_nodes, plan in self._selection(parent_type, fields):
            result = _SLOW
            if plan is not None:
                result = self._short(
                    plan, parent_type, source_value, field_nodes, path, response_name
                )
            if result is _SLOW:
                result = self.execute_field(
                    parent_type,
                    source_value,
                    field_nodes,
                    Path(path, response_name, parent_type.name),
                )
            if result is not Undefined:
                results[response_name] = result
        return results

    def _selection(self, parent_type, fields) -> list:
        """(response name, field nodes, plan or None) for each field of `fields`."""
        cached = self._selections.get(id(fields))
        if cached is None or cached[0] is not fields:
            planned = [
                (name, nodes, self._plan_of(parent_type, nodes[0]))
                for name, nodes in fields.items()
            ]
            cached = (fields, planned)
            self._selections[id(fields)] = cached
        return cached[1]

    def _plan_of(self, parent_type, node) -> _Plan | None:
        if node.arguments:
            return None
        field = parent_type.fields.get(node.name.value)
        if field is None:  # __typename and the other meta-fields
            return None
        cached = self._plans.get(id(field))
        if cached is None or cached[0] is not field:
            cached = (field, _plan(field))
            self._plans[id(field)] = cached
        return cached[1]

    def _short(self, plan, parent_type, source, field_nodes, path, response_name):
        """The completed value of the field, or _SLOW (nothing done that graphql-core's path
        would not do again)."""
        try:
            value = plan.read(source)
        except Exception:  # noqa: BLE001 - graphql-core's path reads it again and reports it
            return _SLOW
        if value is None:
            return None if plan.nullable else _SLOW
        if value is Undefined or isinstance(value, Exception):
            return _SLOW
        if plan.serialize is not None:
            try:
                serialized = plan.serialize(value)
            except Exception:  # noqa: BLE001 - graphql-core's path reports it
                return _SLOW
            if serialized is None or serialized is Undefined:
                return _SLOW
            return serialized
        if plan.is_list and not (
            isinstance(value, (list, tuple)) and all(item is not None for item in value)
        ):
            return _SLOW
        field_path = Path(path, response_name, parent_type.name)
        try:
            subfields = self.collect_subfields(plan.object_type, field_nodes)
            if not plan.is_list:
                return self.execute_fields(plan.object_type, value, field_path, subfields)
            self.count_list(len(value), len(subfields))
            # An item's error reaches here located at the item, as from complete_list_value:
            # every error execute_fields passes on was located where it happened.
            return [
                self.execute_fields(
                    plan.object_type, item, Path(field_path, index, None), subfields
                )
                for index, item in enumerate(value)
            ]
        except Exception as raw_error:
            # As execute_field: located at the field (unless already located deeper), then
            # null here if the field is nullable, else passed on to the parent.
            error = located_error(raw_error, field_nodes, field_path.as_list())
            self.handle_field_error(error, plan.return_type, field_path)
            return None


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
        "middleware": view.get_middleware(request),
        "is_awaitable": _never_awaitable,
    }
    options["execution_context_class"] = view.execution_context_class or SyncExecutionContext
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
