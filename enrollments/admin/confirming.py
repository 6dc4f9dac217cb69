"""One confirmation page for the simple operations (Pause, Resume, Remove from course, and any
operation whose request is "do it", or a few fields, plus a reason).

The flow, Django's intermediate-page pattern (as its `delete_selected` action):

1. The changelist action, or an enrollment page's button (a GET), shows the page: what the
   operation core would do to the target (`operations.preview`: the rows it changes, the rows
   it skips with the reason, e.g. ALREADY_PAUSED, NOT_PAUSED, ENROLLMENT_REMOVED, and the rows
   already as asked), a reason field, Confirm and Cancel. Nothing is written, whatever the
   method: only a POST with `confirm=yes` applies.
2. Confirm posts the reason and the previewed plan's fingerprint; `operations.apply(expected=)`
   applies exactly that plan. When the plan under the row locks differs (the rows changed
   meanwhile, or the same preview was confirmed twice), nothing is written and the new preview
   is shown with a notice. A bad reason (over 1000 characters, a NUL) is refused by the core
   (`operations.audit.clean_reason`, the API's and the commands' rule): nothing is written and
   the page is shown again with the error at the field.
3. Done: counts and the skipped rows by name in messages (`reporting.report_plan`; for one
   enrollment `report_one`), then back to the changelist (its filters kept) or the enrollment's
   page.

The page is built from the building blocks of docs/admin.md: `admin/base_site.html`, the
enrollment breadcrumbs, `form_errors.html` and `staff_field.html` for the reason (its error and
help tied to the field), `data-focus-on-load` on the step's result (the preview's heading, the
error summary or the "changed since the preview" notice), and the preview tables of
`includes/preview_table.html` in `.table-scroll` regions (a 320 px page never widens).

Interface
---------
::

    confirm_operation(model_admin, request, target, operation, *, title, verb, will,
                      intro="", form_class=ConfirmForm) -> HttpResponse | None

- `target`: what the operation works on, and where the page posts and leads:
  - a QuerySet: a changelist action's selection (ticked rows or "select all": a selection by
    filter). The page posts back to the changelist with the action's fields (`action`,
    `select_across`, `_selected_action`), so Django runs the action again on the same
    selection. Returns None once applied: the admin then redirects to the changelist.
  - an Enrollment: its page's button (a named selection). The page posts to its own URL;
    done, it redirects to the enrollment's page. If the enrollment is gone by the time the
    core locks it, "Enrollment not found." and the changelist.
  - a `Target`, for anything else (e.g. the enrollments of a batch to undo: the core
    selection, the hidden fields and the URL the page posts to, Cancel's and Done's URLs and
    the words naming the target).
- `operation`: the core Operation, or a callable building it from the valid form, for a page
  with parameters (an end date): `form_class`, a ConfirmForm subclass, adds the fields
  (rendered before the reason; `rule_error_field()` names the field a request-level domain
  error such as INVALID_ACCESS_END is shown at). Until they are valid the page shows the form
  with "Preview" and no preview; "Update preview" previews again.
- `title`: the page's heading and last breadcrumb ("Pause access"); `verb`: the result
  ("Paused" gives "Paused 3 enrollments." / "Paused this enrollment."); `will`: what happens to
  the changed rows ("will be paused": the count line and the table's heading); `intro`: what
  confirming does, in a sentence or two.

The calling view checks the action's permission (Django's action list does it for an action,
`views.check_permission` for a URL); confirm_operation asks `operation.permission` again before
it previews or applies anything (a crafted request without it gets 403).
"""

from collections.abc import Callable
from dataclasses import dataclass

from django import forms
from django.contrib.admin import ModelAdmin, helpers
from django.core.exceptions import PermissionDenied
from django.core.validators import ProhibitNullCharactersValidator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse

from enrollments.admin import views
from enrollments.admin.display import enrollment_label
from enrollments.admin.preview import PREVIEW_ROWS, build_preview
from enrollments.admin.reporting import error_text, report_one, report_plan
from enrollments.admin.time_zone import staff_time_zone
from enrollments.errors import ChangedSincePreview, DomainError, InvalidReason, MembershipNotFound
from enrollments.models import AccessChange, Enrollment
from enrollments.operations import Operation, Plan, Selection, apply, preview
from enrollments.operations.audit import MAX_REASON_LENGTH, Attribution

