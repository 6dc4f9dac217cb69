"""What the admin's own views (the preview/confirm pages of confirming.py) share: how their
URLs are named and wrapped, and how they find the enrollment of a URL."""

from collections.abc import Callable

from django.contrib import messages
from django.contrib.admin import ModelAdmin
from django.contrib.admin.utils import unquote
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_POST

from enrollments.models import Enrollment

NOT_FOUND = gettext_noop("Enrollment not found.")


def admin_path(
    model_admin: ModelAdmin, route: str, view: Callable, name: str, *, post_only: bool = False
) -> URLPattern:
    """`route` under the model's admin URLs, behind the admin's login and CSRF checks, named
    `<app>_<model>_<name>` (e.g. `admin:enrollments_enrollment_pause`)."""
    opts = model_admin.opts
    wrapped = model_admin.admin_site.admin_view(require_POST(view) if post_only else view)
    return path(route, wrapped, name=f"{opts.app_label}_{opts.model_name}_{name}")


def changelist_url(filters: str = "") -> str:
    url = reverse("admin:enrollments_enrollment_changelist")
    return f"{url}?{filters}" if filters else url


def change_url(enrollment: Enrollment) -> str:
    return reverse("admin:enrollments_enrollment_change", args=[enrollment.pk])


def find_enrollment(model_admin: ModelAdmin, request: HttpRequest, object_id: str):
    """The enrollment of the URL as the admin's queryset shows it to this staff member, or
    None (unknown, malformed or not visible), the way the change page looks it up."""
    enrollment = model_admin.get_object(request, unquote(object_id))
    if enrollment is None or not model_admin.has_view_or_change_permission(request, enrollment):
        return None
    return enrollment


def not_found(model_admin: ModelAdmin, request: HttpRequest) -> HttpResponseRedirect:
    model_admin.message_user(request, _(NOT_FOUND), messages.WARNING)
    return HttpResponseRedirect(changelist_url())
