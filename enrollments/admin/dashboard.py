"""The dashboard on the admin home (issue 26, item 4), for staff who may view enrollments:
counts per course and a chart of the ends of access to come.

Counts per course, each a link to the enrollment list filtered to exactly those rows:

| column | the list's filter (with the course's) |
| --- | --- |
| active | access state "Active" (`access_state=active`) |
| paused | access state "Paused" (`access_state=paused`) |
| ending within 7 / 30 days | access ends "within 7 days" / "within 30 days" (`ends_within=`) |
| ended in the last 7 days | access ended "in the last 7 days" (`ended_within=7`) |

Why the numbers equal the list's counts: each column's condition is the one the list's filter
applies (`selectors.access.access_state_q`, `selectors.expiry.ends_between_q`, the list's
default of leaving out removed learners: `not_removed`), on the staff member's own rows (the
list's `scoping.page_scope`), at one instant; tests/admin/test_dashboard.py compares every
number with the list's result count for its link. The links are relative to now, like the
filters: a number read a minute ago may differ from the list opened now by the rows that
crossed the boundary meanwhile.

The chart: how many accesses end in each of the next 12 weeks, calendar weeks from Monday
00:00 in the staff member's time zone (`time_zone.staff_time_zone`; UTC until they choose
one), the current week counted from now. Removed learners are left out, paused ones counted
(as the "ending within" filter does; a paused end may still move on resume). It is an SVG
drawn on the server: no script (the CSP allows none inline), readable without JavaScript; the
same numbers are in a table under it for screen readers and for copying.

Cost: two SQL statements whatever the number of courses and rows (GROUP BY course with one
conditional COUNT per column; GROUP BY week), pinned by the tests. Courses where every count
is 0 are left out (HAVING): the home page lists the courses with something to act on.
"""

import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode

from django.contrib import admin
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncWeek
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy, ngettext

from enrollments import clock
from enrollments.admin.scoping import page_scope
from enrollments.admin.time_zone import staff_time_zone
from enrollments.models import Enrollment
from enrollments.rules import AccessState
from enrollments.selectors.access import access_state_q, not_removed
from enrollments.selectors.expiry import ends_between_q

#: Weeks the chart shows, the current one first.
WEEKS = 12
#: The chart's drawing, in SVG user units (it scales to the page's width).
CHART_WIDTH, CHART_HEIGHT, BAR_AREA_TOP, BAR_AREA_BOTTOM = 720, 240, 24, 200


def ended_within_q(*, now: datetime, days: int) -> Q:
    """Access ended in `(now - days, now]`: the list's "ended in the last N days" filter and the
    dashboard's column."""
    return ends_between_q(after=now - timedelta(days=days), until=now)


class EndedWithinFilter(admin.SimpleListFilter):
    """The enrollment list's "access ended: in the last 7 days" (the dashboard links to it)."""

    # Translators: a list filter's title, shown as "By access ended".
    title = gettext_lazy("access ended")
    parameter_name = "ended_within"
    DAYS = (7,)

    def lookups(self, request, model_admin):
        return [
            (
                str(days),
                ngettext("in the last %(count)s day", "in the last %(count)s days", days)
                % {"count": days},
            )
            for days in self.DAYS
        ]

    def queryset(self, request, queryset: QuerySet) -> QuerySet:
        if self.value() not in {str(days) for days in self.DAYS}:
            return queryset
        return queryset.filter(ended_within_q(now=clock.now(), days=int(self.value())))


@dataclass(frozen=True, slots=True)
class Column:
    """One count of the table: its key, its heading (marked for translation), the list's
    filter (query parameters) that shows its rows, and its condition at `now`."""

    key: str
    heading: str
    filters: dict[str, str]

    def condition(self, now: datetime) -> Q:
        if self.key == "active":
            return access_state_q(AccessState.ACTIVE, at=now)
        if self.key == "paused":
            return access_state_q(AccessState.PAUSED, at=now)
        if self.key.startswith("ending_"):
            days = int(self.filters["ends_within"])
            return ends_between_q(after=now, until=now + timedelta(days=days))
        return ended_within_q(now=now, days=int(self.filters["ended_within"]))


COLUMNS = (
    Column("active", heading=gettext_lazy("Active"), filters={"access_state": "active"}),
    Column("paused", heading=gettext_lazy("Paused"), filters={"access_state": "paused"}),
    Column("ending_7", heading=gettext_lazy("Ending within 7 days"), filters={"ends_within": "7"}),
    Column(
        "ending_30", heading=gettext_lazy("Ending within 30 days"), filters={"ends_within": "30"}
    ),
    Column(
        "ended_7", heading=gettext_lazy("Ended in the last 7 days"), filters={"ended_within": "7"}
    ),
)


@dataclass(frozen=True, slots=True)
class Cell:
    count: int
    url: str


