"""The query cost model: what one document may spend, priced before anything runs.

The rate limit counts requests, so without a cost model one request could ask for the work of
hundreds. Two findings shaped it: 15 aliased `total_count`s filtered by `course_status` took
27 s at 300,000 enrollments (issue 14), and 222 characters of nested lists from a learner's key,
`courseMembership { course { course_items { course { course_items { ... } } } } }`, took 20 s
and answered 217 MB (issue 21): a model that priced root fields and counts only never saw that
every level of `course_items` multiplies the answer by a course's items.

The cost of a document is the sum over the fields of its answer (document_walk: fragments
followed, aliases and `@skip` / `@include` as graphql-core executes them) of

    the field's own cost x the most items each enclosing list can hold

Own costs, in points (the unit of the budget, MAX_COST):

- a root field (a query's read or a mutation): COST_ROOT_FIELD, times COST_FETCH_ALL_FACTOR
  with `fetch_all` (it reads up to queries.FETCH_ALL_MAX rows: ten pages);
- `total_count`: COST_COUNT (a COUNT over every matching row);
- both times COST_COURSE_STATUS_FACTOR when the read filters by `course_status`;
- every other field, `__typename` included: one value of the answer, and a value costs
  1 / COST_VALUES_PER_POINT of a point (1,000 values are one point by default). The answer's
  size is what takes the time once the rows are read: 217 MB is some ten million values;
- each object of the answer (a field's value, each item of a list of objects):
  COST_OBJECT_VALUES values more (graphql-core completes an object field by field; at one
  million enrollments 10,000 item objects of 8 fields took 2.1 s where 1,000 memberships of
  43 values took 0.3 s);
- a field that reads a course's items (`course_items`, an item's `next_item` / `prev_item`):
  COST_ITEMS_READ values more for that query (loading.course_items reads the items of every
  course of the page in one query, once per request, so no field below it pays again:
  `_IN_COURSE`). The weight prices the items the answer completes (up to MAX_COURSE_ITEMS a
  course), which a page of 100 memberships of 100 courses multiplies.

The most items a list can hold (LIST_BOUNDS; a test checks every list field of the schema is
there): a page's `edges` / `nodes` hold `first` or `last` (DEFAULT_PAGE_SIZE without either,
MAX_PAGE_SIZE at most; fetch_all's cap with `fetch_all`); `course_items` holds MAX_COURSE_ITEMS
(the most items a course may hold: the course admin refuses more); a payload's `errors` /
`messages` one (a mutation reports one business error); undo's `skipped` fetch_all's cap;
the root list `auditLog` its `page_size` (50 without it, ROOT_LISTS), each event's
`resource_changes` two.
Introspection (`__schema`, `__type`) is free, as before: its answer is bounded by the schema,
and the response bound (execution.ResponseTooLarge) stops any nesting of it that is not.

Where variables decide (a page size, `fetch_all`, a filter, `@skip(if: $v)`), the walk without
them takes the most expensive value; when that exceeds the budget the document is priced again
with the request's variables (coerced as graphql-core coerces them), so `first: $first` costs
what `first` is. This is why the check runs at execution (execution.execute_request, after
validation, before execute: no data has been read), not as a validation rule: validation is
cached per document text and never sees variables. The variable-free price is cached per
document (PRICE_CACHE_SIZE), so a document within the budget is priced once, not per request.

With the defaults (budget 100 points; root field 1, count 5, course_status x5, fetch_all x10;
1,000 values a point; 100 items a course): a page of 20 with every field costs 2, a page of
100 with every field and its count 10, `fetch_all` with a dozen fields 23, fifteen aliased
counts 90 and fifteen by course_status 450 (refused). The audit's document above, three
levels of `course_items` under one membership, costs at least 8,000,000 values (8,000 points):
refused whatever it selects; two levels are 10,000 item objects, 80,000 values before their
fields (admitted with one field on the innermost items: the benchmark's heaviest nested
document, bench/cost.py; refused with two).

The backstops for what the model does not foresee: the response bound (execution.py) and the
per-request statement timeout on PostgreSQL (statement_timeout.py).
"""

