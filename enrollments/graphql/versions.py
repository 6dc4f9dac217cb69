"""Healthie's API versions: the `Healthie-GraphQL-API-Version` header selects the schema a request
is answered with (tests/reference/WEBHOOKS-AND-VERSIONS.md, section 8; docs/api.md "Versions").

Served here:

- `2025-01-01`, the contract's version: config.schema.schema, exactly as before versions
  existed. It is also what a request without the header gets (Healthie's own default is its
  baseline 2024-06-01, which is not served here), and such a request's answer carries no
  warning: a client of the contract sees the same bytes as before.
- `2026-01-01`, Healthie's newest version this project serves: the same schema with that
  version's types where they have a meaning here (CHANGES_2026_01_01): `course_status` is the
  `CourseMembershipStatus` enum (NOT_STARTED, IN_PROGRESS, COMPLETED), also as the type of this
  API's own `courseMemberships(course_status:)` filter; `CourseMembership.cursor` is gone (the
  edges and `page_info` keep the cursors); `Course.course_type` (`CourseType`) is added.

One schema per version, each built from the same root types (config.schema's Query and
Mutation): the newer one is a rewrite of the contract's graphql-core schema, type by type, that
changes only the types listed above and shares every other type (resolvers included). So
whatever is added to the API (a query, a mutation, a field) is in every version at once, as
Healthie adds additive changes to every version (accretion); only breaking differences are
written here. Every per-schema cache (validation, the cost model's prices, the short path's
field plans) is keyed by the schema or its field objects, so the versions never share an entry
that differs between them.

Any other value of the header is refused before anything else runs: HTTP 400 (Healthie does not
say which status; what is refused before GraphQL runs keeps a 4xx here, like a malformed body)
with Healthie's `UNSUPPORTED_API_VERSION` error, message and extensions. That includes
Healthie's other published versions (their types are not served here) and a served version
past its sunset date.

A served version in its deprecation window (API_VERSION_LIFECYCLE: from `deprecated_on` until
`sunset_on`) is answered with Healthie's `API_VERSION_SUNSET_WARNING` in the answer's
`extensions.warnings`, on every answer, when the client named it in the header. Healthie
deprecated every version before 2026-07-01 on 2026-07-01 and sunsets them on 2027-01-31: here
that applies to 2025-01-01, since a newer version (2026-01-01) is served to upgrade to. It does
not apply to 2026-01-01, the newest served here: a warning asking to upgrade with nothing newer
to upgrade to would only be noise. The dates are a setting (`API_VERSION_LIFECYCLE`, defaulting
to LIFECYCLE below) read on every request, so the clock (enrollments.clock) decides, tests freeze
it, and moving a sunset is a change of settings, not of this code.

Every answer varies by the header (`Vary`), and a keyed mutation's Idempotency-Key belongs to
its version (`fingerprinted`).
"""

import functools
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import graphene
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_vary_headers
from graphql import (
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLEnumValue,
    GraphQLField,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLType,
    GraphQLUnionType,
    is_introspection_type,
    is_specified_scalar_type,
)

from config.schema import schema as contract_schema
from enrollments import clock
from enrollments.graphql.errors import UNSUPPORTED_API_VERSION
from enrollments.graphql.resolving import root_only

#: The request header that names the version, as Healthie spells it.
HEADER = "Healthie-GraphQL-API-Version"

#: The contract's version: the default without the header.
CONTRACT_VERSION = "2025-01-01"
VERSION_2026_01_01 = "2026-01-01"

#: Healthie's warning code for a deprecated version, in `extensions.warnings`.
API_VERSION_SUNSET_WARNING = "API_VERSION_SUNSET_WARNING"

#: The longest header value echoed back in `requested_version` (a date is 10 characters).
ECHO_LIMIT = 40

#: Healthie's lifecycle dates of the versions served here: {version: (deprecated_on,
#: sunset_on)}; a version absent has neither. Healthie's transition policy: every version
#: before 2026-07-01 deprecated on 2026-07-01, sunset on 2027-01-31 (see the module's doc for
#: why 2026-01-01 is not listed). Overridden by the setting API_VERSION_LIFECYCLE (ISO dates).
LIFECYCLE: Mapping[str, tuple[str, str]] = {CONTRACT_VERSION: ("2026-07-01", "2027-01-31")}


# ------------------------------------------------------------------------------------------
# The 2026-01-01 schema: the contract's, with that version's types.

