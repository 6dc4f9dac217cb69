"""Admin for users and courses (with their items inline, ordered by position).

Both define `search_fields`: the enrollment admin's autocomplete widgets for user and course
search through them.

Only superusers grant privileges: for anyone else the user page shows staff and superuser status,
groups and permissions read-only, the group page its permissions, and an account that can do
more than the editor is seen but not changed, deleted or given a password (`can_do_more_than`:
its permissions, and its course roles, are not all the editor's).

Course roles (issue 25, lms.CourseRole) are granted inline, on a course's page (who holds a
role in it) and on a user's page (their roles), by staff holding `lms.manage_course_roles`
(not only superusers): for anyone else the rows are read-only (with `lms.view_courserole`) or
hidden. Whoever grants or changes a role is recorded (`granted_by`, `granted_at`), and every
grant, change and revoke leaves a record (lms.CourseRoleChange, written by lms/roles.py),
listed read-only under "Course role changes" and linked from each course's page. A course's
"Limits for course staff" (the most days one change may add, whether a reason is required)
are set by whoever may change the course, or manage its roles: a role manager without
`lms.change_course` opens a course's page to grant roles and set these limits, the rest read-only.
"""

from contextlib import suppress
from itertools import chain, islice

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm
from django.contrib.auth.models import Group
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from enrollments.admin.date_drilldown import DateDrilldownMixin
from enrollments.admin.display import ReadOnly, instant_cell, zoned
from enrollments.admin.labelling import LabelledTabularInline
from enrollments.admin.learner import LearnerPage
from enrollments.admin.privacy import LearnerDataActions
from enrollments.admin.scoping import page_scope
from enrollments.admin.time_zone import TimeZoneSelect, time_zone_choices
from enrollments.models import Enrollment
from enrollments.permissions import MANAGE_COURSE_ROLES
from lms.language import language_choices
from lms.models import Course, CourseItem, CourseRole, CourseRoleChange, User
from lms.privileges import can_do_more_than
from lms.roles import RoleNotHeld, Source, grant_role, revoke_role


def _count(queryset: QuerySet, field: str) -> Coalesce:
    """A correlated COUNT subquery: one query per page, whatever the number of rows."""
    counted = queryset.order_by().values(field).annotate(n=Count("*")).values("n")[:1]
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def _seen_enrollments(request: HttpRequest) -> QuerySet[Enrollment]:
    """The enrollments the user and course lists count: those the viewer sees, the scope of the
    enrollment list the count links to (scoping.page_scope). A course's staff member holding
    `lms.view_user` was shown a learner's enrollments in every course, while the list behind
    the number showed only theirs: a count they were not to learn, and one that disagreed
    with its own link. Nothing for a viewer who sees no enrollments."""
    scope = page_scope(request.user)
    if scope.empty:
        return Enrollment.objects.none()
    return Enrollment.objects.filter(scope.condition())


def _enrollments_link(count: int, query: str) -> str:
    """The count links to the rows it counts: every enrollment, removed ones included (the
    enrollment list leaves those out by default: issue 26, erin counted 1 and linked 0)."""
    url = reverse("admin:enrollments_enrollment_changelist")
    return format_html('<a href="{}?{}&amp;access_state=all">{}</a>', url, query, count)


#: Dates on the course and user pages in the staff member's zone, named (display.zoned).
GRANTED = zoned("granted_at", gettext_lazy("granted at"))
CREATED = zoned("created_at", gettext_lazy("created at"))
UPDATED = zoned("updated_at", gettext_lazy("updated at"))
LAST_LOGIN = zoned("last_login", gettext_lazy("last login"))
JOINED = zoned("date_joined", gettext_lazy("date joined"))

#: What a course's staff may do, set on the course (operations/limits.py applies them).
STAFF_LIMIT_FIELDS = ("staff_max_extension_days", "staff_reason_required")

#: What makes an account able to do more; only a superuser sets these.
USER_PRIVILEGE_FIELDS = ("is_staff", "is_superuser", "groups", "user_permissions")
GROUP_PRIVILEGE_FIELDS = ("permissions",)


