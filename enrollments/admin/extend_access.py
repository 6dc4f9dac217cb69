"""The "Extend access…" page: a form page (operation_form_page) for the core's Extend, for a
changelist selection (any size) and for the change page's single enrollment. The form
(forms.ExtendAccessForm) offers days (optionally from today), a new end or indefinite access."""

from enrollments.admin.forms import ExtendAccessForm
from enrollments.admin.operation_form_page import OperationFormPage
from enrollments.operations import Extend

EXTEND_ACCESS = OperationFormPage(
    "extend_access",
    title="Extend access",
    action="Extend access…",
    template="admin/enrollments/enrollment/extend_access.html",
    form_class=ExtendAccessForm,
    operation=Extend,
    verb="Extended access for",
)


class ExtendAccessMixin:
    """Adds the action, its URLs and its views to the enrollment ModelAdmin."""

    has_extend_access_permission = EXTEND_ACCESS.has_permission
    get_extend_access_urls = EXTEND_ACCESS.get_urls
    extend_access = EXTEND_ACCESS.action
    extend_access_view = EXTEND_ACCESS.view
    extend_access_one_view = EXTEND_ACCESS.one_view
