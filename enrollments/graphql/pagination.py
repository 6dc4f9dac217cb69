"""Keyset ("seek") pagination of memberships.

graphene-django's connection counts every row and pages with OFFSET: a deep page costs as much as
reading all the rows before it, and a row inserted or deleted before the client's position makes
it skip or repeat rows. Here a cursor encodes a position in a total order, `(created_at, id)`,
and a page is "the next N rows after that position", answered from the
`(created_at, id)` indexes whatever the depth. The same cursor works in both directions and both
orders: it names a row's place, not an offset.

`has_previous_page` (forward paging) and `has_next_page` (backward paging) come for free: the page
query also reads the cursor's own row when it still exists. Only when it was deleted is one
EXISTS query run, and only if the field is selected. `total_count` is a COUNT run only when
selected.

What the reader may see is given as conditions (`visible`, permissions.visible_parts: none for
everything; a course's staff: their courses' rows, and their own). COUNT and EXISTS read
their OR. A page visible through more than one is read as each part's own first rows, merged:
a planner walks no index in order for `course_id IN (...) OR user_id = ...`, and filters the
whole `(created_at, id)` index instead (a 1,000-row course among 1,000,000 rows: 47 ms of SQL
against a global page's 5), while each part walks its own index (`(course, created_at, id)`,
the user's) and stops. Still one statement, on PostgreSQL (elsewhere, SQLite, the OR):
`id = ANY(ARRAY((... LIMIT n) UNION ALL (... LIMIT n)))`, the merged ids looked up by key.
The parts are not repeated in the page's outer condition: their OR there would make the
planner expect about one row of each part, and read a large course whole to sort it. The inner
reads come from the same rows without the progress annotations (`keys`): nesting the
annotated queryset in the outer one cost more Python than the OR cost SQL.
"""

import base64
import binascii
import functools
import operator
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import cached_property

from django.contrib.postgres.expressions import ArraySubquery
from django.db import connections
from django.db.models import BooleanField, F, Func, Q, QuerySet

from enrollments.graphql.errors import INVALID_CURSOR, ApiError, bad_input
from enrollments.graphql.loading import LoadedMembership, attach_items, read_memberships
from enrollments.models import Enrollment
from enrollments.selectors.keyset import Position

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
#: The lists' cursor tags (see encode_cursor).
MEMBERSHIP_CURSORS = "m1"
AUDIT_LOG_CURSORS = "a1"


class Order(StrEnum):
    """Orders a connection can walk; each is total (ties broken by id)."""

    CREATED_AT_ASC = "CREATED_AT_ASC"
    CREATED_AT_DESC = "CREATED_AT_DESC"


def encode_cursor(row, *, tag: str = MEMBERSHIP_CURSORS) -> str:
    """The opaque cursor of a row (a membership, by default): its position, not its offset in
    some page. `tag` names the list it belongs to, so that a cursor of one list is refused by
    another (the audit log's are AUDIT_LOG_CURSORS)."""
    micros = (row.created_at - _EPOCH) // _MICROSECOND
    raw = f"{tag}:{micros}:{row.pk.hex}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, *, tag: str = MEMBERSHIP_CURSORS) -> Position:
    """The position a cursor of the list `tag` names. Raises INVALID_CURSOR for anything this
    API did not issue for that list."""
    invalid = ApiError(INVALID_CURSOR, "Invalid cursor: pass back a cursor this API returned")
    if not isinstance(cursor, str) or not 0 < len(cursor) <= 100:
        raise invalid
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
        version, micros, hex_id = raw.split(":")
        if version != tag:
            raise ValueError(version)
        return Position(_EPOCH + int(micros) * _MICROSECOND, uuid.UUID(hex=hex_id))
    except (ValueError, binascii.Error, UnicodeDecodeError, OverflowError):
        raise invalid from None


def check_page_size(*, first: int | None, last: int | None, max_page_size: int) -> None:
    """The rule every connection's `first`/`last` follow: at most one of them, each from 0 to
    `max_page_size`. Raises BAD_USER_INPUT otherwise."""
    if first is not None and last is not None:
        raise bad_input("Pass either `first` or `last`, not both")
    for name, value in (("first", first), ("last", last)):
        if value is not None and not 0 <= value <= max_page_size:
            raise bad_input(f"`{name}` must be between 0 and {max_page_size}")


def _after(position: Position, *, descending: bool, inclusive: bool = False) -> Q:
    """Rows that come after `position` in the walk's order (and the row itself if inclusive).

    `(created_at, id) > (t, i)` written so that an index on `(created_at, id)` can start its
    scan at `t` (the first, redundant term is a range condition the planner uses) instead of
    filtering every row before it.
    """
    op = "lt" if descending else "gt"
    id_op = f"{op}e" if inclusive else op
    return Q(**{f"created_at__{op}e": position.created_at}) & (
        Q(**{f"created_at__{op}": position.created_at}) | Q(**{f"id__{id_op}": position.id})
    )


