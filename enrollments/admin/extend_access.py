"""The "Extend access…" page: a form page (operation_form_page) for the core's Extend, for a
changelist selection (any size) and for the change page's single enrollment. The form
(forms.ExtendAccessForm) offers days (optionally from today), a new end or indefinite access."""

from enrollments.admin.forms import ExtendAccessForm
from enrollments.admin.operation_form_page import OperationFormPage
from enrollments.operations import Extend

EXTEND_ACCESS = OperationFormPage(
    "extend_access", "Extend access", ExtendAccessForm, Extend, verb="Extended access for"
)
#: has_extend_access_permission, get_extend_access_urls, the action extend_access, and the
#: views extend_access_view and extend_access_one_view.
ExtendAccessMixin = EXTEND_ACCESS.admin_mixin("ExtendAccessMixin")
