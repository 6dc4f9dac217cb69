"""The expiry reminders in the admin (issue 26 item 5: "sent reminders are not visible"):
listed read-only, so support can answer "was this learner told their access ends?".

Each row is an `ExpiryReminder` (enrollments/reminders.py writes them: the sweep claims, a job
sends, retries, fails): its state, the learner, the course, the end it announced, when it was
sent, the attempts and the last error; filtered by state, searched by the learner's e-mail or
the course. Nobody adds, changes or deletes one here (`ReadOnly`): the rows are the reminders'
state machine, and `notify_expiring --retry-failed` is how a failed one is tried again.

Who sees them: whoever sees the enrollment (scoping.PAGE_PERMISSIONS, globally or through a
course role, in that course only), as an enrollment's history is shown to whoever sees the
enrollment; and staff holding permissions.VIEW_EXPIRY_REMINDER (Django's own view permission of
the model) who may not see enrollments, such as a mail administrator. Course roles are not
changed for it (a role granting one more permission would make every holder "do more" than
staff without it: lms/privileges.py). One condition on the enrollment's course (`scope_of_any`);
a reminder of another course is not found, like a missing one. Dates in the staff member's zone,
with its abbreviation.
"""

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy

from enrollments.admin.display import ReadOnly, enrollment_label, format_instant, instant_cell
from enrollments.admin.filters import KnownChoiceFilter
from enrollments.admin.scoping import PAGE_PERMISSIONS
from enrollments.models import ExpiryReminder
from enrollments.operations.scope import Scope, scope_of_any
from enrollments.permissions import VIEW_EXPIRY_REMINDER


def reminder_scope(user) -> Scope:
    """The courses whose reminders `user` sees."""
    return scope_of_any(user, (*PAGE_PERMISSIONS, VIEW_EXPIRY_REMINDER))


@admin.register(ExpiryReminder)
class ExpiryReminderAdmin(ReadOnly, admin.ModelAdmin):
    list_display = (
        "learner",
        "course",
        "state_display",
        "end",
        "sent",
        "attempts",
        "last_error_display",
    )
    list_filter = (("state", KnownChoiceFilter),)
    search_fields = ("enrollment__user__email", "enrollment__course__title")
    search_help_text = gettext_lazy("Search by the learner's e-mail or the course's title.")
    ordering = ("-claimed_at", "-id")
    list_per_page = 50
    show_full_result_count = False
    fields = (
        "enrollment_link",
        "state_display",
        "ended_at_display",
        "claimed_at_display",
        "attempts",
        "last_attempt_at_display",
        "next_attempt_at_display",
        "sent_at_display",
        "last_error",
    )
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[ExpiryReminder]:
        scope = reminder_scope(request.user)
        return (
            super()
            .get_queryset(request)
            .filter(scope.condition("enrollment__course_id"))
            .select_related("enrollment__user", "enrollment__course")
        )

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        """Globally or through a role in some course; one reminder only within the scope
        (get_queryset finds no other)."""
        scope = reminder_scope(request.user)
        if obj is None:
            return not scope.empty
        return scope.covers(obj.enrollment.course_id)

    @admin.display(description=gettext_lazy("learner"), ordering="enrollment__user__email")
    def learner(self, reminder: ExpiryReminder) -> str:
        return format_html('<span class="email">{}</span>', reminder.enrollment.user.email)

    @admin.display(description=gettext_lazy("course"), ordering="enrollment__course__title")
    def course(self, reminder: ExpiryReminder) -> str:
        return reminder.enrollment.course.title

    # Translators: a column: a reminder's state (claimed, sent, failed, ...).
    @admin.display(description=gettext_lazy("state"), ordering="state")
    def state_display(self, reminder: ExpiryReminder) -> str:
        return reminder.get_state_display()

    @admin.display(description=gettext_lazy("end it announced"), ordering="ended_at")
    def end(self, reminder: ExpiryReminder) -> str:
        return instant_cell(reminder.ended_at)

    @admin.display(description=gettext_lazy("sent at"), ordering="sent_at")
    def sent(self, reminder: ExpiryReminder) -> str:
        return instant_cell(reminder.sent_at) if reminder.sent_at else "—"

    @admin.display(description=gettext_lazy("last error"))
    def last_error_display(self, reminder: ExpiryReminder) -> str:
        return reminder.last_error or "—"

    @admin.display(description=gettext_lazy("enrollment"))
    def enrollment_link(self, reminder: ExpiryReminder) -> str:
        enrollment = reminder.enrollment
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:enrollments_enrollment_change", args=[enrollment.pk]),
            enrollment_label(enrollment.user.email, enrollment.course.title),
        )

    @admin.display(description=gettext_lazy("end it announced"))
    def ended_at_display(self, reminder: ExpiryReminder) -> str:
        return format_instant(reminder.ended_at)

    @admin.display(description=gettext_lazy("claimed by a sweep at"))
    def claimed_at_display(self, reminder: ExpiryReminder) -> str:
        return format_instant(reminder.claimed_at)

    @admin.display(description=gettext_lazy("latest send began at"))
    def last_attempt_at_display(self, reminder: ExpiryReminder) -> str:
        return format_instant(reminder.last_attempt_at) if reminder.last_attempt_at else "—"

    @admin.display(description=gettext_lazy("next try due at"))
    def next_attempt_at_display(self, reminder: ExpiryReminder) -> str:
        return format_instant(reminder.next_attempt_at) if reminder.next_attempt_at else "—"

    @admin.display(description=gettext_lazy("sent at"))
    def sent_at_display(self, reminder: ExpiryReminder) -> str:
        return format_instant(reminder.sent_at) if reminder.sent_at else "—"