import functools
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import DocumentNode, GraphQLError, GraphQLSchema, get_named_type, is_composite_type
from graphql.execution.values import get_variable_values

from enrollments.graphql.document_walk import UNKNOWN, DocumentWalk, Field
from enrollments.graphql.errors import QUERY_TOO_COSTLY

#: The field whose count is expensive, and the filter that makes a membership read expensive.
COUNTED_FIELD = "total_count"
EXPENSIVE_FILTER = "course_status"
#: The argument that reads every matching row (up to queries.FETCH_ALL_MAX) instead of a page.
FETCH_ALL = "fetch_all"
#: The paged connection's root field, and its list fields.
CONNECTION_FIELD = "courseMemberships"
PAGE_FIELDS = ("edges", "nodes")

#: Root fields that answer a list of objects, by the argument that sizes it, and the size without
#: it (graphql/audit_log.py's `auditLog`: `page_size`, Healthie's default 50). Each item's
#: fields are priced times the page, as a connection's `nodes`.
ROOT_LISTS: Mapping[str, tuple[str, int]] = {"auditLog": ("page_size", 50)}

#: Documents whose variable-free price is kept (execution.DOCUMENT_CACHE_SIZE's reasoning).
PRICE_CACHE_SIZE = 256


def _fetch_all_max() -> int:
    from enrollments.graphql.queries import FETCH_ALL_MAX  # queries imports limits, cost

    return FETCH_ALL_MAX


def _event_type_count() -> int:
    from enrollments.models import AccessEvent

    return len(AccessEvent.EventType)


#: The most items each list field of the schema can hold, by (type, field), given the limits
#: (the page's own bound is the connection's context: see Pricing.price).
LIST_BOUNDS: Mapping[tuple[str, str], Callable[[Any], int]] = {
    ("Course", "course_items"): lambda limits: limits.max_course_items,
    ("CourseMembershipPaginationConnection", "edges"): lambda limits: limits.max_page_size,
    ("CourseMembershipPaginationConnection", "nodes"): lambda limits: limits.max_page_size,
    ("UndoAccessChangeBatchPayload", "skipped"): lambda limits: _fetch_all_max(),
    # The audit log (graphql/audit_log.py): a page of events (`page_size`, see ROOT_LISTS), an
    # event's changed fields (the end of access and the pause).
    ("Query", "auditLog"): lambda limits: limits.max_page_size,
    ("AuditEvent", "resource_changes"): lambda limits: 2,
    # Webhook management (graphql/webhooks.py): a page of endpoints, an endpoint's event types.
    ("WebhookPaginationConnection", "edges"): lambda limits: limits.max_page_size,
    ("WebhookPaginationConnection", "nodes"): lambda limits: limits.max_page_size,
    ("Webhook", "webhook_events"): lambda limits: _event_type_count(),
    **{
        (payload, errors): lambda limits: 1
        for payload, errors in (
            ("EnrollStudentToCoursePayload", "errors"),
            ("ExpireStudentCourseAccessPayload", "errors"),
            ("RemoveStudentFromCoursePayload", "errors"),
            ("ExtendStudentCourseAccessPayload", "errors"),
            ("UndoAccessChangeBatchPayload", "errors"),
            ("PauseCourseMembershipPayload", "messages"),
            ("ResumeCourseMembershipPayload", "messages"),
            ("CompleteCourseItemPayload", "messages"),
            ("createWebhookPayload", "messages"),
            ("updateWebhookPayload", "messages"),
            ("deleteWebhookPayload", "messages"),
            ("sendTestWebhookPayload", "messages"),
            ("expireWebhookSignaturePayload", "messages"),
        )
    },
}