class CourseRoleInline(LabelledTabularInline):
    """Course roles, inline: granted, changed and revoked by holders of MANAGE_COURSE_ROLES
    only; read-only for those who may merely view them (Django's `lms.view_courserole`), hidden
    from anyone else. Who granted a role, and when, is recorded on save (`save_roles`)."""

    model = CourseRole
    extra = 0
    readonly_fields = (GRANTED, "granted_by")
    verbose_name = gettext_lazy("course role")
    verbose_name_plural = gettext_lazy("course roles")

    def get_queryset(self, request: HttpRequest) -> QuerySet[CourseRole]:
        return super().get_queryset(request).select_related("user", "course", "granted_by")

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return MANAGE_COURSE_ROLES.held_by(request.user) or super().has_view_permission(
            request, obj
        )

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return MANAGE_COURSE_ROLES.held_by(request.user)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return MANAGE_COURSE_ROLES.held_by(request.user)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return MANAGE_COURSE_ROLES.held_by(request.user)


class RolesInCourseInline(CourseRoleInline):
    """On a course's page: who holds a role in it (users found by e-mail or name)."""

    fk_name = "course"
    fields = ("user", "role", GRANTED, "granted_by")
    autocomplete_fields = ("user",)


class RolesOfUserInline(CourseRoleInline):
    """On a user's page: their roles (courses found by title or slug)."""

    fk_name = "user"
    fields = ("course", "role", GRANTED, "granted_by")
    autocomplete_fields = ("course",)


def save_roles(request: HttpRequest, formset) -> None:
    """Saves a course-role formset through lms/roles.py, so each grant, change and revoke is
    recorded (lms.CourseRoleChange) with the role manager as actor and `granted_by`, in the
    change view's transaction. A row moved to another user (or course) revokes the role it held
    and grants the new one; a row deleted revokes the role as stored (not as edited)."""
    formset.save(commit=False)  # fills deleted_objects, changed_objects, new_objects
    actor = request.user

    def revoke_stored(pk: int) -> None:
        stored = CourseRole.objects.select_related("user", "course").filter(pk=pk).first()
        if stored is None:
            return  # revoked meanwhile, and recorded by whoever did it
        with suppress(RoleNotHeld):  # the same, between the two reads
            revoke_role(stored.user, stored.course, actor=actor, source=Source.ADMIN)

    for revoked in formset.deleted_objects:
        revoke_stored(revoked.pk)
    for role, _fields in formset.changed_objects:
        stored = CourseRole.objects.filter(pk=role.pk).values("user_id", "course_id").first()
        if stored is not None and (stored["user_id"], stored["course_id"]) != (
            role.user_id,
            role.course_id,
        ):
            revoke_stored(role.pk)
        grant_role(role.user, role.course, role.role, actor=actor, source=Source.ADMIN)
    for role in formset.new_objects:
        grant_role(role.user, role.course, role.role, actor=actor, source=Source.ADMIN)


def role_changes_url(**filters: object) -> str:
    """The list of role changes, filtered (`course__id__exact=...`, `user__id__exact=...`)."""
    url = reverse("admin:lms_courserolechange_changelist")
    return url + "".join(
        f"{'&' if n else '?'}{name}={value}" for n, (name, value) in enumerate(filters.items())
    )


@admin.register(CourseRoleChange)
class CourseRoleChangeAdmin(ReadOnly, admin.ModelAdmin):
    """Every grant, change and revoke of a course role: read-only for everyone (lms/roles.py
    writes them); seen by role managers (MANAGE_COURSE_ROLES) and by whoever may view them
    (`lms.view_courserolechange`)."""

    list_display = (
        "when",
        "course_slug",
        "user_email",
        "action",
        "old_role",
        "new_role",
        "actor_ref",
        "source",
    )
    list_filter = ("action", "source")
    list_select_related = ("user", "course", "actor")
    search_fields = ("user__email", "course__slug", "course__title")
    fields = ("when", "course", "user", "action", "old_role", "new_role", "actor", "source")
    readonly_fields = fields

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return MANAGE_COURSE_ROLES.held_by(request.user) or super().has_view_permission(
            request, obj
        )

    @admin.display(description=gettext_lazy("when"), ordering="created_at")
    def when(self, change: CourseRoleChange) -> str:
        return instant_cell(change.created_at)

    @admin.display(description=gettext_lazy("course"), ordering="course__slug")
    def course_slug(self, change: CourseRoleChange) -> str:
        return change.course.slug

    @admin.display(description=gettext_lazy("user"), ordering="user__email")
    def user_email(self, change: CourseRoleChange) -> str:
        return change.user.email

    # Translators: the column of who made a role change ("by lead@example.com").
    @admin.display(description=gettext_lazy("by"))
    def actor_ref(self, change: CourseRoleChange) -> str:
        return change.actor.email if change.actor is not None else "-"


