"""Limits on what one request may ask, so that no document costs the server much more than a
legitimate one: document length, field depth, aliases, cost (cost.py), page size (see
pagination), a statement timeout (statement_timeout.py), and no batching (one operation per
HTTP request). Values come from settings.GRAPHQL_LIMITS
(config/settings.py, where their defaults are).

Depth and aliases are checked by validation rules, before anything executes. Introspection
(`__schema`, `__type`) is open to signed-in clients only.
"""

import functools
from dataclasses import dataclass

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from graphql import GraphQLError, ValidationRule
from graphql.language import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    Node,
    OperationDefinitionNode,
)

from enrollments.graphql.cost import cost_rule
from enrollments.graphql.errors import (
    INTROSPECTION_DISABLED,
    QUERY_TOO_DEEP,
    TOO_MANY_ALIASES,
)


@dataclass(frozen=True, slots=True)
class Limits:
    max_query_length: int
    max_depth: int
    max_aliases: int
    max_page_size: int
    default_page_size: int
    # The query cost model (cost.py): the budget and the weights.
    max_cost: int
    cost_root_field: int
    cost_count: int
    cost_course_status_factor: int
    cost_fetch_all_factor: int
    # Milliseconds a query's SQL statement may run on PostgreSQL (statement_timeout.py); 0: off.
    statement_timeout_ms: int


@functools.cache
def limits() -> Limits:
    """settings.GRAPHQL_LIMITS, read once (and again after a test changes the setting)."""
    configured = settings.GRAPHQL_LIMITS
    return Limits(
        max_query_length=configured["MAX_QUERY_LENGTH"],
        max_depth=configured["MAX_DEPTH"],
        max_aliases=configured["MAX_ALIASES"],
        max_page_size=configured["MAX_PAGE_SIZE"],
        default_page_size=configured["DEFAULT_PAGE_SIZE"],
        max_cost=configured["MAX_COST"],
        cost_root_field=configured["COST_ROOT_FIELD"],
        cost_count=configured["COST_COUNT"],
        cost_course_status_factor=configured["COST_COURSE_STATUS_FACTOR"],
        cost_fetch_all_factor=configured["COST_FETCH_ALL_FACTOR"],
        statement_timeout_ms=configured["STATEMENT_TIMEOUT_MS"],
    )


@receiver(setting_changed)
def _forget_limits(*, setting: str, **_kwargs) -> None:
    if setting == "GRAPHQL_LIMITS":
        limits.cache_clear()


def _selections(node: Node):
    selection_set = getattr(node, "selection_set", None)
    return selection_set.selections if selection_set is not None else ()


class _DocumentWalk:
    """Depth and alias count of each operation, following fragment spreads. Each fragment is
    measured once (a document spreading fragments into fragments cannot make this walk
    exponential); a fragment cycle or an unknown fragment is left to the standard rules
    (NoFragmentCycles, KnownFragmentNames) and just ends the walk here."""

    def __init__(self, fragments: dict[str, FragmentDefinitionNode]) -> None:
        self.fragments = fragments
        self.measured: dict[str, tuple[int, int]] = {}

    def measure(self, node: Node, visiting: frozenset[str] = frozenset()) -> tuple[int, int]:
        """(depth, aliases) of the selections under `node`."""
        deepest, aliases = 0, 0
        for selection in _selections(node):
            if isinstance(selection, FieldNode):
                depth, below_aliases = (
                    self.measure(selection, visiting) if selection.selection_set else (0, 0)
                )
                deepest = max(deepest, 1 + depth)
                aliases += below_aliases + (selection.alias is not None)
            elif isinstance(selection, InlineFragmentNode):
                depth, below_aliases = self.measure(selection, visiting)
                deepest, aliases = max(deepest, depth), aliases + below_aliases
            elif isinstance(selection, FragmentSpreadNode):
                depth, below_aliases = self._fragment(selection.name.value, visiting)
                deepest, aliases = max(deepest, depth), aliases + below_aliases
        return deepest, aliases

    def _fragment(self, name: str, visiting: frozenset[str]) -> tuple[int, int]:
        if name in self.measured:
            return self.measured[name]
        fragment = self.fragments.get(name)
        if fragment is None or name in visiting:
            return 0, 0
        self.measured[name] = self.measure(fragment, visiting | {name})
        return self.measured[name]


def limit_rules(*, anonymous: bool) -> list[type[ValidationRule]]:
    """The API's validation rules for one request (added to graphql's standard rules)."""
    current = limits()

    class DocumentLimits(ValidationRule):
        def enter_document(self, node, *_args):
            fragments = {
                d.name.value: d for d in node.definitions if isinstance(d, FragmentDefinitionNode)
            }
            walk = _DocumentWalk(fragments)
            aliases = 0
            for definition in node.definitions:
                if not isinstance(definition, OperationDefinitionNode):
                    continue
                try:
                    depth, operation_aliases = walk.measure(definition)
                except RecursionError:
                    depth, operation_aliases = current.max_depth + 1, 0
                aliases += operation_aliases
                if depth > current.max_depth:
                    self.report_error(
                        GraphQLError(
                            f"The query is {depth} levels deep; the limit is {current.max_depth}",
                            definition,
                            extensions={"code": QUERY_TOO_DEEP},
                        )
                    )
            if aliases > current.max_aliases:
                self.report_error(
                    GraphQLError(
                        f"The query uses {aliases} aliases; the limit is {current.max_aliases}",
                        extensions={"code": TOO_MANY_ALIASES},
                    )
                )

    rules: list[type[ValidationRule]] = [DocumentLimits, cost_rule(current)]
    if anonymous:
        rules.append(IntrospectionRequiresSignIn)
    return rules


class IntrospectionRequiresSignIn(ValidationRule):
    """Anonymous clients may not introspect (`__typename` stays allowed)."""

    def enter_field(self, node: FieldNode, *_args):
        if node.name.value in ("__schema", "__type"):
            self.report_error(
                GraphQLError(
                    "Introspection needs a signed-in session or an API key",
                    node,
                    extensions={"code": INTROSPECTION_DISABLED},
                )
            )
