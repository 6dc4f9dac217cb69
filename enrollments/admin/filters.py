"""Changelist filters for enrollments. Time-dependent ones read the core's clock, and the
access-state filter is the selectors' SQL twin of the rule, so the admin agrees with the API.
`KnownChoiceFilter` is every list's filter of a field with choices (the audit trail's action
and source, the reminders' state, the webhooks' scheme)."""

from datetime import timedelta
from itertools import chain

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy, ngettext

from enrollments import clock
from enrollments.admin.display import course_status_choices, state_label
from enrollments.admin.scoping import courses_of_roles, every_course, page_scope
from enrollments.progress import CourseStatus
from enrollments.rules import AccessState
from enrollments.selectors.access import access_state_q, not_removed
from enrollments.selectors.expiry import ends_between_q


class CourseFilter(admin.RelatedFieldListFilter):
    """The courses of the list: every course for staff who see every course (read from the
    course table, not from the enrollments, which would scan them on every page), else only
    the courses of their roles (read with the roles, no query of its own: scoping.py)."""

    def field_choices(self, field, request, model_admin):
        scope = page_scope(request.user)
        if scope.everywhere:
            primed = every_course(request.user)
            if primed is not None:  # read with the user's roles (scoping.prime_roles)
                return primed
            return super().field_choices(field, request, model_admin)
        return [(pk, title) for pk, title in courses_of_roles(request.user) if scope.covers(pk)]

    def has_output(self) -> bool:
        """Also when a course is asked for: Django hides a filter of one choice, and a hidden
        filter is not applied, so a staff member of one course asking for another course (a
        crafted or old link) saw, and "Select all" selected, every row of their own course
        instead of none."""
        return bool(self.used_parameters) or super().has_output()


class KnownChoiceFilter(admin.ChoicesFieldListFilter):
    """Django's filter of a field with choices, taking only values among the choices: any other
    is refused as Django refuses an invalid lookup (the unfiltered list, marked `?e=1`; the
    CSV export redirects there too).

    Django's own filter passes `?state__exact=` on to the database as typed, and a bare
    `?state=` (or `?state__in=`), which it does not claim, is applied as a plain lookup: a
    value that is no choice showed an empty list as if filtered by something real. (A NUL
    character, which PostgreSQL refused with a 500, is now refused for every parameter of the
    admin before any list reads it: config/admin_query_guard.py; this filter refuses the rest.)
    Use it as `("field", KnownChoiceFilter)` in `list_filter`."""

    def expected_parameters(self) -> list[str]:
        """Django's two, and the bare and `__in` forms of the field (every form a link can
        name a choice by), so that none reaches the database unchecked."""
        return [*super().expected_parameters(), self.field_path, f"{self.field_path}__in"]

    def queryset(self, request, queryset: QuerySet) -> QuerySet:
        known = {str(value) for value, _label in self.field.flatchoices if value is not None}
        for name, values in self.used_parameters.items():
            if name == self.lookup_kwarg_isnull:  # a yes/no, read by Django as a bool
                continue
            typed = chain.from_iterable(v if isinstance(v, list) else [v] for v in values)
            if any(value not in known for value in typed):
                raise IncorrectLookupParameters(f"{name}: not one of the field's choices")
        return super().queryset(request, queryset)


class AccessStateFilter(admin.SimpleListFilter):
    """The list says what it includes (issue 26: a search for a removed learner showed "0
    results" while the filter highlighted "All"). The default, no parameter, leaves out the
    learners removed from their course and is labelled so: **Not removed**. **All (removed
    included)** (`?access_state=all`) means every enrollment; "Removed from course" lists the
    removed ones alone. `any`, the old name of `all` (links and bookmarks made before), is
    still understood and highlights "All"."""

    # Translators: a list filter's title, shown as "By access state".
    title = gettext_lazy("access state")
    parameter_name = "access_state"
    ALL = "all"
    #: The former value of ALL, still accepted.
    OLD_ALL = "any"
    DEFAULT_LABEL = gettext_lazy("Not removed (default)")
    ALL_LABEL = gettext_lazy("All (removed included)")

    def lookups(self, request, model_admin):
        return [(self.ALL, self.ALL_LABEL)] + [
            (state.value, state_label(state)) for state in AccessState
        ]

    def value(self):
        value = super().value()
        return self.ALL if value == self.OLD_ALL else value

    def choices(self, changelist):
        """Django's choices, the first (no parameter) named for what it shows."""
        for number, choice in enumerate(super().choices(changelist)):
            if number == 0:
                choice = {**choice, "display": self.DEFAULT_LABEL}
            yield choice

    def queryset(self, request, queryset: QuerySet) -> QuerySet:
        if self.value() in {state.value for state in AccessState}:
            return queryset.filter(access_state_q(self.value(), at=clock.now()))
        if self.value() == self.ALL:
            return queryset
        return not_removed(queryset)


class CourseStatusFilter(admin.SimpleListFilter):
    """Filters on the `course_status` annotation of selectors.memberships_with_progress."""

    # Translators: a list filter's title, shown as "By course status" (the learner's progress).
    title = gettext_lazy("course status")
    parameter_name = "course_status"

    def lookups(self, request, model_admin):
        return course_status_choices()

    def queryset(self, request, queryset: QuerySet) -> QuerySet:
        if self.value() in CourseStatus.CHOICES:
            return queryset.filter(course_status=self.value())
        return queryset


class PausedFilter(admin.SimpleListFilter):
    # Translators: a list filter's title, shown as "By paused".
    title = gettext_lazy("paused")
    parameter_name = "paused"

    def lookups(self, request, model_admin):
        return [("yes", gettext_lazy("Paused")), ("no", gettext_lazy("Not paused"))]

    def queryset(self, request, queryset: QuerySet) -> QuerySet:
        if self.value() in {"yes", "no"}:
            return queryset.filter(is_paused=self.value() == "yes")
        return queryset


class EndsWithinFilter(admin.SimpleListFilter):
    """Enrollments whose access ends in the next N days (not yet ended, not indefinite)."""

    # Translators: a list filter's title, shown as "By access ends".
    title = gettext_lazy("access ends")
    parameter_name = "ends_within"
    DAYS = (7, 30)

    def lookups(self, request, model_admin):
        return [
            (
                str(days),
                ngettext("within %(count)s day", "within %(count)s days", days) % {"count": days},
            )
            for days in self.DAYS
        ]

    def queryset(self, request, queryset: QuerySet) -> QuerySet:
        if self.value() not in {str(days) for days in self.DAYS}:
            return queryset
        now = clock.now()
        return queryset.filter(
            ends_between_q(after=now, until=now + timedelta(days=int(self.value())))
        )
