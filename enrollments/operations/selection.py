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
"""

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db.models import QuerySet

from enrollments.models import Enrollment


@dataclass(frozen=True, slots=True)
class Selection:
    """Enrollments by filter (`queryset`), or named (`ids`, in the order given; no queryset:
    the core reads named rows by their ids)."""

    queryset: QuerySet[Enrollment] | None
    ids: tuple[uuid.UUID, ...] | None = None

    @classmethod
    def named(cls, ids: Iterable[uuid.UUID]) -> "Selection":
        ids = tuple(dict.fromkeys(ids))
        return cls(queryset=None, ids=ids)

    @classmethod
    def by_filter(cls, queryset: QuerySet[Enrollment]) -> "Selection":
        return cls(queryset=queryset)

    @property
    def named_rule(self) -> bool:
        """Whether the contract's rule for named enrollments applies (see the module)."""
        return self.ids is not None

    def narrowed(self, ids: Sequence[uuid.UUID]) -> "Selection":
        """The part of this selection among `ids`, named the same way. A filter is applied
        again when the part is read, so a row that stopped matching drops out."""
        if self.ids is not None:
            wanted = set(ids)
            return Selection.named(pk for pk in self.ids if pk in wanted)
        return Selection(queryset=self.queryset.filter(pk__in=list(ids)))

    def ids_in_order(self) -> list[uuid.UUID]:
        """Every id of the selection now (no lock): named ones as given, else in key order."""
        if self.ids is not None:
            return list(self.ids)
        return list(self.queryset.order_by("pk").values_list("pk", flat=True))
