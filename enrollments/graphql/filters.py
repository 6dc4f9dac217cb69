"""Filters of `courseMemberships`, as a django-filter FilterSet: the API declares its arguments,
this validates them and turns them into a queryset. Access state uses selectors.access_state_q,
so the API, the admin and the commands agree on what "active" or "expired" means.

A filter given is a filter: an empty value (`course_id: ""`, `" "`, `course_status: ""`) is
refused as malformed (FilterForm), never read as "no filter". Django's form fields clean blank
to "no value" and django-filter then skips the filter, so a client whose learner or course id
came out empty would have listed, counted and fetched everyone it may see.
"""

import django_filters
from django import forms
from django.db.models import QuerySet

from enrollments import clock
from enrollments.models import Enrollment
from enrollments.progress import CourseStatus
from enrollments.rules import AccessState
from enrollments.selectors.access import access_state_q


class FilterForm(forms.Form):
    """The FilterSet's form: a filter given blank (a string of nothing or spaces) is an error
    of that filter, with the message its field gives any malformed value. Only an absent
    filter (not in the data) is no filter."""

    def clean(self) -> dict:
        cleaned = super().clean()
        for name, field in self.fields.items():
            value = self.data.get(name)
            if isinstance(value, str) and not value.strip() and not self.has_error(name):
                self.add_error(name, _malformed(field, value))
        return cleaned


def _malformed(field: forms.Field, value: str) -> forms.ValidationError:
    """The error `field` gives a malformed value ("Enter a valid UUID.", "Select a valid
    choice. ..."); a field without one says "This field is required." (every field has it)."""
    codes = [code for code in ("invalid", "invalid_choice") if code in field.error_messages]
    code = codes[0] if codes else "required"
    return forms.ValidationError(field.error_messages[code], code=code, params={"value": value})


class EnrollmentFilter(django_filters.FilterSet):
    """Every filter is optional; given ones are combined with AND, and a given one must hold a
    value (FilterForm). Run it on a queryset from selectors.memberships_with_progress
    (course_status is an annotation)."""

    course_id = django_filters.UUIDFilter(field_name="course_id")
    user_id = django_filters.UUIDFilter(field_name="user_id")
    course_status = django_filters.ChoiceFilter(
        field_name="course_status", choices=[(value, value) for value in CourseStatus.CHOICES]
    )
    is_paused = django_filters.BooleanFilter(field_name="is_paused")
    access_state = django_filters.ChoiceFilter(
        choices=[(state.value, state.value) for state in AccessState], method="filter_access_state"
    )
    ended_before = django_filters.IsoDateTimeFilter(field_name="ended_at", lookup_expr="lt")
    ended_after = django_filters.IsoDateTimeFilter(field_name="ended_at", lookup_expr="gte")

    class Meta:
        model = Enrollment
        fields: list[str] = []
        form = FilterForm

    def filter_access_state(
        self, queryset: QuerySet[Enrollment], name: str, value: str
    ) -> QuerySet[Enrollment]:
        # The request's one instant (clock.request_now): the rows' access_state reads it too.
        at = clock.now() if self.request is None else clock.request_now(self.request)
        return queryset.filter(access_state_q(value, at=at))