#: The pricing context of an operation's top-level selection.
_ROOT = "root"
#: The pricing context below a field that read a course's items: everything under it belongs
#: to that course (an item's course, its items, its neighbours), whose items loading.course_items
#: keeps for the request, so no field below reads them again.
_IN_COURSE = "in course"
#: The fields that read a course's items (loading.course_items), by name, with their types.
ITEM_READERS = {
    "course_items": ("Course",),
    "next_item": ("CourseItem",),
    "prev_item": ("CourseItem",),
}


@dataclass(frozen=True, slots=True)
class _Page:
    """The pricing context of a connection's selection: rows a page can hold, and the filter
    factor its count pays."""

    rows: int
    factor: int


def _is_object(field: Field) -> bool:
    """Whether each value of `field` is an object (or an interface or union's object), which
    graphql-core completes field by field: COST_OBJECT_VALUES more than a scalar."""
    definition = field.definition
    return definition is not None and is_composite_type(get_named_type(definition.type))


@dataclass(frozen=True, slots=True)
class Pricing:
    """Own costs and list bounds under `weights` (a limits.Limits). Costs are in values (a
    point is `cost_values_per_point` of them), so that every sum is an exact integer."""

    weights: Any

    @property
    def point(self) -> int:
        return max(1, self.weights.cost_values_per_point)

    def price(self, walk: DocumentWalk, field: Field, context: Hashable) -> tuple[int, int, Any]:
        weights, name = self.weights, field.name
        if name in ("__schema", "__type"):
            return 0, 0, None  # introspection: free (walked for depth, priced 0)
        if context is _ROOT and name != "__typename":
            return self._root(walk, field)
        if isinstance(context, _Page):
            if name == COUNTED_FIELD:
                return weights.cost_count * context.factor * self.point, 1, None
            if name in PAGE_FIELDS:
                return 1, context.rows, None
        items = 1
        if field.is_list:
            parent = getattr(field.parent_type, "name", None)
            bound = LIST_BOUNDS.get((parent, name))
            items = bound(weights) if bound else _fetch_all_max()
        # Each object the field holds (each of a list's items) is completed field by field.
        own = 1 + (weights.cost_object_values * items if _is_object(field) else 0)
        if name in ITEM_READERS and getattr(field.parent_type, "name", None) in ITEM_READERS[name]:
            # One query for the course's items, unless a field above read this course's.
            read = 0 if context is _IN_COURSE else weights.cost_items_read
            return own + read, items, _IN_COURSE
        return own, items, _IN_COURSE if context is _IN_COURSE else None

    def _root(self, walk: DocumentWalk, field: Field) -> tuple[int, int, Any]:
        weights = self.weights
        status = walk.argument(field.nodes, EXPENSIVE_FILTER)
        factor = weights.cost_course_status_factor if status is not None else 1
        fetch_all = walk.argument(field.nodes, FETCH_ALL)
        read = weights.cost_root_field * (
            weights.cost_fetch_all_factor if fetch_all not in (None, False) else 1
        )
        if field.name in ROOT_LISTS:
            rows = self._root_list_rows(walk, field, *ROOT_LISTS[field.name])
            own = read * self.point + weights.cost_object_values * rows
            return own, rows, None
        if field.name != CONNECTION_FIELD:
            return read * factor * self.point, 1, None
        return read * factor * self.point, 1, _Page(self._rows(walk, field, fetch_all), factor)

    def _root_list_rows(self, walk: DocumentWalk, field: Field, argument: str, default: int) -> int:
        """The most items a root list field can hold: its size argument (the resolver refuses
        more than MAX_PAGE_SIZE), the most when a variable leaves it unknown, else `default`."""
        maximum = self.weights.max_page_size
        size = walk.argument(field.nodes, argument)
        if size is UNKNOWN:
            return maximum
        if not isinstance(size, int):
            return min(default, maximum)
        return max(0, min(size, maximum))

    def _rows(self, walk: DocumentWalk, field: Field, fetch_all: Any) -> int:
        """The most rows the page can hold: fetch_all's cap, `first` / `last` (the resolver
        refuses more than MAX_PAGE_SIZE), else the default page size."""
        weights = self.weights
        if fetch_all not in (None, False):
            return _fetch_all_max()
        sizes = [walk.argument(field.nodes, name) for name in ("first", "last")]
        if UNKNOWN in sizes:
            return weights.max_page_size
        given = [size for size in sizes if isinstance(size, int)]
        if not given:
            return weights.default_page_size
        return max(0, min(max(given), weights.max_page_size))


