"""A form page of the enrollment admin: a form, a preview, then Confirm, for a changelist
selection (any size) and for the change page's one enrollment. "Extend access…"
(extend_access.py) and "End access / set end…" (expiring.py) are two of them; each says only
what differs: its name, title, form, template, operation and the verb of its result.

Steps: the action (or the change page's button) shows the form; "Preview" shows what the
operation core would do (operations.preview); "Confirm" applies it (operations.apply,
source=admin, actor=the staff member) with the previewed plan's fingerprint as `expected`, then
redirects with counts and the skipped rows by name. When the plan under the row locks is not
the one previewed (rows swapped with the count unchanged, an end date moved meanwhile, the same
preview confirmed twice), the core applies nothing and the page shows the new preview instead.
A request the operation refuses for every row (a domain error) is shown at the form's
`rule_error_field()` (a bad reason at the reason).

A changelist selection (ticked rows or "select all") is a selection by filter and travels as a
few hidden fields (selection.py); the change page names its one enrollment (operations.selection
says what differs).

Unlike the confirmation page of `confirming.py` (an operation whose request is "do it" plus a
reason), the form comes first and carries the selection itself, so that the form and the
preview can be posted again and again to the page's own URL before anything is confirmed.

Each page's ModelAdmin mixin (ExtendAccessMixin, ExpireAccessMixin) names its methods after the
page and delegates each in one line: `has_<name>_permission` (the action's permission check,
which Django's action list calls too), `get_<name>_urls` (`urls`), the action `<name>`
(`show_form`), and the URLs' views `<name>_view` (`selection_step`: a changelist selection,
POST only) and `<name>_one_view` (`one_step`: one enrollment).
"""

from django.contrib import messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, reverse

from enrollments.admin import views
from enrollments.admin.display import enrollment_label, format_instant
from enrollments.admin.forms import OperationForm
from enrollments.admin.preview import PREVIEW_ROWS, Preview, build_preview
from enrollments.admin.reporting import error_text, report_plan
from enrollments.admin.selection import CHANGELIST_FILTERS, InvalidSelection, Selection
from enrollments.admin.time_zone import has_chosen_time_zone, remember_time_zone, staff_time_zone
from enrollments.errors import ChangedSincePreview, DomainError, InvalidReason
from enrollments.models import AccessChange, Enrollment
from enrollments.operations import Operation, apply, preview
from enrollments.operations import Selection as CoreSelection
from enrollments.operations.audit import Attribution