class EmailUserCreationForm(UserCreationForm):
    class Meta:
        model = User
        fields = ("email", "first_name", "last_name")


def _time_zone_choices(current: str | None = None) -> list:
    return [("", _("Not chosen yet (dates in UTC)")), *time_zone_choices(current)]


class EmailUserChangeForm(UserChangeForm):
    # A known IANA zone or none: the admin shows this staff member's dates in it.
    time_zone = forms.ChoiceField(
        choices=_time_zone_choices,
        required=False,
        label=gettext_lazy("Time zone in the admin"),
        widget=TimeZoneSelect,
    )
    # Blank (the browser's language) or one of settings.LANGUAGES (lms.language): any other
    # value is refused here, and by the model field's validator.
    language = forms.ChoiceField(
        choices=language_choices,
        required=False,
        label=gettext_lazy("Language"),
        help_text=gettext_lazy(
            "The language of the admin's pages and of the e-mails to this person; empty: the "
            "browser's language in the admin, the site's default in e-mails."
        ),
    )

    class Meta:
        model = User
        fields = "__all__"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # A zone stored before the picker listed only canonical names (an alias such as
        # US/Eastern) is still shown selected and kept when the form is saved.
        self.fields["time_zone"].choices = _time_zone_choices(self.instance.time_zone)


@admin.register(User)
class UserAdmin(LearnerPage, LearnerDataActions, DateDrilldownMixin, DjangoUserAdmin):
    # LearnerPage: the learner's enrollments on their page (enrollments/admin/learner.py).
    form = EmailUserChangeForm
    add_form = EmailUserCreationForm
    ordering = ("email",)
    list_display = (
        "email",
        "first_name",
        "last_name",
        "enrollments",
        "is_staff",
        "is_active",
        zoned("date_joined", gettext_lazy("date joined"), cell=True),
    )
    list_filter = ("is_staff", "is_superuser", "is_active", "groups")
    search_fields = ("email", "first_name", "last_name")
    date_hierarchy = "date_joined"
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (
            gettext_lazy("Personal info"),
            {"fields": ("first_name", "last_name", "time_zone", "language")},
        ),
        (
            gettext_lazy("Permissions"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (gettext_lazy("Important dates"), {"fields": (LAST_LOGIN, JOINED)}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "first_name", "last_name", "password1", "password2"),
            },
        ),
    )
    readonly_fields = (LAST_LOGIN, JOINED)
    filter_horizontal = ()  # plain labelled selects: see GroupAdmin
    inlines = [RolesOfUserInline]

    def get_inlines(self, request: HttpRequest, obj: User | None = None):
        return self.inlines if obj is not None else []  # roles once the account exists

    def save_formset(self, request: HttpRequest, form, formset, change: bool) -> None:
        if formset.model is CourseRole:
            save_roles(request, formset)
        else:
            super().save_formset(request, form, formset, change)

    def get_readonly_fields(self, request: HttpRequest, obj: User | None = None) -> tuple:
        fields = tuple(super().get_readonly_fields(request, obj))
        if request.user.is_superuser:
            return fields
        return (*fields, *USER_PRIVILEGE_FIELDS)

    def has_change_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        """Also guards the password page (Django's `user_change_password` asks this)."""
        if obj is not None and can_do_more_than(obj, request.user):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        if obj is not None and can_do_more_than(obj, request.user):
            return False
        return super().has_delete_permission(request, obj)

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        """Each user with the count of their enrollments the viewer sees (`_seen_enrollments`)."""
        enrollments = _seen_enrollments(request).filter(user_id=OuterRef("pk"))
        return (
            super().get_queryset(request).annotate(enrollment_count=_count(enrollments, "user_id"))
        )

    @admin.display(description=gettext_lazy("enrollments"), ordering="enrollment_count")
    def enrollments(self, user: User) -> str:
        return _enrollments_link(user.enrollment_count, f"user__id__exact={user.pk}")


