"""The audit trail's filters by course, actor and date range (issue 26 item 5), applied as the
selector's own conditions (selectors/audit_log.AuditFilter, the API's auditLog filters), so the
admin list, its CSV export (which reads the list's queryset) and the API agree on what "by
course", "by actor" and "from/to" mean.

- **Course**: the courses whose trail the staff member sees (scoping.trail_scope): every course
  for a global viewer, their roles' courses otherwise (read with the roles, no query of its own).
- **Actor**: "No actor (system, commands)" and every account that made a change in the staff
  member's scope (one query: the accounts among the scope's records' actors, by e-mail).
- **Date range**: two date inputs, *from* and *to*, both inclusive, days in the staff member's
  zone (the one the list shows; time_zone.py): from 00:00 of the first day to the end of the last.
  A date that is not YYYY-MM-DD (or outside the years 2-9998) is said so, in the filter and as a
  message, and that bound is not applied; *from* after *to* is said so and matches nothing.
A course or actor parameter that is not an id (a crafted link) matches nothing and says so.
"""

from datetime import date, datetime, time, timedelta

from django.contrib import admin, messages
from django.contrib.admin.views.main import ERROR_FLAG, PAGE_VAR
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from enrollments.admin.scoping import courses_of_roles, trail_scope
from enrollments.models import AccessChange
from enrollments.selectors.audit_log import AuditFilter
from lms.identifiers import parse_uuid
from lms.models import Course, User

#: The actor filter's value for records without an actor (the clock's sweep, commands).
NO_ACTOR = "none"
#: The years a typed date may have: the day after the last must still be a date, and a day
#: before year 2 may not be a UTC instant in every zone.
FIRST_YEAR, LAST_YEAR = 2, 9998


def _once(request: HttpRequest, text: str) -> None:
    """A message for the request, once (a list is built more than once per request)."""
    said = request.__dict__.setdefault("audit_filter_messages", set())
    if text not in said:
        said.add(text)
        messages.error(request, text)


class TrailCourseFilter(admin.SimpleListFilter):
    # Translators: a list filter's title, shown as "By course".
    title = gettext_lazy("course")
    parameter_name = "course"

    def lookups(self, request, model_admin):
        scope = trail_scope(request.user)
        if scope.everywhere:
            return list(Course.objects.order_by("title", "pk").values_list("pk", "title"))
        return [(pk, title) for pk, title in courses_of_roles(request.user) if scope.covers(pk)]

    def queryset(self, request, queryset: QuerySet[AccessChange]) -> QuerySet[AccessChange]:
        if self.value() is None:
            return queryset
        course_id = parse_uuid(self.value())
        if course_id is None:
            _once(
                request,
                _("“%(value)s” is not a course id: no change matches it.")
                % {"value": self.value()},
            )
            return queryset.none()
        return queryset.filter(AuditFilter(course_id=course_id).condition())


class ActorFilter(admin.SimpleListFilter):
    # Translators: a list filter's title, shown as "By actor" (who made the change).
    title = gettext_lazy("actor")
    parameter_name = "actor"

    def lookups(self, request, model_admin):
        acted = AccessChange.objects.filter(
            trail_scope(request.user).condition("enrollment__course_id"), actor__isnull=False
        ).values("actor_id")
        actors = User.objects.filter(pk__in=acted).order_by("email").values_list("pk", "email")
        return [(NO_ACTOR, _("No actor (system, commands)")), *actors]

    def queryset(self, request, queryset: QuerySet[AccessChange]) -> QuerySet[AccessChange]:
        value = self.value()
        if value is None:
            return queryset
        if value == NO_ACTOR:
            return queryset.filter(AuditFilter(system_only=True).condition())
        actor_id = parse_uuid(value)
        if actor_id is None:
            _once(
                request,
                _("“%(value)s” is not an account id: no change matches it.") % {"value": value},
            )
            return queryset.none()
        return queryset.filter(AuditFilter(actor_id=actor_id).condition())


def parse_day(text: str) -> date | None:
    """A YYYY-MM-DD date within FIRST_YEAR..LAST_YEAR, or None."""
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        return None
    if len(text.strip()) != 10 or not FIRST_YEAR <= day.year <= LAST_YEAR:
        return None
    return day


def start_of(day: date) -> datetime:
    """00:00 of `day` in the active zone (the staff member's), as an aware instant."""
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


class DateRangeFilter(admin.ListFilter):
    """Changes made from one day to another (both inclusive), in the staff member's zone."""

    # Translators: a list filter's title, shown as "By date range".
    title = gettext_lazy("date range")
    template = "admin/enrollments/accesschange/date_range_filter.html"
    FROM = "created_from"
    TO = "created_to"

    def __init__(self, request, params, model, model_admin):
        super().__init__(request, params, model, model_admin)
        for name in (self.FROM, self.TO):
            if name in params:
                value = params.pop(name)
                self.used_parameters[name] = value[-1] if isinstance(value, list) else value
        self.errors: list[str] = []
        self.days: dict[str, date | None] = {}
        bad_date = {
            self.FROM: _(
                "From date “%(text)s” is not a date: type it as YYYY-MM-DD (years %(first)s to "
                "%(last)s). The list is not filtered by it."
            ),
            self.TO: _(
                "To date “%(text)s” is not a date: type it as YYYY-MM-DD (years %(first)s to "
                "%(last)s). The list is not filtered by it."
            ),
        }
        for name in (self.FROM, self.TO):
            text = self.used_parameters.get(name, "")
            day = parse_day(text) if text.strip() else None
            if text.strip() and day is None:
                self.errors.append(
                    bad_date[name] % {"text": text, "first": FIRST_YEAR, "last": LAST_YEAR}
                )
            self.days[name] = day
        first, last = self.days[self.FROM], self.days[self.TO]
        self.empty_range = first is not None and last is not None and first > last
        if self.empty_range:
            self.errors.append(
                _("The from date (%(first)s) is after the to date (%(last)s): no change matches.")
                % {"first": first, "last": last}
            )
        self.hidden = [
            (name, value)
            for name, values in request.GET.lists()
            if name not in {self.FROM, self.TO, PAGE_VAR, ERROR_FLAG}
            for value in values
        ]
        self.zone = timezone.get_current_timezone_name()

    def has_output(self) -> bool:
        return True

    def expected_parameters(self) -> list[str]:
        return [self.FROM, self.TO]

    def choices(self, changelist):
        """The form's two values as typed (a bad one kept, to correct it)."""
        yield {
            "from": self.used_parameters.get(self.FROM, ""),
            "to": self.used_parameters.get(self.TO, ""),
        }

    def queryset(self, request, queryset: QuerySet[AccessChange]) -> QuerySet[AccessChange]:
        for error in self.errors:
            _once(request, error)
        if self.empty_range:
            return queryset.none()
        first, last = self.days[self.FROM], self.days[self.TO]
        if first is None and last is None:
            return queryset
        condition = AuditFilter(
            occurred_after=start_of(first) if first else None,
            occurred_before=start_of(last + timedelta(days=1)) if last else None,
        ).condition()
        return queryset.filter(condition)
