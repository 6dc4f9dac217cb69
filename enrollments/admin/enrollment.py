"""The enrollment admin: a changelist staff can work from (state, progress, filters), and
actions that change access only through the operation core, so every change is audited.

Scoped (issue 25, scoping.py): a user who sees enrollments through course roles only sees and
counts their courses' rows (the list, its course filter, search, "Select all", an enrollment's
page, which answers an enrollment of another course as a missing one), and is offered the
actions and buttons whose permission they hold in at least one course; each page then changes
only the rows of the courses where they hold the operation's permission (confirming.py).

Fields with rules (end date, pause state and durations) are read-only on the change form:
editing them there would bypass the core and the audit trail. They change through the
"Extend access…", "End access / set end…", "Pause…", "Resume…" and "Remove from course…"
actions and buttons instead (each a preview/confirm page of pages.py: a preview, a reason,
then Confirm).
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from enrollments.admin import enrolling, export, offered, removed, undoing, views
from enrollments.admin.access_changes import AccessChangeInline, access_change_trail_url
from enrollments.admin.dashboard import EndedWithinFilter
from enrollments.admin.date_drilldown import DateDrilldownMixin
from enrollments.admin.display import (
    course_status_label,
    duration_text,
    enrollment_label,
    format_instant,
    instant_cell,
    nowrap,
    state_badge,
)
from enrollments.admin.filters import (
    AccessStateFilter,
    CourseFilter,
    CourseStatusFilter,
    EndsWithinFilter,
    PausedFilter,
)
from enrollments.admin.forms import StaffZoneDateTimeField
from enrollments.admin.pages import EXPIRE_ACCESS, EXTEND_ACCESS, PAGES, PAUSE, REMOVE, RESUME
from enrollments.admin.reporting import error_text
from enrollments.admin.scoping import may, page_scope, prime_roles, trail_scope
from enrollments.errors import DomainError
from enrollments.models import AccessChange, Enrollment
from enrollments.operations import Expire, Extend, Pause, Remove, Resume
from enrollments.operations.enrolling_learners import enrollment_create
from enrollments.operations.scope import scope_of
from enrollments.permissions import CHANGE_ENROLLMENT, ENROLL_LEARNERS
from enrollments.selectors.access import enrollment_access_state
from enrollments.selectors.memberships import completion_rate, memberships_with_progress

#: The permissions the list asks for its actions and buttons (held in some course?).
ASKED = (
    EXTEND_ACCESS.permission,
    EXPIRE_ACCESS.permission,
    PAUSE.permission,
    REMOVE.permission,
    ENROLL_LEARNERS,
)

#: Shown read-only on an existing enrollment's page.
CHANGE_READONLY_FIELDS = (
    "user",
    "course",
    "start_at_display",
    "ended_at_display",
    "access_state_display",
    "paused_at_display",
    "total_paused_display",
    "progress_display",
    "created_at_display",
    "updated_at_display",
)


class EnrollmentAddForm(forms.ModelForm):
    """Enrolling from the admin: who, which course, and when access starts (default now). The
    end of access follows from the course (operations.enrolling_learners.enrollment_create)."""

    start_at = StaffZoneDateTimeField(
        label=gettext_lazy("Start at"),
        required=False,
        help_text=gettext_lazy(
            "In your time zone (shown at the top of the page). Empty: now. Access ends after "
            "the course's default number of days."
        ),
    )

    class Meta:
        model = Enrollment
        fields = ("user", "course", "start_at")


@admin.register(Enrollment)
class EnrollmentAdmin(DateDrilldownMixin, admin.ModelAdmin):
    list_display = (
        "student",
        "course_title",
        "start",
        "end",
        "access_state_display",
        "progress_display",
        "course_status_display",
    )
    list_select_related = ("user", "course")
    list_filter = (
        # Every course the user sees, read from the course table (or with their roles):
        # listing only the courses with enrollments would scan the enrollments on every page
        # (and every "select all" step).
        ("course", CourseFilter),
        AccessStateFilter,
        CourseStatusFilter,
        PausedFilter,
        EndsWithinFilter,
        EndedWithinFilter,  # "ended in the last 7 days" (the dashboard's column)
    )
    search_fields = (
        "user__email",
        "user__first_name",
        "user__last_name",
        "course__slug",
        "course__title",
    )
    search_help_text = gettext_lazy(
        "Search by the learner's e-mail or name, or the course's slug or title."
    )
    date_hierarchy = "ended_at"
    autocomplete_fields = ("user", "course")
    list_per_page = 50
    # "N results (Show all)" rather than "(M total)": no second, unfiltered COUNT per page.
    show_full_result_count = False
    list_max_show_all = 200
    actions = [
        "extend_access",
        "pause_enrollments",
        "resume_enrollments",
        "remove_from_course",
        "expire_access",
    ]
    inlines = [AccessChangeInline]
    add_form = EnrollmentAddForm
    change_form_template = "admin/enrollments/enrollment/change_form.html"

    # -- querysets and permissions --------------------------------------------------------------

    def get_queryset(self, request: HttpRequest) -> QuerySet[Enrollment]:
        """The enrollments of the courses the user sees (one condition on course_id, none for
        a global viewer). Progress comes from SQL annotations: a page costs the same queries
        at any size."""
        rows = super().get_queryset(request).filter(page_scope(request.user).condition())
        return memberships_with_progress(rows).select_related("user", "course")

    def get_changelist_instance(self, request: HttpRequest):
        """Also the list a "Select all" is rebuilt from (selection.py): the roles are read with
        the course filter's courses there too, before its actions ask for them."""
        prime_roles(request.user, courses=True, asked=ASKED)
        return super().get_changelist_instance(request)

    def get_urls(self):
        return [
            *enrolling.ENROLL_LEARNERS_PAGE.urls(self),
            *export.enrollment_urls(self),
            *(url for page in PAGES for url in page.urls(self)),
            *super().get_urls(),
        ]

    def response_action(self, request: HttpRequest, queryset: QuerySet):
        """A crafted action POST with a malformed id is refused with a message, not a server
        error (Django filters the ticked ids before any action runs)."""
        try:
            return super().response_action(request, queryset)
        except ValidationError:
            self.message_user(
                request, _("Invalid selection: malformed enrollment id"), messages.ERROR
            )
            return HttpResponseRedirect(request.get_full_path())

    def lookup_allowed(self, lookup, value, request=None) -> bool:
        # The user admin links to one learner's enrollments.
        return lookup == "user__id__exact" or super().lookup_allowed(lookup, value, request)

    # Seeing enrollments: globally (Django's permissions) or through a role in some course; an
    # enrollment only within the user's courses (get_queryset finds no other).

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return _reaches(obj, page_scope(request.user))

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return _reaches(obj, scope_of(request.user, CHANGE_ENROLLMENT))

    # The actions' permissions (`@admin.action(permissions=[codename])` asks these): held
    # globally or in at least one course.

    def has_extend_access_permission(self, request: HttpRequest, obj=None) -> bool:
        return _reaches(obj, scope_of(request.user, EXTEND_ACCESS.permission))

    def has_expire_access_permission(self, request: HttpRequest, obj=None) -> bool:
        return _reaches(obj, scope_of(request.user, EXPIRE_ACCESS.permission))

    def has_pause_enrollment_permission(self, request: HttpRequest, obj=None) -> bool:
        return _reaches(obj, scope_of(request.user, PAUSE.permission))

    def has_remove_from_course_permission(self, request: HttpRequest, obj=None) -> bool:
        return _reaches(obj, scope_of(request.user, REMOVE.permission))

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Django's `add_enrollment` opens the page; adding is enrolling, so the core's
        permission for it (ENROLL_LEARNERS, globally or in a course) is needed too."""
        return super().has_add_permission(request) and may(request.user, ENROLL_LEARNERS)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        # The audit trail protects enrollments (PROTECT): deactivate the user instead.
        return False

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = self.add_form
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request: HttpRequest, obj=None):
        if obj is None:
            return ("user", "course", "start_at")
        return CHANGE_READONLY_FIELDS

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        return () if obj is None else CHANGE_READONLY_FIELDS

    def get_inlines(self, request: HttpRequest, obj=None):
        return self.inlines if obj is not None else []

    # -- adding goes through the core ---------------------------------------------------------

    def save_model(self, request: HttpRequest, obj: Enrollment, form, change: bool) -> None:
        if change:  # nothing on the change form is editable; never write around the core
            return
        created = enrollment_create(
            user=obj.user,
            course=obj.course,
            start_at=form.cleaned_data.get("start_at"),
            actor=request.user,
            source=AccessChange.Source.ADMIN,
        )
        obj.pk, obj.start_at, obj.ended_at = created.pk, created.start_at, created.ended_at
        obj.created_at, obj.updated_at = created.created_at, created.updated_at
        obj._state.adding, obj._state.db = False, created._state.db

    def add_view(self, request: HttpRequest, form_url="", extra_context=None) -> HttpResponse:
        try:
            return super().add_view(request, form_url, extra_context)
        except DomainError as error:  # the add transaction rolled back: nothing was written
            self.message_user(
                request, _("Not enrolled: %(why)s") % {"why": error_text(error)}, messages.ERROR
            )
            return HttpResponseRedirect(request.get_full_path())

    def change_view(self, request: HttpRequest, object_id, form_url="", extra_context=None):
        """An enrollment outside the user's courses is not found, like a missing one."""
        prime_roles(request.user)
        extra_context = {
            **(extra_context or {}),
            "show_save": False,
            "show_save_and_continue": False,
            "show_save_and_add_another": False,
            "show_delete": False,
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def changelist_view(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        # The user's roles with the course filter's courses in one query, before the
        # permission checks would read the roles alone (scoping.prime_roles).
        prime_roles(request.user, courses=True, asked=ASKED)
        removed.removed_search_hint(self, request)  # a search that removed rows also match
        extra_context = {
            **(extra_context or {}),
            "can_enroll_learners": may(request.user, ENROLL_LEARNERS),
        }
        return super().changelist_view(request, extra_context)

    def history_view(self, request: HttpRequest, object_id, extra_context=None) -> HttpResponse:
        """The "History" button opens the enrollment's access-change trail (the audit records),
        not Django's edit log, which says nothing here: access changes go through the core.
        Staff who may not browse the whole trail get the history on the enrollment's page."""
        enrollment = views.find_enrollment(self, request, object_id)
        if enrollment is None:
            return views.not_found(self, request)
        if trail_scope(request.user).covers(enrollment.course_id):
            return HttpResponseRedirect(access_change_trail_url(enrollment.pk))
        return HttpResponseRedirect(f"{views.change_url(enrollment)}#access_changes-group")

    def get_formset_kwargs(self, request, obj, inline, prefix):
        kwargs = super().get_formset_kwargs(request, obj, inline, prefix)
        if isinstance(inline, AccessChangeInline) and obj is not None:
            kwargs["queryset"] = inline.latest(request, obj)
        return kwargs

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:  # name the learner and course, not the two ids of Enrollment.__str__
            context["subtitle"] = enrollment_label(obj.user.email, obj.course.title)
            context["history_total"] = obj.access_changes.count()
            context["history_shown"] = AccessChangeInline.LATEST
            context["history_url"] = access_change_trail_url(obj.pk)
            context["can_view_all_history"] = trail_scope(request.user).covers(obj.course_id)
            context["can_undo_batch"] = undoing.may_undo(request.user)
            # The buttons of the operations the user may apply in this enrollment's course.
            context["can_extend_access"] = self.has_extend_access_permission(request, obj)
            context["can_pause"] = self.has_pause_enrollment_permission(request, obj)
            context["can_remove"] = self.has_remove_from_course_permission(request, obj)
            context["can_expire_access"] = self.has_expire_access_permission(request, obj)
            context["can_restore"] = removed.may_restore(request.user, obj)
            # The buttons themselves: one rule with the learner page's (offered.py).
            context["lifecycle_actions"] = offered.offered_actions(self, request, obj)
        return super().render_change_form(request, context, add, change, form_url, obj)

    # -- changelist columns -------------------------------------------------------------------

    @admin.display(description=gettext_lazy("student"), ordering="user__email")
    def student(self, enrollment: Enrollment) -> str:
        user = enrollment.user
        if user.full_name:
            return format_html('{}<br><span class="quiet">{}</span>', user.email, user.full_name)
        return user.email

    @admin.display(description=gettext_lazy("course"), ordering="course__title")
    def course_title(self, enrollment: Enrollment) -> str:
        return enrollment.course.title

    # Translators: a column: when access starts.
    @admin.display(description=gettext_lazy("start"), ordering="start_at")
    def start(self, enrollment: Enrollment) -> str:
        return instant_cell(enrollment.start_at)

    # Translators: a column: when access ends.
    @admin.display(description=gettext_lazy("end"), ordering="ended_at")
    def end(self, enrollment: Enrollment) -> str:
        return instant_cell(enrollment.ended_at)

    @admin.display(description=gettext_lazy("start of access"))
    def start_at_display(self, enrollment: Enrollment) -> str:
        return format_instant(enrollment.start_at)

    @admin.display(description=gettext_lazy("end of access"))
    def ended_at_display(self, enrollment: Enrollment) -> str:
        return format_instant(enrollment.ended_at)

    @admin.display(description=gettext_lazy("paused since"))
    def paused_at_display(self, enrollment: Enrollment) -> str:
        return format_instant(enrollment.paused_at) if enrollment.paused_at else "—"

    @admin.display(description=gettext_lazy("created"))
    def created_at_display(self, enrollment: Enrollment) -> str:
        return format_instant(enrollment.created_at)

    @admin.display(description=gettext_lazy("last changed"))
    def updated_at_display(self, enrollment: Enrollment) -> str:
        return format_instant(enrollment.updated_at)

    @admin.display(description=gettext_lazy("time paused so far"))
    def total_paused_display(self, enrollment: Enrollment) -> str:
        return _("%(duration)s (completed pauses)") % {
            "duration": duration_text(enrollment.total_paused_duration)
        }

    # Translators: a column: the enrollment's access state (active, paused, ...).
    @admin.display(description=gettext_lazy("access"))
    def access_state_display(self, enrollment: Enrollment) -> str:
        return state_badge(enrollment_access_state(enrollment))

    @admin.display(description=gettext_lazy("progress"))
    def progress_display(self, enrollment: Enrollment) -> str:
        rate = completion_rate(enrollment)
        return nowrap(f"{rate:.0%} ({enrollment.items_completed}/{enrollment.items_total})")

    @admin.display(description=gettext_lazy("course status"), ordering="course_status")
    def course_status_display(self, enrollment: Enrollment) -> str:
        return nowrap(course_status_label(enrollment.course_status))

    # -- the actions: each shows its preview/confirm page (pages.py, confirming.py) ------------

    @admin.action(
        description=gettext_lazy("Extend access…"), permissions=[Extend.permission.codename]
    )
    def extend_access(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse:
        return EXTEND_ACCESS.action(self, request, queryset)

    @admin.action(
        description=gettext_lazy("Pause selected enrollments…"),
        permissions=[Pause.permission.codename],
    )
    def pause_enrollments(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse:
        return PAUSE.action(self, request, queryset)

    @admin.action(
        description=gettext_lazy("Resume selected enrollments…"),
        permissions=[Resume.permission.codename],
    )
    def resume_enrollments(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse:
        return RESUME.action(self, request, queryset)

    @admin.action(
        description=gettext_lazy("Remove from course…"), permissions=[Remove.permission.codename]
    )
    def remove_from_course(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse:
        return REMOVE.action(self, request, queryset)

    @admin.action(
        description=gettext_lazy("End access / set end…"), permissions=[Expire.permission.codename]
    )
    def expire_access(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse:
        return EXPIRE_ACCESS.action(self, request, queryset)


def _reaches(obj, scope) -> bool:
    """Whether `scope` (the user's, for one permission) reaches some course, or `obj`'s."""
    if obj is None:
        return not scope.empty
    return scope.covers(obj.course_id)