TEMPLATE = "admin/enrollments/enrollment/confirm_operation.html"
#: The Confirm button's name (value "yes"); without it nothing is applied.
CONFIRM = "confirm"
#: "Preview" / "Update preview" on a page with parameters.
PREVIEW = "_preview"
#: The previewed plan's fingerprint, posted with Confirm.
FINGERPRINT = "fingerprint"
SELECT_ACROSS = "select_across"


class ReasonField(forms.CharField):
    """The reason as typed. Its rule (length, valid text) is the core's
    (`audit.clean_reason`), so the field adds no validator: Django's own NUL check would word
    the refusal differently from the API and the commands."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.validators = [
            v for v in self.validators if not isinstance(v, ProhibitNullCharactersValidator)
        ]


class ConfirmForm(forms.Form):
    """The reason; subclasses add an operation's parameters (see the module)."""

    reason = ReasonField(
        label="Reason",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60, "maxlength": MAX_REASON_LENGTH}),
        help_text="Optional; kept in the audit record of every changed enrollment.",
    )

    def parameter_fields(self) -> list[forms.BoundField]:
        """The operation's own fields (all but the reason), rendered before it."""
        return [self[name] for name in self.fields if name != "reason"]

    def rule_error_field(self) -> str | None:
        """The field a request-level domain error is shown at; None: above the form."""
        return None


@dataclass(frozen=True, slots=True)
class Target:
    """What a confirmation page works on, and where it posts and leads (see the module)."""

    selection: Selection
    #: (name, value) pairs the page's form carries back.
    hidden_fields: tuple[tuple[str, str], ...] = ()
    #: Where the form posts; "" posts to the page's own URL.
    form_url: str = ""
    cancel_url: str = ""
    #: Where to go once applied; "" returns None (a changelist action: the admin redirects).
    done_url: str = ""
    #: The one enrollment of its page's button (reported as "this enrollment").
    enrollment: Enrollment | None = None
    #: A changelist's "Select all N enrollments".
    across: bool = False
    #: Names a target that is neither a changelist selection nor one enrollment.
    description: str = ""

    @classmethod
    def changelist(cls, request: HttpRequest, queryset: QuerySet[Enrollment]) -> "Target":
        post = request.POST
        across = post.get(SELECT_ACROSS) == "1"
        fields = [("action", _chosen_action(request)), (SELECT_ACROSS, "1" if across else "0")]
        ticked = post.getlist(helpers.ACTION_CHECKBOX_NAME)
        fields += [(helpers.ACTION_CHECKBOX_NAME, pk) for pk in ticked]
        return cls(
            selection=Selection.by_filter(queryset),
            hidden_fields=tuple(fields),
            cancel_url=request.get_full_path(),
            across=across,
        )

    @classmethod
    def one(cls, request: HttpRequest, enrollment: Enrollment) -> "Target":
        return cls(
            selection=Selection.named([enrollment.pk]),
            form_url=request.path,
            cancel_url=views.change_url(enrollment),
            done_url=views.change_url(enrollment),
            enrollment=enrollment,
        )


@dataclass(frozen=True, slots=True)
class ConfirmationPage:
    """An operation's confirmation page in one declaration, called as
    `page(model_admin, request, target)` (the arguments of `confirm_operation`)."""

    operation: Operation
    title: str
    verb: str
    will: str
    intro: str = ""

    def __call__(
        self,
        model_admin: ModelAdmin,
        request: HttpRequest,
        target: "QuerySet[Enrollment] | Enrollment | Target",
    ) -> HttpResponse | None:
        return confirm_operation(
            model_admin,
            request,
            target,
            self.operation,
            title=self.title,
            verb=self.verb,
            will=self.will,
            intro=self.intro,
        )


