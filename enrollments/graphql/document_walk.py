"""One walk of a GraphQL document, shared by every limit that reads its shape: depth, aliases
(limits.py), cost (cost.py) and the rate limiter's count of mutations (apikeys.ratelimit).

Four walks used to do this, each with its own idea of a document: the cost walk counted a
fragment spread twice where graphql-core executes it once, none of them honoured `@skip` or
`@include`, and none knew which fields are lists. This one collects fields the way graphql-core's
executor does (graphql.execution.collect_fields, mirrored here, and tests compare the two):

- the fields of a selection are grouped by response key (alias or name): two fields under one
  key are executed once, with their selections merged;
- fragments (named and inline) are followed when their type condition applies to the parent
  type; a named fragment is spread once per collection (a second spread adds nothing);
- `@skip(if:)` and `@include(if:)` are honoured with literal values, and with variables when
  their values are known. When they are not (validation, cached per document text, and the rate
  limiter, which counts before variables are coerced), a condition on a variable counts as
  "included": a walk without variables never sees less than any execution of the document does;
  the same goes for arguments (UNKNOWN), which pricing takes at their most expensive.

What it computes is the shape of the answer: its depth, its aliased keys (each counted once
where it appears in the answer's shape, not once per item of a list) and, given a pricing
(cost.Pricing), its cost: each field's own cost plus, for a list, the most items it can hold
times the cost of one item's selection. Results are kept per (parent type, merged field nodes,
pricing context), so a fragment spread under many fields is measured once and a "fragment bomb"
(each fragment spreading the next twice) is walked in linear time while its cost, an exact
integer, may be astronomic.

A walk stops early, and says so (`Shape.incomplete`), on a fragment cycle (invalid: the standard
rule NoFragmentCycles refuses it), beyond MAX_LEVELS levels, or after MAX_STEPS distinct
selections (a document of 10,000 characters has far fewer). Its figures are then lower bounds,
and the limits refuse the document.
"""

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SchemaMetaFieldDef,
    TypeMetaFieldDef,
    TypeNameMetaFieldDef,
    ValueNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
    get_operation_ast,
    is_abstract_type,
    is_list_type,
    is_object_type,
    value_from_ast_untyped,
)


class _Unknown:
    """An argument or condition whose value is not known: it comes from a variable and the walk
    was given none."""

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Any = _Unknown()

#: Levels of fields a walk follows (the depth limit is far lower; this only bounds the walk).
MAX_LEVELS = 256
#: Distinct (type, merged fields) selections a walk measures before giving up.
MAX_STEPS = 50_000


@dataclass(frozen=True, slots=True)
class Shape:
    """What a walk found under one selection (or a whole operation)."""

    depth: int = 0
    aliases: int = 0
    cost: int = 0


@dataclass(frozen=True, slots=True)
class Field:
    """A collected field, as pricing sees it: its response key, its nodes (one or more, merged
    under the key), the type it is selected on and its schema definition (None when unknown:
    the walk then goes on untyped)."""

    key: str
    name: str
    nodes: tuple[FieldNode, ...]
    parent_type: GraphQLNamedType | None
    definition: GraphQLField | None

    @property
    def is_list(self) -> bool:
        return self.definition is not None and is_list_type(get_nullable_type(self.definition.type))


class Pricing(Protocol):
    def price(
        self, walk: "DocumentWalk", field: Field, context: Hashable
    ) -> tuple[int, int, Hashable]:
        """(own cost, most items when a list else 1, context of the field's selection)."""