def _merges_parts(queryset: QuerySet[Enrollment]) -> bool:
    """Whether the database reading `queryset` is PostgreSQL: it orders and slices within a
    UNION, and reads ids from an array (_IdAmong)."""
    return connections[queryset.db].vendor == "postgresql"


class _IdAmong(Func):
    """`id = ANY(ARRAY(subquery))` (PostgreSQL): the ids are read first, once, and each row
    looked up by primary key, however large the table. `id IN (subquery)` is a semi-join the
    planner may answer by reading a table of some tens of thousands of rows whole."""

    arg_joiner = " = ANY("
    template = "%(expressions)s)"
    output_field = BooleanField()


def _first_of_each(
    keys: QuerySet[Enrollment], parts: Sequence[Q], ordering: Sequence[str], limit: int
) -> QuerySet[Enrollment]:
    """The ids of each part's first `limit` rows of `keys` in `ordering`, as one UNION ALL
    subquery: the first `limit` rows of the parts' OR are among them (a row in several parts
    is matched once all the same)."""
    pages = [keys.filter(part).order_by(*ordering).values("pk")[:limit] for part in parts]
    return pages[0].union(*pages[1:], all=True)


def _any_of(parts: Sequence[Q]) -> Q:
    return functools.reduce(operator.or_, parts)


class KeysetPage:
    """One page of a filtered membership queryset, read lazily: nothing runs until a field that
    needs it is resolved.

    `queryset` is the filtered queryset with progress annotations
    (selectors.memberships_with_progress), `visible` the conditions whose OR the reader may see
    of it (permissions.visible_parts; none: all of it; see the module), and `keys` the same
    rows without the annotations (same filters), for the page's inner reads when there are
    several parts. COUNT and EXISTS run on the visible rows too: Django leaves out the
    annotations a filter does not use.
    """

    def __init__(
        self,
        queryset: QuerySet[Enrollment],
        *,
        order: Order,
        first: int | None,
        after: str | None,
        last: int | None,
        before: str | None,
        max_page_size: int,
        default_page_size: int,
        visible: Sequence[Q],
        keys: QuerySet[Enrollment] | None = None,
        at: datetime | None = None,
    ) -> None:
        check_page_size(first=first, last=last, max_page_size=max_page_size)
        #: The instant the rows' access is read at (loading.read_memberships).
        self._at = at
        self._parts = tuple(visible)
        self._filtered = queryset
        self._keys = keys if keys is not None else queryset
        self._queryset = queryset.filter(_any_of(self._parts)) if self._parts else queryset
        self._descending = order is Order.CREATED_AT_DESC
        self._after = decode_cursor(after) if after is not None else None
        self._before = decode_cursor(before) if before is not None else None
        self._backward = last is not None
        self._size = last if self._backward else (first if first is not None else default_page_size)

    @cached_property
    def _read(self) -> tuple[list[LoadedMembership], bool | None, bool | None]:
        """(rows in order, has_previous_page, has_next_page); None where unknown without an
        extra query."""
        descending = self._descending
        # Walking backward is walking forward in the reversed order from `before`.
        start, bound = (
            (self._before, self._after) if self._backward else (self._after, self._before)
        )
        walk_descending = descending != self._backward
        ordering = ("-created_at", "-id") if walk_descending else ("created_at", "id")
        limit = self._size + 2
        merged = len(self._parts) > 1 and _merges_parts(self._filtered)
        queryset = self._keys if merged else self._queryset
        if bound is not None:
            # Strictly before `bound` in the walk's order.
            queryset = queryset.filter(_after(bound, descending=not walk_descending))
        if start is not None:
            queryset = queryset.filter(_after(start, descending=walk_descending, inclusive=True))
        if merged:
            # The walk's conditions are in the inner reads; the outer one orders their ids.
            ids = _first_of_each(queryset, self._parts, ordering, limit)
            queryset = self._filtered.filter(_IdAmong(F("pk"), ArraySubquery(ids)))
        rows = read_memberships(queryset.order_by(*ordering)[:limit], at=self._at)
        # The start row itself (when it still exists) shows there is something behind the page.
        behind: bool | None = False if start is None else None
        if start is not None and rows and Position.of(rows[0]) == start:
            rows = rows[1:]
            behind = True
        ahead = len(rows) > self._size
        rows = rows[: self._size]
        attach_items(rows)
        if self._backward:
            rows.reverse()
            return rows, ahead, behind
        return rows, behind, ahead

    @property
    def rows(self) -> Sequence[LoadedMembership]:
        return self._read[0]

    @property
    def has_previous_page(self) -> bool:
        known = self._read[1]
        if known is not None:
            return known
        # Forward from a deleted `after` row: is anything left before it?
        return self._exists_beyond(self._after, toward_start=True)

    @property
    def has_next_page(self) -> bool:
        known = self._read[2]
        if known is not None:
            return known
        return self._exists_beyond(self._before, toward_start=False)

    def _exists_beyond(self, position: Position, *, toward_start: bool) -> bool:
        descending = self._descending != toward_start
        return self._queryset.filter(_after(position, descending=descending)).exists()

    @cached_property
    def total_count(self) -> int:
        return self._queryset.count()
