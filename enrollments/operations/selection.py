"""Which enrollments an operation works on, and how the request named them.

The one rule that differs between requests of the same operation is decided from this, here:

- A **named** selection lists its enrollments one by one: the API's user and course, the
  admin's change page, a command's `--user` with `--course`, the rows of a CSV file. It follows
  the contract's rule: an extension by days counts from the current end, even when that end
  lies in the past and access stays expired.
- A selection **by filter** is whatever matches a condition: a changelist selection (ticked
  rows or "select all"), a command's `--course`, `--user` alone, `--state`, `--expiring-before`
  or `--all`. It skips rows that an extension by days would leave still expired
  (STILL_EXPIRED): in a filtered selection that is almost always a selection mistake, and the
  preview names those rows.

Every door builds its selection with `Selection.named` or `Selection.by_filter`; no door
decides the rule itself.

A selection also says **whose** it is: its `scope` (operations/scope.py), the courses the
actor may act in. The core reads and locks only the rows within it (`in_scope`), and
`apply` narrows it again to its actor's scope for the operation's permission, so a door that
forgot to pass one still changes nothing outside the actor's courses.
"""

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db.models import QuerySet

from enrollments.models import Enrollment
from enrollments.operations.scope import EVERYWHERE, Scope


@dataclass(frozen=True, slots=True)
class Selection:
    """Enrollments by filter (`queryset`), or named (`ids`, in the order given; no queryset:
    the core reads named rows by their ids). `narrowed_to_ids`: a filter narrowed to a list of ids
    (a run's chunk, a command's batch), which the core writes by id (core.write_scope)."""

    queryset: QuerySet[Enrollment] | None
    ids: tuple[uuid.UUID, ...] | None = None
    scope: Scope = EVERYWHERE
    narrowed_to_ids: bool = False

    @classmethod
    def named(cls, ids: Iterable[uuid.UUID], *, scope: Scope = EVERYWHERE) -> "Selection":
        ids = tuple(dict.fromkeys(ids))
        return cls(queryset=None, ids=ids, scope=scope)

    @classmethod
    def by_filter(cls, queryset: QuerySet[Enrollment], *, scope: Scope = EVERYWHERE) -> "Selection":
        return cls(queryset=queryset, scope=scope)

    def within(self, scope: Scope) -> "Selection":
        """This selection, narrowed to `scope` as well."""
        if scope.everywhere:
            return self
        return Selection(self.queryset, self.ids, self.scope.within(scope), self.narrowed_to_ids)

    def in_scope(self, rows: QuerySet[Enrollment]) -> QuerySet[Enrollment]:
        """`rows` (enrollments) within the selection's scope: one condition on course_id."""
        return rows if self.scope.everywhere else rows.filter(self.scope.condition())

    @property
    def named_rule(self) -> bool:
        """Whether the contract's rule for named enrollments applies (see the module)."""
        return self.ids is not None

    def narrowed(self, ids: Sequence[uuid.UUID]) -> "Selection":
        """The part of this selection among `ids`, named the same way. A filter is applied
        again when the part is read, so a row that stopped matching drops out."""
        if self.ids is not None:
            wanted = set(ids)
            return Selection.named((pk for pk in self.ids if pk in wanted), scope=self.scope)
        # One array parameter on PostgreSQL, not one per id (lms/lookups.py).
        queryset = self.queryset.filter(pk__any_of=list(ids))
        return Selection(queryset=queryset, scope=self.scope, narrowed_to_ids=True)

    def ids_in_order(self) -> list[uuid.UUID]:
        """Every id of the selection now (no lock): named ones as given, else in key order."""
        if self.ids is not None:
            return list(self.ids)
        return list(self.in_scope(self.queryset).order_by("pk").values_list("pk", flat=True))
