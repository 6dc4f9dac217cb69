"""The date drill-down (`date_hierarchy`) bounded without leaving the calendar.

Django's changelist turns `?f__year=Y[&f__month=M[&f__day=D]]` into `f >= start` and
`f < the next year, month or day`, computed with datetime arithmetic. At year 9999 that next
start does not exist (`datetime` ends on 31 December 9999): the computation raised and the page
answered 500. The admin also shows dates in the staff member's zone (time_zone.py), so a bound
turned into UTC can leave the calendar too: 1 January of year 1 in Tokyo begins before the first
instant `datetime` holds, the last day of 9999 in New York ends after the last.

Here a bound that would leave the calendar is left out: nothing is stored beyond the calendar's
ends, so "from 1 January 9999 on" lists exactly what "during 9999" does. A date that is no date
(month 13, 30 February, year 10000) stays Django's "invalid lookup" (the unfiltered list, marked
`?e=1`), never a 500. Every ModelAdmin with a `date_hierarchy` takes `DateDrilldownMixin`.
"""

from datetime import UTC, date, datetime, timedelta

from django.conf import settings
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import get_fields_from_path
from django.contrib.admin.views.main import ChangeList
from django.db import models
from django.http import HttpRequest
from django.utils import timezone

Bound = datetime | date | None


def drilldown_bounds(
    year: str, month: str | None, day: str | None, *, aware: bool
) -> tuple[Bound, Bound]:
    """The [start, end) of the year, month or day named, in the current time zone when `aware`
    (then in UTC); a bound outside the calendar is None (no bound on that side).

    Raises IncorrectLookupParameters when the values name no date."""
    try:
        start = datetime(int(year), int(month or 1), int(day or 1))
    except (ValueError, OverflowError) as error:  # OverflowError: past a C long (10**20)
        raise IncorrectLookupParameters(error) from error
    end = _next_start(start, by_day=day is not None, by_month=month is not None)
    if not aware:
        return start.date(), end.date() if end else None
    # A zone's offset is under a day and both bounds are a day inside the calendar, so the start
    # can only fall before its beginning and the end only after its end.
    return _in_utc(start), _in_utc(end) if end else None


def _next_start(start: datetime, *, by_day: bool, by_month: bool) -> datetime | None:
    """The start of the next day, month or year; None after 31 December 9999."""
    try:
        if by_day:
            return start + timedelta(days=1)
        if by_month:
            if start.month == 12:
                return start.replace(year=start.year + 1, month=1)
            return start.replace(month=start.month + 1)
        return start.replace(year=start.year + 1)
    except (ValueError, OverflowError):
        return None


def _in_utc(local: datetime) -> datetime | None:
    """`local` (a wall-clock time in the current zone) as a UTC instant; None when that instant
    is outside the calendar."""
    try:
        return timezone.make_aware(local).astimezone(UTC)
    except OverflowError:
        return None


class DateDrilldownChangeList(ChangeList):
    """Django's changelist, with the drill-down's bounds from `drilldown_bounds`."""

    def get_filters(self, request: HttpRequest):
        field = self.date_hierarchy
        parts = [f"{field}__{part}" for part in ("year", "month", "day")] if field else []
        if not field or parts[0] not in self.filter_params:
            return super().get_filters(request)
        # Django's own bounds are what overflow: its drill-down is switched off for the call,
        # so the year, month and day come back as plain lookups, replaced here by the bounds.
        self.date_hierarchy = None
        try:
            specs, has_filters, lookups, may_have_duplicates, has_active = super().get_filters(
                request
            )
        finally:
            self.date_hierarchy = field
        year, month, day = (_last(lookups.pop(part, None)) for part in parts)
        model_field = get_fields_from_path(self.model, field)[-1]
        aware = settings.USE_TZ and isinstance(model_field, models.DateTimeField)
        start, end = drilldown_bounds(year, month, day, aware=aware)
        if start is not None:
            lookups[f"{field}__gte"] = [start]
        if end is not None:
            lookups[f"{field}__lt"] = [end]
        return specs, has_filters, lookups, may_have_duplicates, has_active


def _last(values: list[str] | None) -> str | None:
    """A repeated query parameter counts once, by its last value (as Django reads it)."""
    return values[-1] if values else None


class DateDrilldownMixin:
    """For every ModelAdmin with a `date_hierarchy`: drill-downs at the calendar's ends answer
    a page, not a 500."""

    def get_changelist(self, request: HttpRequest, **kwargs) -> type[ChangeList]:
        return DateDrilldownChangeList
