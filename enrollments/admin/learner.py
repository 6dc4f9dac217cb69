"""The learner page (issue 26 item 5): a user's admin page lists the learner's enrollments,
for staff who may see enrollments, so support answers "what does this learner have?" from one
page instead of the stock user form.

Each row: the course, the access state (the enrollment list's badge and label), the progress and
course status (the list's own columns: memberships_with_progress, completion_rate), the start and
end in the staff member's zone (`instant_cell`, the zone named in the table's caption), a link to
the enrollment's page and to its history (the enrollment admin's History, which opens the
whole trail or, without the trail's permission, the history on the enrollment's page), and the
lifecycle actions the staff member may start there (offered.py: the enrollment page's own rule,
each a link to the existing preview/confirm page for that enrollment). Removed enrollments are
listed too, with their badge and Restore…, as on their page.

Scoped like every enrollment page (scoping.page_scope): a course staff member sees only the
enrollments of their courses; the section is absent for staff who see no enrollments. Fixed
cost: the roles are read once per request (operations.scope.roles_of), the enrollments with
their progress in one statement, whatever their number (tests/admin/test_learner_page.py).

Wiring: `LearnerPage` is a mixin for lms/admin.py's UserAdmin (the page's template and context).
"""

from dataclasses import dataclass

from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.safestring import SafeString

from enrollments.admin.display import instant_cell
from enrollments.admin.filters import AccessStateFilter
from enrollments.admin.offered import Offer, offered_actions
from enrollments.admin.scoping import page_scope
from enrollments.admin.time_zone import staff_time_zone
from enrollments.models import Enrollment
from enrollments.selectors.memberships import memberships_with_progress

TEMPLATE = "admin/enrollments/learner/user_change_form.html"


@dataclass(frozen=True, slots=True)
class LearnerEnrollment:
    """One row of the learner page, rendered (the cells are the enrollment list's)."""

    enrollment: Enrollment
    course_title: str
    state: SafeString
    progress: SafeString
    course_status: SafeString
    start: SafeString
    end: SafeString
    page_url: str
    history_url: str
    actions: list[Offer]


def learner_enrollments(request: HttpRequest, learner) -> list[LearnerEnrollment] | None:
    """The rows of `learner`'s enrollments that `request.user` sees, by course title; None
    when they see no enrollments at all (the section is left out)."""
    scope = page_scope(request.user)  # the roles: read once per request (scope.roles_of)
    if scope.empty:
        return None
    enrollments = admin.site.get_model_admin(Enrollment)
    rows = memberships_with_progress(
        Enrollment.objects.filter(scope.condition(), user_id=learner.pk)
    ).select_related("course")
    return [
        LearnerEnrollment(
            enrollment=enrollment,
            course_title=enrollment.course.title,
            state=enrollments.access_state_display(enrollment),
            progress=enrollments.progress_display(enrollment),
            course_status=enrollments.course_status_display(enrollment),
            start=instant_cell(enrollment.start_at),
            end=instant_cell(enrollment.ended_at),
            page_url=reverse("admin:enrollments_enrollment_change", args=[enrollment.pk]),
            history_url=reverse("admin:enrollments_enrollment_history", args=[enrollment.pk]),
            actions=offered_actions(enrollments, request, enrollment),
        )
        for enrollment in rows.order_by("course__title", "course_id")
    ]


def learner_list_url(learner) -> str:
    """The enrollment list filtered to `learner`, removed enrollments included (the list's
    default leaves them out; this page lists them)."""
    url = reverse("admin:enrollments_enrollment_changelist")
    state = f"{AccessStateFilter.parameter_name}={AccessStateFilter.ALL}"
    return f"{url}?user__id__exact={learner.pk}&{state}"


class LearnerPage:
    """The user admin's learner section (a mixin listed before Django's UserAdmin)."""

    change_form_template = TEMPLATE

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            rows = learner_enrollments(request, obj)
            context["learner_enrollments"] = rows
            if rows is not None:
                context["learner_zone"] = staff_time_zone(request).key
                context["learner_scoped"] = not page_scope(request.user).everywhere
                context["learner_list_url"] = learner_list_url(obj)
        return super().render_change_form(request, context, add, change, form_url, obj)
