"""CSV export of the enrollment list and of the audit trail (issue 26, item 4): the rows the
staff member's list shows now, every page of them, as a download.

Why the list's own ChangeList: the export must hold exactly the rows the list holds, with its
filters, search, date drill-down and ordering, within the staff member's courses. Re-writing
those conditions here would drift from the list as soon as a filter changed; instead the
export builds the admin's `ChangeList` from the same query string (`get_changelist_instance`:
the model admin's scoped `get_queryset`, its list filters, `search_fields`, `date_hierarchy`,
`get_ordering`) and streams `changelist.queryset`, all of its rows rather than one page. The
list's "Export CSV" link carries its current query string.

- Who: whoever may view the list (`has_view_permission`: the enrollments of their courses,
  `scoping.page_scope`; the audit trail's records of theirs, `scoping.trail_scope`); anyone
  else gets 403. An invalid filter is answered as the list answers it (`?e=1`).
- How: a `StreamingHttpResponse` that writes rows as the database cursor yields them
  (`iterator()`), so a large list is never held in memory; every row goes through the
  project's one CSV writer (`enrollments.csv_output`: a cell typed by someone, such as
  `=HYPERLINK(...)`, is written as inert text).
- Words in the staff member's language (issue 26 item 9): the header line is headings, not
  keys, so it is translated, and so are the access state, course status, action and source
  cells; ids, e-mail addresses, titles, numbers and dates are data and stay as they are. The
  language active when the download starts is kept while the body streams.
- Dates in the staff member's time zone, ISO 8601 with the UTC offset (`2036-03-01T13:00:00+01:00`),
  the zone named in the column header; an empty end means "indefinite". The file is UTF-8 with
  a byte-order mark, which Excel needs to read non-ASCII names correctly (every other
  spreadsheet ignores it).
"""

import copy
import zoneinfo
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.admin import ModelAdmin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ERROR_FLAG
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseRedirect, StreamingHttpResponse
from django.urls import URLPattern, reverse
from django.utils import translation
from django.utils.translation import gettext_lazy

from enrollments import clock
from enrollments.admin import views
from enrollments.admin.display import course_status_label, state_label
from enrollments.admin.time_zone import staff_time_zone
from enrollments.csv_output import csv_writer
from enrollments.instants import in_zone
from enrollments.models import AccessChange
from enrollments.selectors.access import enrollment_access_state
from enrollments.selectors.memberships import completion_rate

#: Rows fetched per round trip while streaming.
CHUNK_SIZE = 2000
#: Written first: Excel reads the file as UTF-8 only with it.
BYTE_ORDER_MARK = "\ufeff"


@dataclass(frozen=True, slots=True)
class At:
    """What every cell of one export is written with: the staff member's zone and language,
    and the one instant the access states are computed at (read once, when the download
    starts)."""

    zone: zoneinfo.ZoneInfo
    now: datetime
    language: str | None = None


@dataclass(frozen=True, slots=True)
class Column:
    """One column: its header (marked for translation; `%(zone)s` replaced by the staff
    member's zone) and its cell."""

    header: str
    cell: Callable[[Any, At], Any]


def instant(value: datetime | None, at: At) -> str:
    """ISO 8601 in the staff member's zone, with the offset, to the second; empty for none. An
    instant the zone cannot show (near the calendar's ends: `instants.in_zone`) is written in
    UTC, its offset saying so, rather than breaking the download mid-stream."""
    if value is None:
        return ""
    return in_zone(value, at.zone).isoformat(timespec="seconds")


ENROLLMENT_COLUMNS = (
    Column(gettext_lazy("enrollment id"), lambda e, at: str(e.pk)),
    Column(gettext_lazy("learner e-mail"), lambda e, at: e.user.email),
    Column(gettext_lazy("learner name"), lambda e, at: e.user.full_name),
    Column(gettext_lazy("course slug"), lambda e, at: e.course.slug),
    Column(gettext_lazy("course title"), lambda e, at: e.course.title),
    Column(gettext_lazy("start (%(zone)s)"), lambda e, at: instant(e.start_at, at)),
    Column(
        gettext_lazy("end (%(zone)s; empty: indefinite)"), lambda e, at: instant(e.ended_at, at)
    ),
    Column(
        gettext_lazy("access"), lambda e, at: state_label(enrollment_access_state(e, at=at.now))
    ),
    Column(
        gettext_lazy("paused since (%(zone)s)"),
        lambda e, at: instant(e.paused_at, at) if e.is_paused else "",
    ),
    Column(gettext_lazy("items completed"), lambda e, at: e.items_completed),
    Column(gettext_lazy("items total"), lambda e, at: e.items_total),
    Column(gettext_lazy("progress %"), lambda e, at: round(completion_rate(e) * 100)),
    Column(gettext_lazy("course status"), lambda e, at: course_status_label(e.course_status)),
)