@dataclass(frozen=True, slots=True)
class Price:
    """A document's price: `values` in the exact unit, `points` rounded up for people."""

    values: int
    point: int
    #: Why the walk could not price the document (DocumentWalk.incomplete), or None.
    incomplete: str | None = None
    #: Whether a variable without a value was priced at its most expensive.
    read_unknown: bool = False

    @property
    def points(self) -> int:
        return -(-self.values // self.point)


def price(
    document: DocumentNode,
    weights,
    *,
    schema: GraphQLSchema | None = None,
    operation_name: str | None = None,
    variables: Mapping[str, Any] | None = None,
    every_operation: bool = False,
) -> Price:
    """What the operation a request with `operation_name` runs costs (with `every_operation`,
    every operation of the document, summed); `variables` as coerced (None: unknown, priced at
    their most expensive)."""
    pricing = Pricing(weights)
    walk = DocumentWalk(document, schema=schema, variables=variables, pricing=pricing)
    if every_operation:
        operations = walk.operations()
    else:
        operation = walk.operation(operation_name)
        operations = [] if operation is None else [operation]
    values = sum(walk.shape(operation, _ROOT).cost for operation in operations)
    return Price(values, pricing.point, walk.incomplete, walk.read_unknown)


def document_cost(document: DocumentNode, weights, schema: GraphQLSchema | None = None) -> int:
    """The cost in points of every operation of `document`, variables unknown."""
    return price(document, weights, schema=schema, every_operation=True).points


@functools.lru_cache(maxsize=PRICE_CACHE_SIZE)
def _price_without_variables(
    schema: GraphQLSchema, query: str, operation_name: str | None, weights
) -> Price:
    from enrollments.graphql.execution import parsed  # execution imports this module

    return price(parsed(query), weights, schema=schema, operation_name=operation_name)


def clear_cache() -> None:
    _price_without_variables.cache_clear()


def cost_error(
    schema: GraphQLSchema,
    query: str,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
    weights,
) -> GraphQLError | None:
    """QUERY_TOO_COSTLY when the operation the request runs costs more than the budget, else
    None. Call after validation, before execution: it reads nothing but the document."""
    budget = weights.max_cost
    found = _price_without_variables(schema, query, operation_name, weights)
    if (found.points > budget or found.incomplete) and found.read_unknown:
        found = _price_with_variables(schema, document, operation_name, variables, weights)
        if found is None:  # the variables do not coerce: execution refuses them, reading nothing
            return None
    if found.incomplete == "steps":
        return GraphQLError(
            "The query is too complex to price; simplify it",
            extensions={"code": QUERY_TOO_COSTLY, "limit": budget},
        )
    if found.points <= budget:
        return None
    return GraphQLError(
        f"The query costs {found.points}; the limit is {budget}",
        extensions={"code": QUERY_TOO_COSTLY, "cost": found.points, "limit": budget},
    )


def _price_with_variables(schema, document, operation_name, variables, weights) -> Price | None:
    """The price with the request's variables, or None when they do not coerce (execution then
    refuses them, reading nothing)."""
    walk = DocumentWalk(document, schema=schema)
    operation = walk.operation(operation_name)
    if operation is None:
        return None
    coerced = get_variable_values(schema, operation.variable_definitions or (), variables or {})
    if isinstance(coerced, list):  # errors
        return None
    return price(document, weights, schema=schema, operation_name=operation_name, variables=coerced)
