"""INVALID_EXTENSION_PERIOD for an `extensionDays` or `newEndedAt` beyond GraphQL's 32-bit Int.

GraphQL itself refuses such a number before any resolver runs, with a generic validation (or
variable) error; to the client it is an invalid extension period, so the view runs this rule
on its own before the standard validation and answers with the contract's error instead.

A validation rule, so graphql-core's visitor finds the argument on every path to the field:
directly, in an inline fragment or in a named fragment spread from the mutation.
"""

from collections.abc import Mapping
from typing import Any

from graphql import (
    ArgumentNode,
    DocumentNode,
    FieldNode,
    GraphQLError,
    GraphQLSchema,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    ValidationRule,
    VariableNode,
    validate,
)

from enrollments.access_window import INT32_MAX
from enrollments.errors import InvalidExtensionPeriod

_FIELD = "extendStudentCourseAccess"
_NUMBERS = ("extensionDays", "newEndedAt")


def _out_of_range(value: Any) -> bool:
    return isinstance(value, int) and not -INT32_MAX - 1 <= value <= INT32_MAX


def extension_range_errors(
    schema: GraphQLSchema, document: DocumentNode, variables: Mapping[str, Any] | None
) -> list[GraphQLError]:
    """The INVALID_EXTENSION_PERIOD errors of `document` run with `variables` (usually none)."""
    if not any(
        isinstance(definition, OperationDefinitionNode)
        and definition.operation is OperationType.MUTATION
        for definition in document.definitions
    ):
        return []  # queries, the common case, skip the walk
    variables = variables if isinstance(variables, Mapping) else {}
    # A variable the request leaves out takes its definition's default (`$d: Int = 99999999999`),
    # which GraphQL refuses as it refuses the literal.
    defaults = {
        definition.variable.name.value: int(definition.default_value.value)
        for operation in document.definitions
        if isinstance(operation, OperationDefinitionNode)
        for definition in operation.variable_definitions or ()
        if isinstance(definition.default_value, IntValueNode)
    }

    class ExtensionRange(ValidationRule):
        def enter_argument(self, node: ArgumentNode, _key, _parent, _path, ancestors) -> None:
            field = ancestors[-1] if ancestors else None
            if (
                node.name.value not in _NUMBERS
                or not isinstance(field, FieldNode)
                or field.name.value != _FIELD
                or self.context.get_parent_type() is not schema.mutation_type
            ):
                return
            value: Any = None
            if isinstance(node.value, IntValueNode):
                value = int(node.value.value)
            elif isinstance(node.value, VariableNode):
                name = node.value.name.value
                value = variables[name] if name in variables else defaults.get(name)
            if _out_of_range(value):
                self.report_error(
                    GraphQLError(
                        InvalidExtensionPeriod.message,
                        node,
                        extensions={
                            "code": InvalidExtensionPeriod.code,
                            "detail": f"{node.name.value} is out of range",
                        },
                    )
                )

    return validate(schema, document, [ExtensionRange])