if admin.site.is_registered(Group):
    admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(DjangoGroupAdmin):
    """Django's group admin, where only a superuser sets a group's permissions (a member
    holding `auth.change_group` could otherwise give their own group every permission).

    Permissions are a plain labelled multiple select: Django's two-box filter widget puts an
    `aria-label` on a bare span, which axe reports (WCAG 4.1.2) on every page that uses it."""

    filter_horizontal = ()

    def get_readonly_fields(self, request: HttpRequest, obj: Group | None = None) -> tuple:
        fields = tuple(super().get_readonly_fields(request, obj))
        if request.user.is_superuser:
            return fields
        return (*fields, *GROUP_PRIVILEGE_FIELDS)


#: The highest position an item may hold (lms.models.CourseItem: its MaxValueValidator and
#: the lms_courseitem_position_int32 check; the API's position is a 32-bit Int).
MAX_POSITION = 2**31 - 1


def free_positions(taken: set[int], count: int) -> list[int]:
    """`count` positions from 0 to MAX_POSITION that are not in `taken`: below the lowest
    taken, then above the highest, then in the gaps between. Parking above the highest alone
    (the highest + 1) broke the int32 check when an item sat at MAX_POSITION.

    A course holds at most MAX_COURSE_ITEMS items, so at most `count` + len(taken) positions
    are looked at."""
    low, high = (min(taken), max(taken)) if taken else (0, -1)
    candidates = chain(
        range(low - 1, -1, -1), range(high + 1, MAX_POSITION + 1), range(low + 1, high)
    )
    return list(islice((p for p in candidates if p not in taken), count))


