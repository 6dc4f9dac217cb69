"""Fast path `graphql_short_path`: the fields of a page read and completed without graphql-core's
per-field machinery.

graphql-core executes every field the same way (`ExecutionContext.execute_field`): it builds a
resolve info, an argument dict and a response path, wraps the resolver in the middleware, calls
it, checks the result for being awaitable, then completes the value through `complete_value`'s
chain of type tests. Most fields of a page need none of that: graphene's default resolver (an
attribute or a dict key) or a resolver marked `root_only` (enrollments/graphql/resolving.py),
no argument, and a scalar, an object or a list of non-null objects for a value. A page of 100
with every contract field is some 5,000 such fields; without this path it takes 1.43-1.75x as
long in-process (docs/benchmarks.md has the figures, "fast paths off" column included).

What the short path does, per selection of an object type, with no middleware and the
synchronous `never_awaitable` (otherwise every field takes graphql-core's own path):

- a field with a plan (`plan_field`, a `FieldPlan`: a default or root_only reader, no argument
  in the document, a leaf, an object type without `is_type_of`, or a list of non-null such
  objects) is read once by its reader, then completed here when the value is a plain one (a
  scalar that serialises, an object, a list or tuple of objects), each object's selection by
  this same loop;
- any other value read (None where the type forbids it, an exception or graphql-core's
  `Undefined`, as the value or as a list item, a value that does not serialise to a value, a
  list that is not a list or tuple) is completed by graphql-core's own `complete_value`, with
  the value already read and the resolve info execute_field would have built: the same data,
  error and path as graphql-core, and the read is never run again;
- a read or a serialisation that raises is located and handled as execute_field does (null at
  the nearest nullable field, the error at the field's path), and is not run again either;
- a field without a plan takes graphql-core's `execute_field`.

The private API it relies on: graphql-core's `ExecutionContext.execute_fields` (overridden),
`execute_field`, `handle_field_error`, `complete_value`, `build_resolve_info` and
`collect_subfields` (called), all marked private in graphql-core's documentation and changed in
graphql-core 3.3; graphene's default resolver (`functools.partial(dict_or_attr_resolver,
name, default)`, read without calling it). `check` (when this module is first imported: it is
one of fastpaths.DEFERRED, imported by the web server at start-up) compares their signatures
with what this module expects, the installed graphql-core with the supported range, and runs a
small document on a toy schema both ways: any difference logs a WARNING and switches the fast
path off, and requests run on graphql-core's public path.

Off (`FASTPATHS_DISABLED=graphql_short_path` or `all`, or a failed check),
`execution_context_class` answers the base class it is given, unchanged.
"""

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import graphene
import graphql
from graphene.types.resolver import attr_resolver, dict_or_attr_resolver
from graphql import (
    ExecutionContext,
    GraphQLError,
    GraphQLField,
    GraphQLObjectType,
    GraphQLOutputType,
    MiddlewareManager,
    execute,
    is_leaf_type,
    is_list_type,
    is_non_null_type,
    is_object_type,
    located_error,
    parse,
)
from graphql.pyutils import Path, Undefined

from enrollments import fastpaths
from enrollments.graphql.execution_steps import (
    SUPPORTED_GRAPHQL_CORE,
    steps_mismatch,
    supported_range,
)
from enrollments.graphql.resolving import is_root_only, never_awaitable

NAME = "graphql_short_path"

#: The parameters of the ExecutionContext methods the short path overrides or calls.
EXECUTION_CONTEXT_PARAMETERS = {
    "execute_fields": ["self", "parent_type", "source_value", "path", "fields"],
    "execute_field": ["self", "parent_type", "source", "field_nodes", "path"],
    "handle_field_error": ["self", "error", "return_type", "path"],
    "complete_value": ["self", "return_type", "field_nodes", "info", "path", "result"],
    "build_resolve_info": ["self", "field_def", "field_nodes", "parent_type", "path"],
    "collect_subfields": ["self", "return_type", "field_nodes"],
}
#: The parameters of the other functions it calls or reads the arguments of.
FUNCTION_PARAMETERS = {
    "graphql.located_error": (located_error, ["original_error", "nodes", "path"]),
    "graphql.pyutils.Path": (Path, ["prev", "key", "typename"]),
    "graphene's dict_or_attr_resolver": (
        dict_or_attr_resolver,
        ["attname", "default_value", "root", "info", "args"],
    ),
    "graphene's attr_resolver": (
        attr_resolver,
        ["attname", "default_value", "root", "info", "args"],
    ),
}