class OperationFormPage:
    """One form page (see the module). `name`: the action's name, the URLs'
    (`admin:enrollments_enrollment_<name>` and `..._<name>_one`, routes `<name with dashes>/`
    and `<id>/<name with dashes>/`), the template's (`admin/enrollments/enrollment/<name>.html`,
    extending `operation_form_page.html`) and the page's CSS class; `title`: the heading, the
    last breadcrumb and, with "…", the action's label; `verb`: the result ("Extended access
    for" gives "Extended access for 3 enrollments.")."""

    def __init__(
        self,
        name: str,
        title: str,
        form_class: type[OperationForm],
        operation: type[Operation],
        *,
        verb: str,
    ) -> None:
        self.name, self.title, self.form_class, self.verb = name, title, form_class, verb
        self.permission = operation.permission
        self.template = f"admin/enrollments/enrollment/{name}.html"
        self.css_class = name.replace("_", "-")

    def urls(self, model_admin) -> list[URLPattern]:
        """The page's two URLs: a changelist selection (POST only) and one enrollment, served
        by the ModelAdmin's `<name>_view` and `<name>_one_view`."""
        name, route = self.name, self.css_class
        return [
            views.admin_path(
                model_admin,
                f"{route}/",
                getattr(model_admin, f"{name}_view"),
                name,
                post_only=True,
            ),
            views.admin_path(
                model_admin,
                f"<path:object_id>/{route}/",
                getattr(model_admin, f"{name}_one_view"),
                f"{name}_one",
            ),
        ]

    def show_form(self, model_admin, request: HttpRequest, queryset: QuerySet) -> HttpResponse:
        try:
            selection = Selection.from_action(request)
        except InvalidSelection as error:
            model_admin.message_user(request, f"Invalid selection: {error}", messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())
        form = self.form_class(initial=_initial(request))
        return self.render(model_admin, request, selection, form, queryset.count())

    def selection_step(self, model_admin, request: HttpRequest) -> HttpResponse:
        self._check_permission(model_admin, request)
        try:
            selection = Selection.from_post(request.POST)
        except InvalidSelection as error:
            model_admin.message_user(request, f"Invalid selection: {error}", messages.ERROR)
            return HttpResponseRedirect(
                views.changelist_url(request.POST.get(CHANGELIST_FILTERS, ""))
            )
        return self.step(model_admin, request, selection)

    def one_step(self, model_admin, request: HttpRequest, object_id: str) -> HttpResponse:
        self._check_permission(model_admin, request)
        enrollment = views.find_enrollment(model_admin, request, object_id)
        if enrollment is None:
            return views.not_found(model_admin, request)
        selection = Selection(ids=(enrollment.pk,))
        if request.method != "POST":
            form = self.form_class(initial=_initial(request))
            return self.render(model_admin, request, selection, form, 1, enrollment=enrollment)
        return self.step(model_admin, request, selection, enrollment=enrollment)

    def step(
        self,
        model_admin,
        request: HttpRequest,
        selection: Selection,
        enrollment: Enrollment | None = None,
    ) -> HttpResponse:
        """A posted form: the form again (invalid), the preview, or the result of Confirm."""
        try:
            queryset, selected = selection.resolve(model_admin, request)
        except InvalidSelection as error:
            model_admin.message_user(request, f"Invalid selection: {error}", messages.ERROR)
            return HttpResponseRedirect(views.changelist_url(selection.filters))
        form = self.form_class(request.POST, initial=_initial(request))

        def page(**extra) -> TemplateResponse:
            return self.render(
                model_admin, request, selection, form, selected, enrollment=enrollment, **extra
            )

        if not form.is_valid():
            return page()
        params = form.params()
        remember_time_zone(request, params.time_zone)
        operation = params.operation()
        # The change page names its enrollment; a changelist selection is a filter.
        core_selection = (
            CoreSelection.named([enrollment.pk])
            if enrollment is not None
            else CoreSelection.by_filter(queryset)
        )
        try:
            if "_confirm" not in request.POST:
                plan = preview(operation, core_selection)
            else:
                by = Attribution(request.user, AccessChange.Source.ADMIN, params.reason)
                expected = request.POST.get("preview_token", "")
                done = apply(operation, core_selection, by, expected=expected)
                report_plan(request, done, verb=self.verb)
                if enrollment is not None:
                    return HttpResponseRedirect(views.change_url(enrollment))
                return HttpResponseRedirect(views.changelist_url(selection.filters))
        except ChangedSincePreview as error:
            messages.warning(request, f"{error.message}: check the new preview and confirm again.")
            plan = error.plan
        except DomainError as error:  # a request invalid for every row, or a bad reason
            field = "reason" if isinstance(error, InvalidReason) else form.rule_error_field()
            form.add_error(field, error_text(error))
            return page()
        return page(preview=build_preview(plan, params.time_zone), token=plan.fingerprint())

    def render(
        self,
        model_admin,
        request: HttpRequest,
        selection: Selection,
        form: OperationForm,
        selected: int,
        *,
        preview: Preview | None = None,
        token: str = "",
        enrollment: Enrollment | None = None,
    ) -> TemplateResponse:
        if enrollment is not None:
            form_url = reverse(self._url_name("_one"), args=[enrollment.pk])
            cancel_url = views.change_url(enrollment)
        else:
            form_url = reverse(self._url_name())
            cancel_url = views.changelist_url(selection.filters)
        context = {
            **model_admin.admin_site.each_context(request),
            "opts": model_admin.opts,
            "title": self.title,
            "page_class": self.css_class,
            "enrollment_label": (
                enrollment_label(enrollment.user.email, enrollment.course.title)
                if enrollment
                else ""
            ),
            "form": form,
            "media": model_admin.media + form.media,
            "selection": selection,
            "selection_fields": [] if enrollment is not None else selection.hidden_fields(),
            "selected": selected,
            "enrollment": enrollment,
            "enrollment_end": format_instant(enrollment.ended_at, form.zone) if enrollment else "",
            "preview": preview,
            "preview_rows_limit": PREVIEW_ROWS,
            "token": token,
            "zone": form.zone,
            "zone_from_browser": not has_chosen_time_zone(request) and not form.is_bound,
            "form_url": form_url,
            "cancel_url": cancel_url,
        }
        request.current_app = model_admin.admin_site.name
        return TemplateResponse(request, self.template, context)

    def _check_permission(self, model_admin, request: HttpRequest) -> None:
        has_permission = getattr(model_admin, f"has_{self.name}_permission")
        views.check_permission(model_admin, request, has_permission)

    def _url_name(self, suffix: str = "") -> str:
        return f"admin:enrollments_enrollment_{self.name}{suffix}"


def _initial(request: HttpRequest) -> dict:
    return {"time_zone": staff_time_zone(request).key}
