"""The "Extend access…" page: a form page (operation_form_page) for the core's Extend, for a
changelist selection (any size) and for the change page's single enrollment. The form
(forms.ExtendAccessForm) offers days (optionally from today), a new end or indefinite access."""

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern

from enrollments.admin.forms import ExtendAccessForm
from enrollments.admin.operation_form_page import OperationFormPage
from enrollments.operations import Extend

EXTEND_ACCESS = OperationFormPage(
    "extend_access", "Extend access", ExtendAccessForm, Extend, verb="Extended access for"
)


class ExtendAccessMixin:
    """The "Extend access…" action, its URLs and its views, for the enrollment admin."""

    def has_extend_access_permission(self, request: HttpRequest, obj=None) -> bool:
        return EXTEND_ACCESS.permission.held_by(request.user)

    def get_extend_access_urls(self) -> list[URLPattern]:
        return EXTEND_ACCESS.urls(self)

    @admin.action(description="Extend access…", permissions=[Extend.permission.codename])
    def extend_access(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse:
        """The changelist action: shows the form for the selection; nothing changes yet."""
        return EXTEND_ACCESS.show_form(self, request, queryset)

    def extend_access_view(self, request: HttpRequest) -> HttpResponse:
        """Preview and confirmation for a changelist selection (POST only)."""
        return EXTEND_ACCESS.selection_step(self, request)

    def extend_access_one_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The change page's "Extend access" button: the same form for one enrollment."""
        return EXTEND_ACCESS.one_step(self, request, object_id)