_DEFAULT_RESOLVERS = (dict_or_attr_resolver, attr_resolver)


def reader(field: GraphQLField) -> Callable[[Any], Any] | None:
    """How the short path reads `field` from its parent: graphene's default resolver (an
    attribute or dict key) or a root_only resolver; None when only graphql-core may."""
    resolver = field.resolve
    if is_root_only(resolver):
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
class FieldPlan:
    """How the short path completes one schema field: `read` the value from the parent, then
    serialise it (a scalar or enum), execute its selection (an object type) or that of each
    item (a list of non-null objects). (Not the operation core's `Plan` of changes.)"""

    field: GraphQLField
    read: Callable[[Any], Any]
    nullable: bool
    serialize: Callable[[Any], Any] | None = None
    object_type: GraphQLObjectType | None = None
    #: The list's item type (NonNull(object_type)), None when the field is not a list.
    item_type: GraphQLOutputType | None = None

    @property
    def return_type(self) -> GraphQLOutputType:
        return self.field.type


def plan_field(field: GraphQLField) -> FieldPlan | None:
    """The short path's plan of `field`, or None: the field takes graphql-core's path (an
    argument-reading resolver, an abstract type, an is_type_of check, a nullable list item)."""
    read = reader(field)
    if read is None:
        return None
    nullable = not is_non_null_type(field.type)
    named = field.type if nullable else field.type.of_type
    if is_leaf_type(named):
        return FieldPlan(field, read, nullable, serialize=named.serialize)
    item_type = None
    if is_list_type(named):
        item_type = named.of_type
        if not is_non_null_type(item_type):
            return None
        named = item_type.of_type
    if not is_object_type(named) or named.is_type_of is not None:
        return None
    return FieldPlan(field, read, nullable, object_type=named, item_type=item_type)


def _plain(value: Any) -> bool:
    """Whether graphql-core would complete `value` as an ordinary value, with no error or null
    of its own: not None, not an exception, not `Undefined` (itself an exception in 3.2)."""
    return value is not None and value is not Undefined and not isinstance(value, Exception)


