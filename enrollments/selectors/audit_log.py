"""Reads of the audit trail (AccessChange rows): the one read behind every door that lists
access changes.

- `audit_trail(scope)`: every record the scope reaches (a course staff member: their courses'
  enrollments' records, one condition on `enrollment__course_id`; a record of another course is
  not there, as a missing one). The admin's "Access changes" list (enrollments/admin/
  access_changes.py) starts from it and applies its own filters; the API's `auditLog`
  (enrollments/graphql/audit_log.py) pages it with `audit_page`.
- `AuditFilter`: the filters both ask for by name (membership, learner, course, actor or no
  actor, actions, a time range), applied as conditions of the same one query.
- `audit_page`: one keyset page, newest first (`created_at`, then `id`, the admin's order), in
  ONE statement whatever its size: the page's ids, then those rows with their enrollment,
  learner and actor joined, one row more than asked to know whether another page follows. A
  position is a row's `(created_at, id)`, so rows written after a client started paging never
  shift its pages.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.contrib.postgres.expressions import ArraySubquery
from django.db import connections
from django.db.models import BooleanField, F, Func, Q, QuerySet

from enrollments.models import AccessChange
from enrollments.operations.scope import EVERYWHERE, Scope
from enrollments.selectors.keyset import Position

#: The newest-first order every door lists the trail in; ties broken by id, so it is total.
ORDERING = ("-created_at", "-id")


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """Which records to list; None (or empty) means no condition.

    `occurred_after` is inclusive and `occurred_before` exclusive, so that consecutive windows
    (`occurred_after: T` of the next after `occurred_before: T` of the last) neither miss nor
    repeat a record. `system_only` lists the records without an actor (the clock's sweep, an
    operator's command without `--actor`); it excludes `actor_id`."""

    enrollment_id: uuid.UUID | None = None
    learner_id: uuid.UUID | None = None
    course_id: uuid.UUID | None = None
    actor_id: uuid.UUID | None = None
    system_only: bool = False
    actions: frozenset[str] | None = None
    occurred_after: datetime | None = None
    occurred_before: datetime | None = None

    def condition(self) -> Q:
        condition = Q()
        for field, value in (
            ("enrollment_id", self.enrollment_id),
            ("enrollment__user_id", self.learner_id),
            ("enrollment__course_id", self.course_id),
            ("actor_id", self.actor_id),
            ("created_at__gte", self.occurred_after),
            ("created_at__lt", self.occurred_before),
        ):
            if value is not None:
                condition &= Q(**{field: value})
        if self.system_only:
            condition &= Q(actor__isnull=True)
        if self.actions is not None:
            condition &= Q(action__in=sorted(self.actions))
        return condition


def audit_trail(scope: Scope) -> QuerySet[AccessChange]:
    """Every record `scope` reaches, newest first, with what a list shows of it joined (the
    enrollment, its learner and course, the actor): no door reads a row outside the scope."""
    return (
        AccessChange.objects.filter(scope.condition("enrollment__course_id"))
        .select_related("enrollment__user", "enrollment__course", "actor")
        .order_by(*ORDERING)
    )


def _before(position: Position) -> Q:
    """Records after `position` in the newest-first order: `(created_at, id) < (t, i)`, with
    the redundant range term first so that an index on `created_at` can start at `t`."""
    return Q(created_at__lte=position.created_at) & (
        Q(created_at__lt=position.created_at) | Q(id__lt=position.id)
    )


@dataclass(frozen=True, slots=True)
class AuditPage:
    rows: Sequence[AccessChange]
    #: Whether more records follow the last row (ask again with its position).
    has_more: bool


class _IdAmong(Func):
    """`id = ANY(ARRAY(subquery))` (PostgreSQL; as enrollments/graphql/pagination.py's): the
    page's ids are read first, once, and each row then looked up by primary key."""

    arg_joiner = " = ANY("
    template = "%(expressions)s)"
    output_field = BooleanField()


def audit_page(
    *, scope: Scope, filters: AuditFilter, after: Position | None, size: int
) -> AuditPage:
    """The `size` newest records of the scope matching `filters` after `after`, in one
    statement: the page's ids first (the trail alone, joined to the enrollments only for a
    course or learner condition), then those rows with what they show joined. Joining the
    learners, courses and actors before the sort made PostgreSQL join every record to sort
    them: 6-7 s for a page of 2,000,000 records against 0.4 s for this (docs/api.md)."""
    keys = AccessChange.objects.filter(scope.condition("enrollment__course_id"))
    keys = keys.filter(filters.condition())
    if after is not None:
        keys = keys.filter(_before(after))
    ids = keys.order_by(*ORDERING).values("pk")[: size + 1]
    rows = audit_trail(EVERYWHERE)
    if connections[rows.db].vendor == "postgresql":
        rows = rows.filter(_IdAmong(F("pk"), ArraySubquery(ids)))
    else:
        rows = rows.filter(pk__in=ids)
    found = list(rows)
    return AuditPage(found[:size], has_more=len(found) > size)