COURSE_MEMBERSHIP_STATUS = GraphQLEnumType(
    "CourseMembershipStatus",
    {
        # The values are the stored statuses (enrollments.progress.CourseStatus): resolvers
        # and filters keep working with them; only the wire spelling changes.
        "NOT_STARTED": GraphQLEnumValue("not_started", description="Not started"),
        "IN_PROGRESS": GraphQLEnumValue("in_progress", description="In progress"),
        "COMPLETED": GraphQLEnumValue("completed", description="Completed"),
    },
    description="Course membership status enum",
)

COURSE_TYPE = GraphQLEnumType(
    "CourseType",
    {"ROLLING": GraphQLEnumValue("rolling"), "FIXED": GraphQLEnumValue("fixed")},
    description="The type of Course",
)


@root_only
def _rolling(root: Any, info: Any) -> str:
    """Every course here is a rolling one: each membership has its own start and access window
    (docs/api.md: no fixed-date courses)."""
    return "rolling"


def _course_membership_2026(fields: dict[str, GraphQLField]) -> dict[str, GraphQLField]:
    edited = {name: field for name, field in fields.items() if name != "cursor"}
    status = fields["course_status"]
    edited["course_status"] = GraphQLField(
        **{**status.to_kwargs(), "type_": GraphQLNonNull(COURSE_MEMBERSHIP_STATUS)}
    )
    return edited


def _course_2026(fields: dict[str, GraphQLField]) -> dict[str, GraphQLField]:
    return {
        **fields,
        "course_type": GraphQLField(
            GraphQLNonNull(COURSE_TYPE), resolve=_rolling, description="type of the course"
        ),
    }


def _query_2026(fields: dict[str, GraphQLField]) -> dict[str, GraphQLField]:
    memberships = fields["courseMemberships"]
    args = dict(memberships.args)
    status = args["course_status"]
    args["course_status"] = GraphQLArgument(
        **{
            **status.to_kwargs(),
            "type_": COURSE_MEMBERSHIP_STATUS,
            "description": "Only memberships with this course_status",
        }
    )
    return {
        **fields,
        "courseMemberships": GraphQLField(**{**memberships.to_kwargs(), "args": args}),
    }


#: What 2026-01-01 changes, by type: a function of the type's fields (already rewritten to the
#: version's types) returning its fields in this version.
CHANGES_2026_01_01: Mapping[str, Callable[[dict[str, GraphQLField]], dict[str, GraphQLField]]] = {
    "CourseMembership": _course_membership_2026,
    "Course": _course_2026,
    "Query": _query_2026,
}


def _affected(base: GraphQLSchema, changed: set[str]) -> set[str]:
    """The names of the types that must be rebuilt: the changed ones and every type that
    reaches one of them through a field, an argument, an interface or a union member."""

    def refs(named: GraphQLNamedType) -> set[str]:
        found: set[str] = set()
        if isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
            for field in named.fields.values():
                found.add(_named(field.type).name)
                found.update(_named(arg.type).name for arg in field.args.values())
            found.update(interface.name for interface in named.interfaces)
        elif isinstance(named, GraphQLInputObjectType):
            found.update(_named(field.type).name for field in named.fields.values())
        elif isinstance(named, GraphQLUnionType):
            found.update(member.name for member in named.types)
        return found

    graph = {name: refs(named) for name, named in base.type_map.items()}
    affected = set(changed)
    grew = True
    while grew:
        grew = False
        for name, targets in graph.items():
            if name not in affected and targets & affected:
                affected.add(name)
                grew = True
    return affected


def _named(type_: GraphQLType) -> GraphQLNamedType:
    while isinstance(type_, GraphQLList | GraphQLNonNull):
        type_ = type_.of_type
    return type_  # type: ignore[return-value]


