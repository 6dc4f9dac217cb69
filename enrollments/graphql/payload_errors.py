"""Business errors of a mutation, in its payload: where the clients of the two APIs look.

Healthie's pause/resume payloads carry `messages: [FieldError]`; Teachify says "All mutations
return an errors field" (`errors { field message }`). Either way a mutation's business outcome
(a DomainError: the contract's three messages, ALREADY_PAUSED, NOT_FOUND, INVALID_REASON, ...)
comes back as data, HTTP 200, with the payload's object null:

    {"data": {"extendStudentCourseAccess": {"enrollment": null, "errors": [
        {"field": null, "message": "Current enrollment has no end date", "code": "NO_END_DATE"}]}}}

`message` is the domain error's message verbatim, `code` its stable code, and `field` the
argument at fault where there is one (`newEndedAt`, `reason`, the input's `id`), else null. A
success has an empty list there (never null: clients test its length).

A business error is never silent: when the document does not select the payload's errors
field, the DomainError propagates as before and errors.format_error reports it top-level (with
`extensions.code`, the mutation's field null). Everything that is not the mutation's business
outcome (authentication, permission, validation, limits, rate limit, faults) is top-level
always: only DomainError is caught here.

How a mutation uses this (every mutation does; the sibling course-access mutations
enrollStudentToCourse, expireStudentCourseAccess and removeStudentFromCourse must too, so that
all of them answer alike):

1. its payload declares the field: `errors = payload_errors_field()` (Teachify's name, for the
   camelCase mutations) or `messages = payload_errors_field()` (Healthie's, for the
   membership ones), next to its object field;
2. its resolver is decorated with `@reports_business_errors("errors", {ErrorType: ("argName",
   ...)})`: for each DomainError the argument names that may be at fault, in order of
   precedence; the first one the client passed is the `field` (INVALID_REASON names `reason`
   for every mutation without being listed). Where which argument is at fault depends on the
   values (extendStudentCourseAccess's EXTENSION_OVER_COURSE_LIMIT: `indefinite` when true,
   else the date or the days), the entry is a function of the resolver's keyword arguments
   returning the names. An error about an argument the client left out names it all the same
   (REASON_REQUIRED: `reason`, when the mutation has one: ABSENT_FIELDS);
3. its resolver raises DomainErrors as it always has (the core and the selectors raise them) and
   never catches them itself.
"""

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import graphene
from graphql import GraphQLInputObjectType, GraphQLResolveInfo, get_nullable_type

from enrollments.errors import DomainError, InvalidReason, NameRequired, ReasonRequired
from enrollments.graphql.document_walk import DocumentWalk

#: The arguments that may be at fault for one error: their GraphQL names in order of
#: precedence, or a function of the resolver's keyword arguments returning them.
Candidates = Sequence[str] | Callable[[Mapping[str, Any]], Sequence[str]]

#: Arguments at fault, by error, for every mutation (a mutation's own mapping adds to these).
COMMON_FIELDS: Mapping[type[DomainError], Candidates] = {
    InvalidReason: ("reason",),
    ReasonRequired: ("reason",),
}

#: Errors about an argument the client left out (or left blank): the `field` names it whether
#: it was passed or not, when the mutation has it (a course requires its staff to give a
#: reason: REASON_REQUIRED is about the missing `reason`).
ABSENT_FIELDS: Mapping[type[DomainError], str] = {ReasonRequired: "reason", NameRequired: "name"}

#: GraphQL's name of the argument wrapping a Relay-style mutation's input: its fields are the
#: mutation's arguments as far as `field` is concerned (Healthie's `input: {id: ...}` -> "id").
INPUT_ARGUMENT = "input"


class FieldError(graphene.ObjectType):
    """Information about field that didn’t pass validation"""

    field = graphene.String(description="Field name that caused these errors")
    message = graphene.String(required=True, description="Validation message")
    code = graphene.String(
        required=True,
        description="Stable code of the error, the same as a top-level error's extensions.code",
    )