ACCESS_CHANGE_COLUMNS = (
    Column(gettext_lazy("record id"), lambda c, at: str(c.pk)),
    Column(gettext_lazy("when (%(zone)s)"), lambda c, at: instant(c.created_at, at)),
    Column(gettext_lazy("action"), lambda c, at: c.get_action_display()),
    Column(gettext_lazy("enrollment id"), lambda c, at: str(c.enrollment_id)),
    Column(gettext_lazy("learner e-mail"), lambda c, at: c.enrollment.user.email),
    Column(gettext_lazy("course title"), lambda c, at: c.enrollment.course.title),
    Column(
        gettext_lazy("old end (%(zone)s)"),
        lambda c, at: "" if c.action == AccessChange.Action.ENROLL else instant(c.old_ended_at, at),
    ),
    Column(gettext_lazy("new end (%(zone)s)"), lambda c, at: instant(c.new_ended_at, at)),
    Column(gettext_lazy("paused seconds"), lambda c, at: c.paused_seconds),
    Column(gettext_lazy("actor"), lambda c, at: c.actor.email if c.actor is not None else ""),
    Column(gettext_lazy("source"), lambda c, at: c.get_source_display()),
    Column(gettext_lazy("reason"), lambda c, at: c.reason),
    Column(gettext_lazy("batch id"), lambda c, at: str(c.batch_id) if c.batch_id else ""),
)


class _Echo:
    """A file-like object whose `write` returns what it is given: the csv writer's line is
    handed straight to the response (Django's documented way of streaming CSV)."""

    def write(self, value: str) -> str:
        return value


def header(column: Column, at: At) -> str:
    """The column's heading in the active language, the staff member's zone named in it."""
    text = str(column.header)
    return text % {"zone": at.zone.key} if "%(zone)s" in text else text


def csv_lines(rows: Iterable[Any], columns: Iterable[Column], at: At) -> Iterator[str]:
    """The byte-order mark, the header line, then one line per row, through the project's
    formula-safe writer; in the download's language (`at.language`: the body streams after
    the view has returned)."""
    columns = tuple(columns)
    writer = csv_writer(_Echo())
    with translation.override(at.language):
        yield BYTE_ORDER_MARK
        yield writer.writerow(header(column, at) for column in columns)
        for row in rows:
            yield writer.writerow(column.cell(row, at) for column in columns)


def changelist_rows(model_admin: ModelAdmin, request: HttpRequest):
    """Every row of the list this request's query string shows (filters, search, date
    drill-down, ordering; the page number ignored), built by the admin's own ChangeList."""
    changelist_request = copy.copy(request)
    changelist_request.GET = request.GET.copy()
    changelist_request.GET.pop("p", None)  # every page, not the one the link was on
    return model_admin.get_changelist_instance(changelist_request).queryset


def export_view(
    model_admin: ModelAdmin, columns: tuple[Column, ...], name: str
) -> Callable[[HttpRequest], Any]:
    """The download of `model_admin`'s list as CSV (see the module)."""

    def view(request: HttpRequest):
        if not model_admin.has_view_permission(request):
            raise PermissionDenied
        try:
            rows = changelist_rows(model_admin, request)
        except IncorrectLookupParameters:
            opts = model_admin.opts
            changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
            return HttpResponseRedirect(f"{changelist}?{ERROR_FLAG}=1")
        # Read now: the time-zone middleware deactivates the zone before the body streams.
        at = At(zone=staff_time_zone(request), now=clock.now(), language=translation.get_language())
        stamp = in_zone(at.now, at.zone).strftime("%Y%m%d-%H%M")
        response = StreamingHttpResponse(
            csv_lines(rows.iterator(chunk_size=CHUNK_SIZE), columns, at),
            content_type="text/csv; charset=utf-8",
        )
        response["Content-Disposition"] = f'attachment; filename="{name}-{stamp}.csv"'
        return response

    return view


def urls(model_admin: ModelAdmin, columns: tuple[Column, ...], name: str) -> list[URLPattern]:
    """`export/` under the model's admin URLs, named `admin:<app>_<model>_export`."""
    return [
        views.admin_path(model_admin, "export/", export_view(model_admin, columns, name), "export")
    ]


def enrollment_urls(model_admin: ModelAdmin) -> list[URLPattern]:
    return urls(model_admin, ENROLLMENT_COLUMNS, "enrollments")


def access_change_urls(model_admin: ModelAdmin) -> list[URLPattern]:
    return urls(model_admin, ACCESS_CHANGE_COLUMNS, "access-changes")