def confirm_operation(
    model_admin: ModelAdmin,
    request: HttpRequest,
    target: "QuerySet[Enrollment] | Enrollment | Target",
    operation: Operation | Callable[[ConfirmForm], Operation],
    *,
    title: str,
    verb: str,
    will: str,
    intro: str = "",
    form_class: type[ConfirmForm] = ConfirmForm,
) -> HttpResponse | None:
    """The confirmation page of `operation` on `target`, or its result (see the module)."""
    target = _as_target(request, target)
    post = request.POST if request.method == "POST" else None
    confirming = post is not None and post.get(CONFIRM) == "yes"
    form = form_class(post if post is not None and (confirming or PREVIEW in post) else None)
    has_parameters = bool(form.parameter_fields())
    if isinstance(operation, Operation):
        _check_permission(model_admin, request, operation)
    plan: Plan | None = None
    notice = ""
    try:
        built = _build(operation, form)
        if built is not None:
            _check_permission(model_admin, request, built)
            if confirming and form.is_valid():
                done, plan, notice = _confirm(request, target, built, form)
                if done is not None:
                    return _finish(model_admin, request, target, done, verb)
            if plan is None:
                plan = preview(built, target.selection)
    except DomainError as error:  # a request invalid for every row (operation.validate)
        if form.is_bound:
            form.add_error(form.rule_error_field(), error_text(error))
        else:
            notice = error_text(error)
        plan = None
    if plan is not None and target.enrollment is not None and _gone(plan):
        return views.not_found(model_admin, request)  # gone since the lookup
    zone = staff_time_zone(request)
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": title,
        "intro": intro,
        "will": will,
        "form": form,
        "has_parameters": has_parameters,
        "media": model_admin.media + form.media,
        "target": target,
        "enrollment": target.enrollment,
        "enrollment_label": (
            enrollment_label(target.enrollment.user.email, target.enrollment.course.title)
            if target.enrollment is not None
            else ""
        ),
        "plan": plan,
        "preview": build_preview(plan, zone) if plan is not None else None,
        "preview_rows_limit": PREVIEW_ROWS,
        "fingerprint": plan.fingerprint() if plan is not None else "",
        "zone": zone,
        "notice": notice,
        # What went wrong, in words (the notice, else the first form error).
        "error": notice or _first_error(form),
        "selected_ids": [v for n, v in target.hidden_fields if n == helpers.ACTION_CHECKBOX_NAME],
        "select_across": "1" if target.across else "0",
    }
    request.current_app = model_admin.admin_site.name
    return TemplateResponse(request, TEMPLATE, context)


def _as_target(request: HttpRequest, target) -> Target:
    if isinstance(target, Target):
        return target
    if isinstance(target, Enrollment):
        return Target.one(request, target)
    return Target.changelist(request, target)


def _chosen_action(request: HttpRequest) -> str:
    """The action Django ran (the one of the pressed "Go", as `response_action` picks it)."""
    names = request.POST.getlist("action")
    try:
        return names[int(request.POST.get("index", 0))]
    except (ValueError, IndexError):
        return names[0] if names else ""


def _confirm(
    request: HttpRequest, target: Target, operation: Operation, form: ConfirmForm
) -> tuple[Plan | None, Plan | None, str]:
    """Confirm: (the applied plan, None, ""), or (None, the plan to show, a notice) when
    nothing was applied: a bad reason (put on its field; the page previews again) or a plan
    that changed since the preview (the new plan, shown with the notice)."""
    try:
        by = Attribution(request.user, AccessChange.Source.ADMIN, form.cleaned_data["reason"])
    except InvalidReason as refused:
        form.add_error("reason", error_text(refused))
        return None, None, ""
    try:
        expected = request.POST.get(FINGERPRINT, "")
        return apply(operation, target.selection, by, expected=expected), None, ""
    except ChangedSincePreview as changed:
        return None, changed.plan, f"{changed.message}: check the new preview and confirm again."


def _build(operation, form: ConfirmForm) -> Operation | None:
    if isinstance(operation, Operation):
        return operation
    if not form.is_bound or not form.is_valid():
        return None
    return operation(form)


def _check_permission(model_admin: ModelAdmin, request: HttpRequest, operation: Operation) -> None:
    if not (
        operation.permission.held_by(request.user)
        and model_admin.has_view_or_change_permission(request)
    ):
        raise PermissionDenied


def _gone(plan: Plan) -> bool:
    return any(isinstance(skip.error, MembershipNotFound) for skip in plan.skips)


def _finish(
    model_admin: ModelAdmin, request: HttpRequest, target: Target, done: Plan, verb: str
) -> HttpResponse | None:
    if target.enrollment is not None:
        if _gone(done):
            return views.not_found(model_admin, request)
        report_one(request, done, verb=verb)
    else:
        report_plan(request, done, verb=verb)
    return HttpResponseRedirect(target.done_url) if target.done_url else None


def _first_error(form: ConfirmForm) -> str:
    if not form.is_bound:
        return ""
    for errors in form.errors.values():
        for error in errors:
            return str(error)
    return ""