@dataclass(frozen=True, slots=True)
class BusinessError:
    """What a FieldError resolves from."""

    field: str | None
    message: str
    code: str


def payload_errors_field() -> graphene.List:
    """The `errors` / `messages` field of a mutation payload."""
    return graphene.List(FieldError, description="The list of errors occurred during the mutation")


def _selects(info: GraphQLResolveInfo, name: str) -> bool:
    """Whether the document selects the payload's field `name` (through fragments, aliases and
    @skip/@include too: the walk collects fields as graphql-core's executor does)."""
    payload_type = get_nullable_type(info.return_type)
    selected = DocumentWalk.of_resolve_info(info).collect(payload_type, info.field_nodes)
    return any(node.name.value == name for nodes in selected.values() for node in nodes)


def _given_arguments(info: GraphQLResolveInfo, arguments: Mapping[str, Any]) -> set[str]:
    """GraphQL names of the arguments the client passed (not null), the input's fields
    included. `arguments` are the resolver's keyword arguments (graphene's Python names)."""
    given: set[str] = set()
    for name, argument in info.parent_type.fields[info.field_name].args.items():
        value = arguments.get(argument.out_name or name)
        if value is None:
            continue
        given.add(name)
        input_type = get_nullable_type(argument.type)
        if name == INPUT_ARGUMENT and isinstance(input_type, GraphQLInputObjectType):
            given.update(
                field_name
                for field_name, input_field in input_type.fields.items()
                if value.get(input_field.out_name or field_name) is not None
            )
    return given


def _declared_arguments(info: GraphQLResolveInfo) -> set[str]:
    """GraphQL names of the mutation's arguments, its input's fields included."""
    declared: set[str] = set()
    for name, argument in info.parent_type.fields[info.field_name].args.items():
        declared.add(name)
        input_type = get_nullable_type(argument.type)
        if name == INPUT_ARGUMENT and isinstance(input_type, GraphQLInputObjectType):
            declared.update(input_type.fields)
    return declared


def _field_at_fault(
    error: DomainError,
    at_fault: Mapping[type[DomainError], Candidates],
    info: GraphQLResolveInfo,
    arguments: Mapping[str, Any],
) -> str | None:
    """The argument `error` blames: the first of its candidates the client passed; for an
    error about a missing argument (ABSENT_FIELDS), that argument when the mutation has it."""
    candidates = next((names for kind, names in at_fault.items() if isinstance(error, kind)), ())
    if callable(candidates):
        candidates = candidates(arguments)
    given = _given_arguments(info, arguments)
    field = next((name for name in candidates if name in given), None)
    if field is None:
        absent = next(
            (name for kind, name in ABSENT_FIELDS.items() if isinstance(error, kind)), None
        )
        if absent is not None and absent in _declared_arguments(info):
            field = absent
    return field


def reports_business_errors(
    errors_field: str, fields: Mapping[type[DomainError], Candidates] | None = None
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorates a mutation resolver: a DomainError it raises becomes the payload's
    `errors_field` (object null) when the document selects that field, and propagates
    (top-level) when it does not. `fields`: the arguments that may be at fault, by error (see
    the module docstring)."""
    at_fault = {**COMMON_FIELDS, **(fields or {})}

    def decorate(resolver: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(resolver)
        def resolve(root: Any, info: GraphQLResolveInfo, **arguments: Any) -> Any:
            try:
                payload = resolver(root, info, **arguments)
            except DomainError as error:
                if not _selects(info, errors_field):
                    raise
                business_error = BusinessError(
                    field=_field_at_fault(error, at_fault, info, arguments),
                    message=error.message,
                    code=error.code,
                )
                payload_type = get_nullable_type(info.return_type).graphene_type
                return payload_type(**{errors_field: [business_error]})
            if getattr(payload, errors_field, None) is None:
                setattr(payload, errors_field, [])  # a success: no errors, an empty list
            return payload

        return resolve

    return decorate