@dataclass(frozen=True, slots=True)
class CourseRow:
    title: str
    cells: tuple[Cell, ...]


@dataclass(frozen=True, slots=True)
class Week:
    """One bar: the week's first and last day (local), how many accesses end in it, and its
    drawing (x, y, height and the middle of its slot, in the chart's units)."""

    first: date
    last: date
    count: int
    x: float = 0
    y: float = 0
    height: float = 0
    center: float = 0

    @property
    def label_y(self) -> float:
        """Where the bar's count is written: just above the bar."""
        return self.y - 6


def list_url(filters: dict[str, str]) -> str:
    url = reverse("admin:enrollments_enrollment_changelist")
    return f"{url}?{urlencode(filters)}" if filters else url


def course_rows(user, now: datetime) -> tuple[list[CourseRow], tuple[Cell, ...]]:
    """Every course of the staff member's with a count above 0, by title, and the totals
    (one statement)."""
    rows = (
        not_removed(Enrollment.objects.filter(page_scope(user).condition()))
        .values("course_id", "course__title")
        .annotate(**{c.key: Count("pk", filter=c.condition(now)) for c in COLUMNS})
        .filter(_any_above_zero())
        .order_by("course__title", "course_id")
    )
    courses = [
        CourseRow(
            row["course__title"],
            tuple(
                Cell(
                    row[c.key], list_url({"course__id__exact": str(row["course_id"]), **c.filters})
                )
                for c in COLUMNS
            ),
        )
        for row in rows
    ]
    totals = tuple(
        Cell(sum(course.cells[n].count for course in courses), list_url(c.filters))
        for n, c in enumerate(COLUMNS)
    )
    return courses, totals


def _any_above_zero() -> Q:
    condition = Q()
    for column in COLUMNS:
        condition |= Q(**{f"{column.key}__gt": 0})
    return condition


def week_start(now: datetime, zone: zoneinfo.ZoneInfo) -> datetime:
    """Monday 00:00 of `now`'s week in `zone`."""
    today = now.astimezone(zone).date()
    return datetime.combine(today - timedelta(days=today.weekday()), time(), tzinfo=zone)


def weekly_ends(user, now: datetime, zone: zoneinfo.ZoneInfo) -> list[Week]:
    """How many of the staff member's accesses end in each of the next `WEEKS` weeks (local
    calendar weeks, the current one from `now`), one statement, laid out as bars."""
    first = week_start(now, zone)
    mondays = [(first.date() + timedelta(weeks=n)) for n in range(WEEKS + 1)]
    until = datetime.combine(mondays[-1], time(), tzinfo=zone)
    counted = (
        not_removed(Enrollment.objects.filter(page_scope(user).condition()))
        .filter(ended_at__gt=now, ended_at__lt=until)
        .annotate(week=TruncWeek("ended_at", tzinfo=zone))
        .values("week")
        .annotate(count=Count("pk"))
        .order_by("week")
    )
    by_week = {timezone.localtime(row["week"], zone).date(): row["count"] for row in counted}
    tallest = max(by_week.values(), default=0) or 1
    slot = CHART_WIDTH / WEEKS
    room = BAR_AREA_BOTTOM - BAR_AREA_TOP
    weeks = []
    for n, monday in enumerate(mondays[:-1]):
        count = by_week.get(monday, 0)
        height = room * count / tallest
        weeks.append(
            Week(
                first=monday,
                last=monday + timedelta(days=6),
                count=count,
                x=round(n * slot + slot * 0.15, 1),
                y=round(BAR_AREA_BOTTOM - height, 1),
                height=round(height, 1),
                center=round(n * slot + slot / 2, 1),
            )
        )
    return weeks


def dashboard(request) -> dict | None:
    """The dashboard's context for this request; None for staff who may not view
    enrollments (the home page then shows Django's app list alone)."""
    user = request.user
    if not user.is_active or page_scope(user).empty:
        return None
    now = clock.now()
    zone = staff_time_zone(request)
    courses, totals = course_rows(user, now)
    weeks = weekly_ends(user, now, zone)
    busiest = max(weeks, key=lambda week: week.count)
    total_ends = sum(week.count for week in weeks)
    return {
        "columns": COLUMNS,
        "courses": courses,
        "totals": totals,
        "weeks": weeks,
        "zone": zone.key,
        "total_ends": total_ends,
        "busiest": busiest if busiest.count else None,
        "chart": {
            "width": CHART_WIDTH,
            "height": CHART_HEIGHT,
            "baseline": BAR_AREA_BOTTOM,
            "bar_width": round(CHART_WIDTH / WEEKS * 0.7, 1),
            "label_y": BAR_AREA_BOTTOM + 18,
            "date_y": BAR_AREA_BOTTOM + 34,
        },
    }
