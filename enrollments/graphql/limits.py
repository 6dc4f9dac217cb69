"""Limits on what one request may ask, so that no document costs the server much more than a
legitimate one: document length, field depth, aliases, cost (cost.py), page size (see
pagination), the size of the answer (execution.ResponseTooLarge), and no batching (one
operation per HTTP request). Values come from settings.GRAPHQL_LIMITS (config/settings.py, where
their defaults are). The statement timeout of the reads is a property of their database
connection, not a limit read here (statement_timeout.py, GRAPHQL_STATEMENT_TIMEOUT_MS).

Depth and aliases are checked by a validation rule, before anything executes, on the shape of
the answer as document_walk measures it (the walk cost and the rate limiter share): the depth
is the longest chain of fields, the leaf included; an alias counts once per place it appears in
the answer's shape (a fragment spread twice into one selection is executed once, so counts
once; spread under two fields it counts twice). Validation has no variables: a field whose
`@skip` / `@include` condition is a variable counts. The cost is checked at execution, where
the variables are known (cost.cost_error). Introspection (`__schema`, `__type`) is open to
signed-in clients only.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphql import GraphQLError, ValidationRule
from graphql.language import FieldNode

from enrollments.graphql.document_walk import MAX_LEVELS, MAX_STEPS, DocumentWalk
from enrollments.graphql.errors import (
    INTROSPECTION_DISABLED,
    QUERY_TOO_COSTLY,
    QUERY_TOO_DEEP,
    TOO_MANY_ALIASES,
)
from lms.settings_blocks import settings_block


@dataclass(frozen=True, slots=True)
class Limits:
    """settings.GRAPHQL_LIMITS (config/settings.py, where the defaults are), parsed."""

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
    # Values of the answer that cost one point; the most items a course holds (course_items).
    cost_values_per_point: int
    cost_items_read: int
    cost_object_values: int
    max_course_items: int
    # The most list-item values a query's answer may hold (execution.ResponseTooLarge).
    max_response_values: int


@settings_block("GRAPHQL_LIMITS")
def limits(configured: Mapping[str, Any]) -> Limits:
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
        cost_values_per_point=configured["COST_VALUES_PER_POINT"],
        cost_items_read=configured["COST_ITEMS_READ"],
        cost_object_values=configured["COST_OBJECT_VALUES"],
        max_course_items=configured["MAX_COURSE_ITEMS"],
        max_response_values=configured["MAX_RESPONSE_VALUES"],
    )


def limit_rules(*, anonymous: bool) -> list[type[ValidationRule]]:
    """The API's validation rules for one request (added to graphql's standard rules)."""
    current = limits()

    class DocumentLimits(ValidationRule):
        """Depth of each operation and aliases of the document (every operation's summed),
        from one walk (document_walk) without variables."""

        def enter_document(self, node, *_args):
            walk = DocumentWalk(node, schema=self.context.schema)
            aliases = 0
            for operation in walk.operations():
                shape = walk.shape(operation)
                aliases += shape.aliases
                if walk.incomplete == "levels":
                    message = f"The query is more than {MAX_LEVELS} levels deep"
                elif shape.depth > current.max_depth:
                    message = f"The query is {shape.depth} levels deep"
                else:
                    continue
                self.report_error(
                    GraphQLError(
                        f"{message}; the limit is {current.max_depth}",
                        operation,
                        extensions={"code": QUERY_TOO_DEEP},
                    )
                )
            if walk.incomplete == "steps":
                self.report_error(
                    GraphQLError(
                        f"The query has more than {MAX_STEPS} distinct selections to measure; "
                        "simplify it",
                        extensions={"code": QUERY_TOO_COSTLY},
                    )
                )
            elif aliases > current.max_aliases:
                self.report_error(
                    GraphQLError(
                        f"The query uses {aliases} aliases; the limit is {current.max_aliases}",
                        extensions={"code": TOO_MANY_ALIASES},
                    )
                )

    rules: list[type[ValidationRule]] = [DocumentLimits]
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