class DocumentWalk:
    """Walks the operations of `document`. `schema`: the types (None: untyped, every fragment
    applies); `variables`: coerced variable values (None: unknown, see the module docstring);
    `pricing`: how fields cost (None: every cost is 0)."""

    def __init__(
        self,
        document: DocumentNode,
        *,
        schema: GraphQLSchema | None = None,
        variables: Mapping[str, Any] | None = None,
        pricing: Pricing | None = None,
    ) -> None:
        self.document = document
        self.schema = schema
        self.variables = variables
        self.pricing = pricing
        self.fragments = {
            definition.name.value: definition
            for definition in document.definitions
            if isinstance(definition, FragmentDefinitionNode)
        }
        #: Why the walk stopped early ("cycle", "levels", "steps"), None when it did not.
        self.incomplete: str | None = None
        #: Whether a figure depended on a variable the walk did not know.
        self.read_unknown = False
        self._measured: dict[Hashable, Shape] = {}
        self._open: set[Hashable] = set()
        self._steps = 0

    @classmethod
    def of_resolve_info(cls, info: GraphQLResolveInfo) -> "DocumentWalk":
        """A walk of the document a resolver runs in, with the execution's variables: what its
        `collect` finds under the resolver's field is what graphql-core executes there."""
        document = DocumentNode(definitions=(info.operation, *info.fragments.values()))
        return cls(document, schema=info.schema, variables=info.variable_values)

    # -- operations -------------------------------------------------------------------------

    def operations(self) -> list[OperationDefinitionNode]:
        return [d for d in self.document.definitions if isinstance(d, OperationDefinitionNode)]

    def operation(self, name: str | None) -> OperationDefinitionNode | None:
        """The operation a request with `name` runs (None: none or ambiguous)."""
        return get_operation_ast(self.document, name)

    def root_type(self, operation: OperationDefinitionNode) -> GraphQLObjectType | None:
        return None if self.schema is None else self.schema.get_root_type(operation.operation)

    def root_fields(self, operation: OperationDefinitionNode) -> dict[str, list[FieldNode]]:
        """The operation's top-level fields by response key, as graphql-core executes them."""
        return self.collect(self.root_type(operation), (operation,))

    def shape(self, operation: OperationDefinitionNode, context: Hashable = None) -> Shape:
        return self._measure(self.root_type(operation), (operation,), context, 1)

    # -- collection (graphql.execution.collect_fields, with unknown variables) ----------------

    def collect(
        self, parent_type: GraphQLNamedType | None, nodes: Iterable[Any]
    ) -> dict[str, list[FieldNode]]:
        """The fields selected by `nodes` (fields or operations) on `parent_type`, grouped by
        response key in document order; a named fragment is spread once per collection."""
        fields: dict[str, list[FieldNode]] = {}
        spread: set[str] = set()
        for node in nodes:
            if node.selection_set is not None:
                self._collect(parent_type, node.selection_set, fields, spread)
        return fields

    def _collect(self, parent_type, selection_set, fields, spread) -> None:
        for selection in selection_set.selections:
            if not self.included(selection):
                continue
            if isinstance(selection, FieldNode):
                key = (selection.alias or selection.name).value
                fields.setdefault(key, []).append(selection)
            elif isinstance(selection, InlineFragmentNode):
                if self._applies(selection, parent_type):
                    self._collect(parent_type, selection.selection_set, fields, spread)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name in spread:
                    continue
                spread.add(name)
                fragment = self.fragments.get(name)
                if fragment is not None and self._applies(fragment, parent_type):
                    self._collect(parent_type, fragment.selection_set, fields, spread)

    def _applies(self, fragment, parent_type) -> bool:
        """Whether a fragment's type condition applies to `parent_type` (graphql-core's
        does_fragment_condition_match); always, untyped."""
        condition = fragment.type_condition
        if condition is None or self.schema is None or parent_type is None:
            return True
        conditional = self.schema.get_type(condition.name.value)
        if conditional is parent_type:
            return True
        if is_abstract_type(conditional) and is_object_type(parent_type):
            return self.schema.is_sub_type(conditional, parent_type)
        return False

    def included(self, node) -> bool:
        """`@skip` / `@include` as graphql-core applies them (skip wins); a condition on an
        unknown variable includes the node."""
        for directive in node.directives or ():
            name = directive.name.value
            if name not in ("skip", "include"):
                continue
            condition = self.argument((directive,), "if")
            if condition is UNKNOWN:
                continue
            if (name == "skip" and condition) or (name == "include" and not condition):
                return False
        return True

    def argument(self, nodes: Sequence[Any], name: str) -> Any:
        """The value of argument `name` as written on the first of `nodes` that has it (None
        when none does), variables substituted; UNKNOWN for a variable without a value."""
        for node in nodes:
            for argument in node.arguments or ():
                if argument.name.value == name:
                    return self.value(argument.value)
        return None

    def value(self, node: ValueNode) -> Any:
        if isinstance(node, VariableNode):
            if self.variables is None:
                self.read_unknown = True
                return UNKNOWN
            return self.variables.get(node.name.value)
        return value_from_ast_untyped(node, self.variables)

    # -- measuring ----------------------------------------------------------------------------

    def definition(self, parent_type, name: str) -> GraphQLField | None:
        if name == "__typename":
            return TypeNameMetaFieldDef
        if self.schema is not None and parent_type is self.schema.query_type:
            if name == "__schema":
                return SchemaMetaFieldDef
            if name == "__type":
                return TypeMetaFieldDef
        fields = getattr(parent_type, "fields", None)
        return fields.get(name) if fields is not None else None

    def _measure(self, parent_type, nodes: Sequence[Any], context: Hashable, level: int) -> Shape:
        if level > MAX_LEVELS:
            self.incomplete = self.incomplete or "levels"
            return Shape()
        key = (id(parent_type), tuple(map(id, nodes)), context)
        measured = self._measured.get(key)
        if measured is not None:
            return measured
        if key in self._open:  # the same selection inside itself: a fragment cycle
            self.incomplete = self.incomplete or "cycle"
            return Shape()
        self._steps += 1
        if self._steps > MAX_STEPS:
            self.incomplete = self.incomplete or "steps"
            return Shape()
        self._open.add(key)
        depth = aliases = cost = 0
        for response_key, field_nodes in self.collect(parent_type, nodes).items():
            name = field_nodes[0].name.value
            definition = self.definition(parent_type, name)
            field = Field(response_key, name, tuple(field_nodes), parent_type, definition)
            own, items, below_context = (
                self.pricing.price(self, field, context) if self.pricing else (0, 1, None)
            )
            below = Shape()
            if any(node.selection_set is not None for node in field_nodes):
                child_type = get_named_type(definition.type) if definition else None
                below = self._measure(child_type, field.nodes, below_context, level + 1)
            depth = max(depth, 1 + below.depth)
            aliases += below.aliases + (response_key != name)
            cost += own + items * below.cost
        self._open.discard(key)
        shape = Shape(depth, aliases, cost)
        self._measured[key] = shape
        return shape