def rewritten(
    base: GraphQLSchema,
    changes: Mapping[str, Callable[[dict[str, GraphQLField]], dict[str, GraphQLField]]],
) -> GraphQLSchema:
    """`base` with the object types named in `changes` given the fields `changes` returns.
    Every type that reaches a changed one is rebuilt to point at the new types (same name,
    description, resolvers and arguments); every other type is shared with `base`, object for
    object. Through graphql-core's public constructors and `to_kwargs`."""
    rebuild = _affected(base, set(changes))
    new: dict[str, GraphQLNamedType] = {}

    def mapped(type_: GraphQLType) -> GraphQLType:
        if isinstance(type_, GraphQLNonNull):
            return GraphQLNonNull(mapped(type_.of_type))  # type: ignore[arg-type]
        if isinstance(type_, GraphQLList):
            return GraphQLList(mapped(type_.of_type))
        name = type_.name  # type: ignore[attr-defined]
        return new.get(name, type_)

    def args_of(field: GraphQLField) -> dict[str, GraphQLArgument]:
        return {
            name: GraphQLArgument(**{**arg.to_kwargs(), "type_": mapped(arg.type)})
            for name, arg in field.args.items()
        }

    def output_fields(named: GraphQLObjectType | GraphQLInterfaceType) -> Callable[[], dict]:
        def thunk() -> dict[str, GraphQLField]:
            fields = {
                name: GraphQLField(
                    **{**field.to_kwargs(), "type_": mapped(field.type), "args": args_of(field)}
                )
                for name, field in named.fields.items()
            }
            change = changes.get(named.name)
            return change(fields) if change is not None else fields

        return thunk

    def input_fields(named: GraphQLInputObjectType) -> Callable[[], dict]:
        def thunk() -> dict[str, GraphQLInputField]:
            return {
                name: GraphQLInputField(**{**field.to_kwargs(), "type_": mapped(field.type)})
                for name, field in named.fields.items()
            }

        return thunk

    for name, named in base.type_map.items():
        if name not in rebuild or is_introspection_type(named) or is_specified_scalar_type(named):
            continue
        kwargs = named.to_kwargs()
        if isinstance(named, (GraphQLObjectType, GraphQLInterfaceType)):
            kwargs["fields"] = output_fields(named)
            kwargs["interfaces"] = lambda named=named: [mapped(i) for i in named.interfaces]
        elif isinstance(named, GraphQLInputObjectType):
            kwargs["fields"] = input_fields(named)
        elif isinstance(named, GraphQLUnionType):
            kwargs["types"] = lambda named=named: [mapped(t) for t in named.types]
        else:
            continue
        # graphene's subclasses (GrapheneObjectType, ...) keep the graphene type they render.
        graphene_type = getattr(named, "graphene_type", None)
        if graphene_type is not None:
            kwargs["graphene_type"] = graphene_type
        new[name] = type(named)(**kwargs)

    def root(type_: GraphQLObjectType | None) -> Any:
        return None if type_ is None else mapped(type_)

    return GraphQLSchema(
        query=root(base.query_type),
        mutation=root(base.mutation_type),
        subscription=root(base.subscription_type),
        # In the base's order (so the versions' SDL files compare line by line), the new
        # enums last.
        types=[
            mapped(named) for named in base.type_map.values() if not is_introspection_type(named)
        ]
        + [COURSE_MEMBERSHIP_STATUS, COURSE_TYPE],
        directives=base.directives,
        description=base.description,
    )


def _versioned_schema(graphql_schema: GraphQLSchema) -> graphene.Schema:
    """A graphene Schema (what graphene-django's view, `manage.py graphql_schema` and the tests
    take) whose graphql-core schema is `graphql_schema`: the contract's graphene Schema with
    only that attribute replaced."""
    versioned = object.__new__(graphene.Schema)
    versioned.__dict__.update(contract_schema.__dict__)
    versioned.graphql_schema = graphql_schema
    return versioned


#: The schema served to `Healthie-GraphQL-API-Version: 2026-01-01`.
schema_2026_01_01 = _versioned_schema(rewritten(contract_schema.graphql_schema, CHANGES_2026_01_01))

#: Every version served here, oldest first, and its schema.
SCHEMAS: Mapping[str, graphene.Schema] = {
    CONTRACT_VERSION: contract_schema,
    VERSION_2026_01_01: schema_2026_01_01,
}
LATEST_VERSION = list(SCHEMAS)[-1]


# ------------------------------------------------------------------------------------------
# Per request: which version, refused or warned.


@dataclass(frozen=True, slots=True)
class Selected:
    """The version a request is answered with, and the warnings its answer carries."""

    version: str
    schema: graphene.Schema
    warnings: tuple[dict[str, str], ...] = ()


class Unsupported(Exception):  # noqa: N818 - Healthie's name for the refusal
    """The header names a version not served now (unknown, not served here, or sunset)."""

    def __init__(self, requested: str, minimum: str) -> None:
        super().__init__(requested)
        self.requested = requested
        self.minimum = minimum

    @property
    def message(self) -> str:
        # Healthie's text, the version quoted (the warning's message does not quote it).
        return (
            f"API version '{self.requested}' is no longer supported. Please upgrade to a "
            "supported version."
        )

    def response(self) -> HttpResponse:
        """Healthie's error: an `errors` array and no `data`, HTTP 400 (see the module's doc)."""
        error = {
            "message": self.message,
            "extensions": {
                "code": UNSUPPORTED_API_VERSION,
                "requested_version": self.requested,
                "minimum_supported_version": self.minimum,
                "latest_version": LATEST_VERSION,
            },
        }
        return HttpResponse(
            json.dumps({"errors": [error]}), status=400, content_type="application/json"
        )


