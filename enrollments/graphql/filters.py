"""Filters of `courseMemberships`, as a django-filter FilterSet: the API declares its arguments,
this validates them and turns them into a queryset. Access state uses selectors.access_state_q,
so the API, the admin and the commands agree on what "active" or "expired" means.
"""

import django_filters
from django.db.models import QuerySet

from enrollments import clock
from enrollments.models import Enrollment
from enrollments.progress import CourseStatus
from enrollments.rules import AccessState
from enrollments.selectors.access import access_state_q


class EnrollmentFilter(django_filters.FilterSet):
    """Every filter is optional; given ones are combined with AND. Run it on a queryset from
    selectors.memberships_with_progress (course_status is an annotation)."""

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

    def filter_access_state(
        self, queryset: QuerySet[Enrollment], name: str, value: str
    ) -> QuerySet[Enrollment]:
        # The request's one instant (clock.request_now): the rows' access_state reads it too.
        at = clock.now() if self.request is None else clock.request_now(self.request)
        return queryset.filter(access_state_q(value, at=at))
