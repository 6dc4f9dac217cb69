"""Admin for users and courses (with their items inline, ordered by position).

Both define `search_fields`: the enrollment admin's autocomplete widgets for user and course
search through them.
"""

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm
from django.db.models import Count, IntegerField, Max, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from enrollments.admin.date_drilldown import DateDrilldownMixin
from enrollments.admin.time_zone import time_zone_choices
from enrollments.models import Enrollment
from lms.models import Course, CourseItem, User


def _count(queryset: QuerySet, field: str) -> Coalesce:
    """A correlated COUNT subquery: one query per page, whatever the number of rows."""
    counted = queryset.order_by().values(field).annotate(n=Count("*")).values("n")[:1]
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def _enrollments_link(count: int, query: str) -> str:
    url = reverse("admin:enrollments_enrollment_changelist")
    return format_html('<a href="{}?{}">{}</a>', url, query, count)


class EmailUserCreationForm(UserCreationForm):
    class Meta:
        model = User
        fields = ("email", "first_name", "last_name")


def _time_zone_choices() -> list[tuple[str, str]]:
    return [("", "Not chosen yet (dates in UTC)"), *time_zone_choices()]


class EmailUserChangeForm(UserChangeForm):
    # A known IANA zone or none: the admin shows this staff member's dates in it.
    time_zone = forms.ChoiceField(
        choices=_time_zone_choices, required=False, label="Time zone in the admin"
    )

    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(DateDrilldownMixin, DjangoUserAdmin):
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
        "date_joined",
    )
    list_filter = ("is_staff", "is_superuser", "is_active", "groups")
    search_fields = ("email", "first_name", "last_name")
    date_hierarchy = "date_joined"
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Personal info", {"fields": ("first_name", "last_name", "time_zone")}),
        (
            "Permissions",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
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
    readonly_fields = ("last_login", "date_joined")

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        enrollments = Enrollment.objects.filter(user_id=OuterRef("pk"))
        return (
            super().get_queryset(request).annotate(enrollment_count=_count(enrollments, "user_id"))
        )

    @admin.display(description="enrollments", ordering="enrollment_count")
    def enrollments(self, user: User) -> str:
        return _enrollments_link(user.enrollment_count, f"user__id__exact={user.pk}")


class CourseItemInline(admin.TabularInline):
    model = CourseItem
    extra = 0
    ordering = ("position",)
    fields = ("position", "title", "kind", "description")


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin):
    list_display = (
        "title",
        "slug",
        "default_access",
        "pause_freezes_access",
        "items",
        "enrollments",
        "created_at",
    )
    list_filter = ("pause_freezes_access",)
    search_fields = ("title", "slug")
    prepopulated_fields = {"slug": ("title",)}
    readonly_fields = ("created_at", "updated_at")
    fields = (
        "title",
        "slug",
        "description",
        "access_days",
        "pause_freezes_access",
        "created_at",
        "updated_at",
    )
    inlines = [CourseItemInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Course]:
        items = CourseItem.objects.filter(course_id=OuterRef("pk"))
        enrollments = Enrollment.objects.filter(course_id=OuterRef("pk"))
        return (
            super()
            .get_queryset(request)
            .annotate(
                item_count=_count(items, "course_id"),
                enrollment_count=_count(enrollments, "course_id"),
            )
        )

    @admin.display(description="default access", ordering="access_days")
    def default_access(self, course: Course) -> str:
        return "Indefinite" if course.access_days is None else f"{course.access_days} days"

    @admin.display(description="items", ordering="item_count")
    def items(self, course: Course) -> int:
        return course.item_count

    @admin.display(description="enrollments", ordering="enrollment_count")
    def enrollments(self, course: Course) -> str:
        return _enrollments_link(course.enrollment_count, f"course__id__exact={course.pk}")

    def save_formset(self, request: HttpRequest, form, formset, change: bool) -> None:
        """Saves the items so that a reorder (swapping positions 1 and 2) works in one save.

        The formset has already checked that the submitted positions are unique among
        themselves; the rows whose position changes are first parked above every position in
        use, so the unique (course, position) constraint never sees two rows on one position
        mid-save. The admin's change view runs all of this in one transaction.
        """
        if formset.model is not CourseItem:
            super().save_formset(request, form, formset, change)
            return
        items = formset.save(commit=False)
        for deleted in formset.deleted_objects:
            deleted.delete()
        moved = [item for item, changed in formset.changed_objects if "position" in changed]
        if moved:
            in_use = CourseItem.objects.filter(course=form.instance).aggregate(top=Max("position"))
            submitted = max(item.position for item in items)
            park = max(in_use["top"] or 0, submitted) + 1
            for offset, item in enumerate(moved):
                CourseItem.objects.filter(pk=item.pk).update(position=park + offset)
        existing_first = sorted(items, key=lambda item: item._state.adding)
        for item in existing_first:
            item.save()
        formset.save_m2m()
