"""The query cost model: what one document may spend, before anything runs.

The rate limit counts requests, so without a cost model one request could ask for the work of
hundreds: 15 aliased `total_count`s filtered by `course_status` (a correlated count per row)
took 27 s at 300,000 enrollments while costing one request of the budget. Each document now
has a cost, computed from its text alone (a validation rule), and a document over the budget
is refused with QUERY_TOO_COSTLY before any data is read.

The cost of a document is the sum, over its root fields (each alias, and each spread of a
fragment, counted again; `__typename` and introspection free), of

    (PAGE + COUNT x number of `total_count`s selected on it) x FILTER_FACTOR

where PAGE is ROOT_FIELD, times FETCH_ALL_FACTOR when the field is given `fetch_all` (other
than a literal false: it reads up to ten pages' rows), and FILTER_FACTOR is
COURSE_STATUS_FACTOR when the field is given a `course_status` filter (an argument at all, a
variable included: the value is not known at validation) and 1 otherwise. The weights and the
budget are settings (GRAPHQL_LIMITS in config/settings.py, where their defaults are;
docs/api.md "Limits"). With the defaults (budget 100, root field 1, count 5, course_status x5,
fetch_all x10): a page costs 1, `fetch_all` 10, a page with its count 6, fifteen aliased
counts 90, fifteen aliased counts by course_status 450 (refused); three counts by
course_status fit.

The backstop for what the model does not foresee is the per-request statement timeout on
PostgreSQL (statement_timeout.py).
"""

from collections.abc import Iterable

from graphql import GraphQLError, ValidationRule
from graphql.language import (
    BooleanValueNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)

from enrollments.graphql.errors import QUERY_TOO_COSTLY

#: The field whose count is expensive, and the filter that makes a membership query expensive.
COUNTED_FIELD = "total_count"
EXPENSIVE_FILTER = "course_status"
#: The argument that reads every matching row (up to queries.FETCH_ALL_MAX) instead of a page.
FETCH_ALL = "fetch_all"


class _CostWalk:
    """Costs of a document's selection sets, following fragment spreads; each fragment's
    results are remembered, so a fragment spread into fragments is measured once (no
    exponential walk). Unknown fragments and cycles cost nothing here: the standard rules
    (KnownFragmentNames, NoFragmentCycles) refuse them."""

    def __init__(self, fragments: dict[str, FragmentDefinitionNode], weights) -> None:
        self.fragments = fragments
        self.weights = weights
        self.root_costs: dict[str, int] = {}
        self.count_keys: dict[str, frozenset[str]] = {}

    def root_cost(self, selection_set: SelectionSetNode | None, visiting=frozenset()) -> int:
        total = 0
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                total += self.field_cost(selection, visiting)
            elif isinstance(selection, InlineFragmentNode):
                total += self.root_cost(selection.selection_set, visiting)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in visiting:
                    continue
                if name not in self.root_costs:
                    self.root_costs[name] = self.root_cost(
                        fragment.selection_set, visiting | {name}
                    )
                total += self.root_costs[name]
        return total

    def field_cost(self, field: FieldNode, visiting: frozenset[str]) -> int:
        if field.name.value.startswith("__"):
            return 0
        weights = self.weights
        counts = len(self.counted(field.selection_set, visiting))
        arguments = {argument.name.value: argument.value for argument in field.arguments}
        factor = weights.cost_course_status_factor if EXPENSIVE_FILTER in arguments else 1
        page = weights.cost_root_field
        fetch_all = arguments.get(FETCH_ALL)
        if fetch_all is not None and not (
            isinstance(fetch_all, BooleanValueNode) and not fetch_all.value
        ):
            page *= weights.cost_fetch_all_factor  # up to FETCH_ALL_MAX rows: ten pages
        return (page + weights.cost_count * counts) * factor

    def counted(self, selection_set: SelectionSetNode | None, visiting) -> frozenset[str]:
        """Response keys of the `total_count` fields selected directly on a root field."""
        keys: set[str] = set()
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                if selection.name.value == COUNTED_FIELD:
                    keys.add((selection.alias or selection.name).value)
            elif isinstance(selection, InlineFragmentNode):
                keys |= self.counted(selection.selection_set, visiting)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in visiting:
                    continue
                if name not in self.count_keys:
                    self.count_keys[name] = self.counted(fragment.selection_set, visiting | {name})
                keys |= self.count_keys[name]
        return frozenset(keys)


def document_cost(document: DocumentNode, weights) -> int:
    """The cost of every operation of `document` under `weights` (a limits.Limits)."""
    definitions: Iterable = document.definitions
    fragments = {d.name.value: d for d in definitions if isinstance(d, FragmentDefinitionNode)}
    walk = _CostWalk(fragments, weights)
    try:
        return sum(
            walk.root_cost(d.selection_set)
            for d in document.definitions
            if isinstance(d, OperationDefinitionNode)
        )
    except RecursionError:  # absurd nesting: the depth rule refuses it too
        return weights.max_cost + 1


def cost_rule(weights) -> type[ValidationRule]:
    """A validation rule refusing documents that cost more than `weights.max_cost`."""

    class QueryCost(ValidationRule):
        def enter_document(self, node: DocumentNode, *_args) -> None:
            cost = document_cost(node, weights)
            if cost > weights.max_cost:
                self.report_error(
                    GraphQLError(
                        f"The query costs {cost}; the limit is {weights.max_cost}",
                        extensions={
                            "code": QUERY_TOO_COSTLY,
                            "cost": cost,
                            "limit": weights.max_cost,
                        },
                    )
                )

    return QueryCost