class ShortPath:
    """The short path, mixed into an ExecutionContext subclass (`with_short_path`). The class
    it is mixed into may define `count_list(items, fields_per_item)`, called before a list is
    completed here (as it would be before graphql-core completes one): the API's bound on the
    size of an answer (enrollments/graphql/execution.py)."""

    #: Per schema field: (field, plan or None). Bounded by the schema (a plan per field node
    #: would keep every document ever sent alive); checked by identity against a reused id.
    field_plans: dict[int, tuple[GraphQLField, FieldPlan | None]] = {}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        #: Per selection (a collected fields dict, kept alive by graphql-core's subfields
        #: cache): its fields with their plans, looked up once per request, not once per row.
        self.selections: dict[int, tuple[dict, list]] = {}

    def execute_fields(self, parent_type, source_value, path, fields):
        middleware = self.middleware_manager
        if self.is_awaitable is not never_awaitable or (middleware and middleware.middlewares):
            return super().execute_fields(parent_type, source_value, path, fields)
        results = {}
        for response_name, field_nodes, field_plan in self.selection(parent_type, fields):
            if field_plan is None:
                field_path = Path(path, response_name, parent_type.name)
                result = self.execute_field(parent_type, source_value, field_nodes, field_path)
            else:
                result = self.short(
                    field_plan, parent_type, source_value, field_nodes, path, response_name
                )
            if result is not Undefined:
                results[response_name] = result
        return results

    def selection(self, parent_type, fields) -> list:
        """(response name, field nodes, plan or None) for each field of `fields`."""
        cached = self.selections.get(id(fields))
        if cached is None or cached[0] is not fields:
            planned = [
                (name, nodes, self.field_plan_of(parent_type, nodes[0]))
                for name, nodes in fields.items()
            ]
            cached = (fields, planned)
            self.selections[id(fields)] = cached
        return cached[1]

    def field_plan_of(self, parent_type, node) -> FieldPlan | None:
        if node.arguments:
            return None
        field = parent_type.fields.get(node.name.value)
        if field is None:  # __typename and the other meta-fields
            return None
        cached = self.field_plans.get(id(field))
        if cached is None or cached[0] is not field:
            cached = (field, plan_field(field))
            self.field_plans[id(field)] = cached
        return cached[1]

    def short(
        self, field_plan: FieldPlan, parent_type, source, field_nodes, parent_path, response_name
    ):
        """The completed value of the field, its value read once. The field's `Path` is made
        only where it is used (an object's fields, a list's items, an error): a scalar read
        and serialised without one, as most fields of a page are (about 1.2 ms of a page of 100
        in-process, docs/benchmarks.md)."""
        try:
            value = field_plan.read(source)
        except Exception as raw_error:  # noqa: BLE001 - handled as execute_field does
            field_path = Path(parent_path, response_name, parent_type.name)
            return self.field_error(raw_error, field_plan, field_nodes, field_path)
        if value is None and field_plan.nullable:
            return None
        serialize = field_plan.serialize
        if serialize is not None and _plain(value):
            try:
                serialized = serialize(value)
            except Exception as raw_error:  # noqa: BLE001 - handled as execute_field does
                field_path = Path(parent_path, response_name, parent_type.name)
                return self.field_error(raw_error, field_plan, field_nodes, field_path)
            if serialized is not None and serialized is not Undefined:
                return serialized
            # graphql-core's error for it (the serializer, a pure function of the value, runs
            # once more).
        field_path = Path(parent_path, response_name, parent_type.name)
        if serialize is not None or not _plain(value):
            return self.complete(field_plan, parent_type, value, field_nodes, field_path)
        object_type = field_plan.object_type
        if field_plan.item_type is not None and not (
            isinstance(value, (list, tuple)) and all(_plain(item) for item in value)
        ):
            return self.complete(field_plan, parent_type, value, field_nodes, field_path)
        try:
            subfields = self.collect_subfields(object_type, field_nodes)
            if field_plan.item_type is None:
                return self.execute_fields(object_type, value, field_path, subfields)
            count_list = getattr(self, "count_list", None)
            if count_list is not None:
                count_list(len(value), len(subfields))
            return [
                self.item(field_plan, item, field_nodes, field_path.add_key(index, None), subfields)
                for index, item in enumerate(value)
            ]
        except Exception as raw_error:  # noqa: BLE001 - handled as execute_field does
            return self.field_error(raw_error, field_plan, field_nodes, field_path)

    def item(self, field_plan: FieldPlan, item, field_nodes, item_path, subfields):
        """A list item's completed selection; its error located at the item and passed on to
        the list (the item is non-null), as complete_list_value does."""
        try:
            return self.execute_fields(field_plan.object_type, item, item_path, subfields)
        except Exception as raw_error:  # noqa: BLE001 - as complete_list_value
            error = located_error(raw_error, field_nodes, item_path.as_list())
            self.handle_field_error(error, field_plan.item_type, item_path)
            return None

    def complete(self, field_plan: FieldPlan, parent_type, value, field_nodes, field_path):
        """graphql-core's completion of a value already read: execute_field from the resolver's
        answer on (the resolve info it builds, complete_value, its error handling)."""
        info = self.build_resolve_info(field_plan.field, field_nodes, parent_type, field_path)
        try:
            return self.complete_value(field_plan.return_type, field_nodes, info, field_path, value)
        except Exception as raw_error:  # noqa: BLE001 - as execute_field
            return self.field_error(raw_error, field_plan, field_nodes, field_path)

    def field_error(
        self, raw_error: Exception, field_plan: FieldPlan, field_nodes, field_path
    ) -> None:
        """As execute_field: located at the field (unless already located deeper), then null
        here if the field is nullable, else raised on to the parent."""
        error = located_error(raw_error, field_nodes, field_path.as_list())
        self.handle_field_error(error, field_plan.return_type, field_path)