class CourseItemInline(LabelledTabularInline):
    model = CourseItem
    extra = 0
    ordering = ("position",)
    fields = ("position", "title", "kind", "description")

    def get_max_num(self, request: HttpRequest, obj=None, **kwargs) -> int:
        """The most items a course may hold: the API's cost model prices `course_items` at
        this many (GRAPHQL_LIMITS["MAX_COURSE_ITEMS"]; docs/api.md "Limits")."""
        return settings.GRAPHQL_LIMITS["MAX_COURSE_ITEMS"]

    def get_formset(self, request: HttpRequest, obj=None, **kwargs):
        return super().get_formset(request, obj, validate_max=True, **kwargs)  # refuse more


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin):
    list_display = (
        "title",
        "slug",
        "default_access",
        "pause_freezes_access",
        "items",
        "enrollments",
        zoned("created_at", gettext_lazy("created at"), cell=True),
    )
    list_filter = ("pause_freezes_access",)
    search_fields = ("title", "slug")
    prepopulated_fields = {"slug": ("title",)}
    readonly_fields = (CREATED, UPDATED, "role_changes")
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "title",
                    "slug",
                    "description",
                    "access_days",
                    "pause_freezes_access",
                    CREATED,
                    UPDATED,
                )
            },
        ),
        (
            gettext_lazy("Limits for course staff"),
            {
                "fields": STAFF_LIMIT_FIELDS,
                "description": gettext_lazy(
                    'What the course\'s staff (course role "staff") may do; managers and '
                    "global staff are not limited. A change beyond them is refused with its "
                    "reason, at every door."
                ),
            },
        ),
    )
    inlines = [CourseItemInline, RolesInCourseInline]

    def get_inlines(self, request: HttpRequest, obj=None):
        # Roles once the course exists (its page after "Save and continue editing").
        return self.inlines if obj is not None else [CourseItemInline]

    def get_fieldsets(self, request: HttpRequest, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        changes = self.admin_site.get_model_admin(CourseRoleChange)
        if obj is None or not changes.has_view_permission(request):
            return fieldsets
        return (*fieldsets, (_("Course roles"), {"fields": ("role_changes",)}))

    @admin.display(description=gettext_lazy("role changes"))
    def role_changes(self, course: Course) -> str:
        return format_html(
            '<a href="{}">{}</a>',
            role_changes_url(course__id__exact=course.pk),
            _("Every grant, change and revoke of a role in this course"),
        )

    # A role manager (MANAGE_COURSE_ROLES) without `lms.change_course` opens a course's page
    # to grant roles and set the staff limits; everything else on it stays read-only.

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        # Also the course search of a user's roles (RolesOfUserInline's autocomplete).
        return super().has_view_permission(request, obj) or MANAGE_COURSE_ROLES.held_by(
            request.user
        )

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return super().has_change_permission(request, obj) or MANAGE_COURSE_ROLES.held_by(
            request.user
        )

    def get_readonly_fields(self, request: HttpRequest, obj=None) -> tuple:
        fields = tuple(super().get_readonly_fields(request, obj))
        if self._edits_course(request, obj):
            return fields
        every = [name for _title, options in self.fieldsets for name in options["fields"]]
        return (*fields, *(name for name in every if name not in (*fields, *STAFF_LIMIT_FIELDS)))

    def get_prepopulated_fields(self, request: HttpRequest, obj=None) -> dict:
        if not self._edits_course(request, obj):
            return {}  # the slug is read-only
        return super().get_prepopulated_fields(request, obj)

    def _edits_course(self, request: HttpRequest, obj) -> bool:
        return super().has_change_permission(request, obj) if obj is not None else True

    def get_queryset(self, request: HttpRequest) -> QuerySet[Course]:
        items = CourseItem.objects.filter(course_id=OuterRef("pk"))
        enrollments = _seen_enrollments(request).filter(course_id=OuterRef("pk"))
        return (
            super()
            .get_queryset(request)
            .annotate(
                item_count=_count(items, "course_id"),
                enrollment_count=_count(enrollments, "course_id"),
            )
        )

    @admin.display(description=gettext_lazy("default access"), ordering="access_days")
    def default_access(self, course: Course) -> str:
        if course.access_days is None:
            return _("Indefinite")
        # Translators: a course's default access length. The English says "1 days" as before;
        # give the singular its own form.
        return ngettext("%(count)d days", "%(count)d days", course.access_days) % {
            "count": course.access_days
        }

    @admin.display(description=gettext_lazy("items"), ordering="item_count")
    def items(self, course: Course) -> int:
        return course.item_count

    @admin.display(description=gettext_lazy("enrollments"), ordering="enrollment_count")
    def enrollments(self, course: Course) -> str:
        return _enrollments_link(course.enrollment_count, f"course__id__exact={course.pk}")

    def save_formset(self, request: HttpRequest, form, formset, change: bool) -> None:
        """Saves the items so that a reorder (swapping positions 1 and 2) works in one save.

        The formset has already checked that the submitted positions are unique among
        themselves; the rows whose position changes are first parked on positions neither in
        use nor submitted (free_positions), so the unique (course, position) constraint never
        sees two rows on one position mid-save. The admin's change view runs all of this in
        one transaction.
        """
        if formset.model is CourseRole:
            save_roles(request, formset)
            return
        if formset.model is not CourseItem:
            super().save_formset(request, form, formset, change)
            return
        items = formset.save(commit=False)
        for deleted in formset.deleted_objects:
            deleted.delete()
        moved = [item for item, changed in formset.changed_objects if "position" in changed]
        if moved:
            in_use = CourseItem.objects.filter(course=form.instance).values_list("position")
            taken = {position for (position,) in in_use} | {item.position for item in items}
            for item, park in zip(moved, free_positions(taken, len(moved)), strict=True):
                CourseItem.objects.filter(pk=item.pk).update(position=park)
        existing_first = sorted(items, key=lambda item: item._state.adding)
        for item in existing_first:
            item.save()
        formset.save_m2m()
