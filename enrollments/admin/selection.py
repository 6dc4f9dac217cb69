"""The changelist's choice of enrollments (the rows ticked on one page, or "select all"),
parsed from an action's POST and carried from step to step of a preview/confirm page
(confirming.py) without one form field per row. The core's own selection (named or by filter)
is `operations.selection.Selection`, built from this one's rows.

Django refuses a POST with more than DATA_UPLOAD_MAX_NUMBER_FIELDS fields, so a "Select all
20,000 enrollments" selection cannot travel as ids. It travels as the changelist's own query
string (filters, search, date drill-down) plus `select_across=1`, and the queryset is rebuilt
from it by the changelist itself on every step. A hand-picked selection is at most one page of
the changelist, so it travels as ids.
"""

import copy
import uuid
from dataclasses import dataclass

from django.contrib.admin import helpers
from django.contrib.admin.options import IncorrectLookupParameters
from django.db.models import QuerySet
from django.http import HttpRequest, QueryDict
from django.utils.translation import gettext as _

from enrollments.models import Enrollment
from lms.identifiers import parse_uuid

SELECT_ACROSS = "select_across"
CHANGELIST_FILTERS = "_changelist_filters"


class InvalidChoice(Exception):
    """The posted selection cannot be understood (tampered or stale): nothing is changed. Its
    text is the reason staff read ("Invalid selection: <reason>"), in their language."""


@dataclass(frozen=True, slots=True)
class ChangelistChoice:
    """Either every enrollment matching `filters` (a changelist query string), or `ids` (the
    rows ticked on one changelist page). `filters` also names the changelist to return to."""

    across: bool = False
    filters: str = ""
    ids: tuple[uuid.UUID, ...] = ()

    @classmethod
    def from_action(cls, request: HttpRequest) -> "ChangelistChoice":
        """The choice of a changelist action POST (the changelist URL holds its filters)."""
        if request.POST.get(SELECT_ACROSS) == "1":
            filters = request.GET.copy()
            filters.pop("p", None)  # the page does not matter to "all N"
            return cls(across=True, filters=filters.urlencode())
        return cls(
            filters=request.GET.urlencode(),
            ids=_parse_ids(request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)),
        )

    @classmethod
    def from_post(cls, data: QueryDict) -> "ChangelistChoice":
        """The choice carried by a preview/confirm page's own form."""
        if data.get(SELECT_ACROSS) == "1":
            return cls(across=True, filters=data.get(CHANGELIST_FILTERS, ""))
        ids = _parse_ids(data.getlist(helpers.ACTION_CHECKBOX_NAME))
        if not ids:
            raise InvalidChoice(_("no enrollment selected"))
        return cls(filters=data.get(CHANGELIST_FILTERS, ""), ids=ids)

    def hidden_fields(self) -> list[tuple[str, str]]:
        """(name, value) pairs that carry this selection in a form: a few, or one per
        hand-picked row (one changelist page at most)."""
        if self.across:
            return [(SELECT_ACROSS, "1"), (CHANGELIST_FILTERS, self.filters)]
        return [(CHANGELIST_FILTERS, self.filters)] + [
            (helpers.ACTION_CHECKBOX_NAME, str(pk)) for pk in self.ids
        ]

    def resolve(self, model_admin, request: HttpRequest) -> tuple[QuerySet[Enrollment], int]:
        """The selected enrollments as the staff member may see them now, and how many.

        A "select all" selection rebuilds the changelist it was chosen on; the changelist has
        counted its rows already, so that count is reused rather than run again."""
        if not self.across:
            queryset = model_admin.get_queryset(request).filter(pk__in=self.ids)
            return queryset, queryset.count()
        changelist_request = copy.copy(request)
        changelist_request.GET = QueryDict(self.filters)
        changelist_request.method = "GET"
        try:
            changelist = model_admin.get_changelist_instance(changelist_request)
        except IncorrectLookupParameters as error:
            raise InvalidChoice(_("the changelist filters are not valid")) from error
        return changelist.queryset, changelist.result_count


def _parse_ids(values: list[str]) -> tuple[uuid.UUID, ...]:
    ids = tuple(parse_uuid(value) for value in values)
    if any(pk is None for pk in ids):
        raise InvalidChoice(_("malformed enrollment id"))
    return tuple(dict.fromkeys(ids))  # type: ignore[arg-type]