@functools.cache
def with_short_path(base: type[ExecutionContext]) -> type[ExecutionContext]:
    """`base` with the short path (one class per base, made once)."""
    return type(f"{base.__name__}WithShortPath", (ShortPath, base), {"__module__": __name__})


def execution_context_class(base: type[ExecutionContext]) -> type[ExecutionContext]:
    """The class to execute with: `base` with the short path while it is on, else `base`."""
    return with_short_path(base) if FAST_PATH.enabled else base


# -- the check --------------------------------------------------------------------------------


class CheckItem(graphene.ObjectType):
    label = graphene.String(required=True)
    weight = graphene.Int()


class CheckBox(graphene.ObjectType):
    name = graphene.String()
    items = graphene.List(graphene.NonNull(CheckItem))
    item = graphene.Field(CheckItem)


class CheckQuery(graphene.ObjectType):
    boxes = graphene.List(graphene.NonNull(CheckBox), required=True)

    @staticmethod
    def resolve_boxes(root, info):
        return [
            {
                "name": "a",
                "items": [{"label": "x", "weight": 1}, {"label": "x2"}],
                "item": {"label": "y"},
            },
            {"name": "b", "items": [{"label": "z", "weight": 2**40}], "item": {"label": None}},
            {"items": [{"label": "w"}, ValueError("an item")], "item": Undefined},
            {"name": 7, "items": "not a list", "item": ValueError("a value")},
        ]


CHECK_DOCUMENT = "{ boxes { name items { label weight } item { label } } }"


@functools.cache
def _check_schema() -> graphql.GraphQLSchema:
    return graphene.Schema(query=CheckQuery).graphql_schema


def _answers_as_graphql_core() -> str | None:
    """None when a document over a toy schema (scalars, objects, lists of objects, nulls,
    errors, an exception and Undefined as values and list items) answers the same through the
    short path as through graphql-core, and the short path served its default-resolved fields;
    else what differs."""
    schema = _check_schema()
    if plan_field(schema.get_type("CheckBox").fields["name"]) is None:
        return "graphene's default resolver is no longer partial(dict_or_attr_resolver, ...)"
    document = parse(CHECK_DOCUMENT)
    ours = execute(
        schema,
        document,
        execution_context_class=with_short_path(ExecutionContext),
        is_awaitable=never_awaitable,
    )
    theirs = execute(schema, document)

    def formatted(errors: list[GraphQLError] | None) -> list:
        return [error.formatted for error in errors or []]

    if ours.data != theirs.data or formatted(ours.errors) != formatted(theirs.errors):
        return f"a toy document answers {ours} on the short path, {theirs} on graphql-core's"
    return None


def check() -> str | None:
    """None when graphql-core is in the supported range, the private methods and functions
    the short path relies on take the parameters it passes, and a toy document answers the
    same both ways; else what differs."""
    low, high = SUPPORTED_GRAPHQL_CORE
    version = graphql.version_info
    if not low <= (version.major, version.minor, version.micro) < high:
        return f"graphql-core {graphql.version} is outside the supported range {supported_range()}"
    changed = steps_mismatch(EXECUTION_CONTEXT_PARAMETERS)
    if changed is not None:
        return changed
    for name, (function, expected) in FUNCTION_PARAMETERS.items():
        parameters = list(inspect.signature(function).parameters)
        if parameters != expected:
            return f"{name} takes {parameters}, expected {expected}"
    if not hasattr(MiddlewareManager(), "middlewares"):
        return "graphql-core's MiddlewareManager has no middlewares"
    return _answers_as_graphql_core()


FAST_PATH = fastpaths.register(
    NAME,
    summary="GraphQL fields read and completed without graphql-core's per-field machinery",
    check=check,
)