def lifecycle() -> dict[str, tuple[date, date]]:
    """{version: (deprecated_on, sunset_on)} from the setting API_VERSION_LIFECYCLE (ISO date
    strings), else LIFECYCLE."""
    configured = getattr(settings, "API_VERSION_LIFECYCLE", LIFECYCLE)
    try:
        return {
            version: (date.fromisoformat(deprecated), date.fromisoformat(sunset))
            for version, (deprecated, sunset) in configured.items()
        }
    except (TypeError, ValueError, AttributeError) as error:
        raise ImproperlyConfigured(
            "API_VERSION_LIFECYCLE must map each version to two ISO dates "
            f"(deprecated_on, sunset_on), e.g. {dict(LIFECYCLE)!r}: {error}"
        ) from error


def select(header: str | None, today: date) -> Selected:
    """The version a request with this header value is answered with on `today`. Raises
    Unsupported for any value but a served version before its sunset."""
    dates = lifecycle()
    if header is None:
        return Selected(CONTRACT_VERSION, SCHEMAS[CONTRACT_VERSION])
    live = [v for v in SCHEMAS if v not in dates or today < dates[v][1]]
    if header not in SCHEMAS or header not in live:
        raise Unsupported(header[:ECHO_LIMIT], minimum=live[0] if live else LATEST_VERSION)
    warnings = ()
    if header in dates and dates[header][0] <= today:
        sunset = dates[header][1].isoformat()
        warnings = (
            {
                "code": API_VERSION_SUNSET_WARNING,
                "message": (
                    f"API version {header} is deprecated and will be sunset on {sunset}. "
                    "Please upgrade to a supported version."
                ),
                "requested_version": header,
                "sunset_date": sunset,
                "latest_version": LATEST_VERSION,
            },
        )
    return Selected(header, SCHEMAS[header], warnings)


#: The request attribute holding the Selected version (set by `selects_version`).
ATTRIBUTE = "api_version"


def selected(request: HttpRequest) -> Selected:
    """The version `selects_version` chose for `request` (the contract's when it did not run)."""
    return getattr(request, ATTRIBUTE, None) or select(None, clock.now().date())


def fingerprinted(fingerprint: str, request: HttpRequest) -> str:
    """A keyed mutation's fingerprint (apikeys.idempotency) with the version it was asked in,
    so that the same Idempotency-Key sent again in another version is "another request"
    (IDEMPOTENCY_KEY_REUSED) instead of replaying an answer shaped by the first version. The
    contract's version (also no header) keeps the fingerprint as it is: keys stored before
    versions existed replay as before."""
    version = selected(request).version
    if version == CONTRACT_VERSION:
        return fingerprint
    return hashlib.sha256(f"{fingerprint} {version}".encode()).hexdigest()


def with_warnings(response: HttpResponse, warnings: tuple[dict[str, str], ...]) -> HttpResponse:
    """`response` with `warnings` in its JSON object's `extensions.warnings` (after any already
    there). Anything else (GraphiQL's page, a streamed or non-object body) is left as it is."""
    if not warnings or response.streaming:
        return response
    if not response.get("Content-Type", "").startswith("application/"):
        return response
    try:
        body = json.loads(response.content)
    except ValueError:
        return response
    if not isinstance(body, dict):
        return response
    extensions = body.setdefault("extensions", {})
    extensions["warnings"] = [*extensions.get("warnings", ()), *warnings]
    response.content = json.dumps(body)
    return response


def selects_version(dispatch: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Wraps the API view's dispatch: refuses an unsupported version (Unsupported.response)
    before anything else runs, else notes the Selected version on the request (the view
    answers with its schema) and adds its warnings to the answer. Every answer varies by the
    header (`Vary`)."""

    @functools.wraps(dispatch)
    def versioned(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            chosen = select(request.headers.get(HEADER), clock.now().date())
        except Unsupported as unsupported:
            response = unsupported.response()
        else:
            setattr(request, ATTRIBUTE, chosen)
            response = with_warnings(dispatch(request, *args, **kwargs), chosen.warnings)
        # The answer depends on the header: a cache between client and server (a GET query
        # through a CDN) must not hand one version's answer to another version's client.
        patch_vary_headers(response, [HEADER])
        return response

    return versioned
