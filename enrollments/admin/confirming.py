"""The one preview/confirm view of the admin: every page that changes access is an
`OperationPage` ("Extend access…", "End access / set end…", "Pause…", "Resume…", "Remove from
course…" in pages.py; "Enroll learners…" in enrolling.py; "Undo this batch" in undoing.py).

The flow, Django's intermediate-page pattern (as its `delete_selected` action):

1. A changelist action (`page.action`: the ticked rows or "select all"), an enrollment page's
   button (a GET of `<id>/<route>/`) or the page's own link shows the page: its form (the
   operation's parameters, if any, then a reason) and, once the parameters are valid (at once
   when there are none), the preview: what the operation core would do (`operations.preview`:
   the rows it changes, the rows it skips with the reason, the rows already as asked). Nothing
   is written, whatever the method: "Preview" / "Update preview" only preview.
2. Confirm posts the form and the previewed plan's fingerprint; the core applies exactly that
   plan (`operations.apply(expected=)`). When the plan under the row locks differs (the rows
   changed meanwhile, or the same preview was confirmed twice), nothing is written and the new
   preview is shown with a notice that takes the focus: "You changed the request after the
   preview" when the posted parameters or reason differ from the previewed ones (the hidden
   `previewed` digest, `OperationPage._refusal`), else the core's "The enrollments changed".
   A domain error of the whole request (INVALID_ACCESS_END, ...) is shown at the form's
   `rule_error_field()`; a bad reason at the reason, in the core's words (forms.ReasonField).
3. Done: counts and the skipped rows by name in messages (`reporting.report_plan`; for one
   enrollment `report_one`), the changes in the admin home's "Recent actions"
   (recent_actions.py; nothing when nothing changed), then back where the page came from
   (the changelist with its filters, the enrollment's page, the batch's rows).

A changelist selection travels between the steps as a few hidden fields (selection.py), never
one field per row of a "select all"; the page's form posts to its own URL. Permissions: the
operation's, plus a view of enrollments, asked again on every request (a crafted request
without them gets 403).

Scope (issue 25): the operation's permission may be held globally or through course roles
(`scoping.may`); the page's selection then carries the actor's scope for that permission
(`scope_of(user, operation.permission)`), so the core reads, previews and changes only the rows
of the courses where the actor may apply it: a "Select all" whose filter matches other courses'
rows leaves them untouched, and one enrollment of another course is not found. The preview is
planned with the reason typed (a course may require one of its staff, and limit how far they
extend: the core's ReasonRequired and ExtensionOverCourseLimit skips, shown like any other
skip); for such a staff member the page offers "Update preview" to plan again with the reason,
and where a course of the rows requires one the reason's help says so (`reason_required`).

Hooks (override in a subclass, or give the constructor's arguments):

- `form_class`: an `OperationForm` (forms.py): the reason, and the parameters with
  `operation()` building the core's operation from them.
- `build(form)`: the operation of this request (the page's fixed operation, else the form's);
  None while the parameters are not valid.
- `form(request, data, files, initial)`: the page's form for this request (e.g. only the
  courses the actor may enroll in).
- `preview(operation, scope, reason)` / `apply(operation, scope, by, expected)`: the core's by
  default.
- `rows(plan, form)`: what the preview shows (`preview.build_preview` by default).
- `report(request, scope, done, form)` and `done_url(scope, done)`: the result and where to go.

Background runs (enrollments/admin/background.py): a "Select all" of more rows than
`RUNS["BACKGROUND_ABOVE"]`, of an operation a run can hold, is written down as a draft run
before its preview is computed; Confirm (the draft's id in the `run` field) queues it and
answers at once with its job page (jobs.py). Below the threshold nothing differs.

The page's template is `confirm_operation.html` or one extending it (blocks `intro`,
`summary`, `fields`, `preview`); see docs/admin.md, "Building blocks".
"""

import hashlib
from dataclasses import dataclass, replace

from django.contrib import messages
from django.contrib.admin import ModelAdmin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext_lazy

from enrollments.admin import background, recent_actions, views
from enrollments.admin.display import enrollment_label, format_instant
from enrollments.admin.forms import OperationForm
from enrollments.admin.preview import PREVIEW_ROWS, build_preview, build_summary_preview
from enrollments.admin.reporting import error_text, report_one, report_plan, translated
from enrollments.admin.scoping import may, page_scope
from enrollments.admin.selection import CHANGELIST_FILTERS, ChangelistChoice, InvalidChoice
from enrollments.admin.time_zone import staff_time_zone
from enrollments.errors import ChangedSincePreview, DomainError, MembershipNotFound
from enrollments.models import AccessChange, Enrollment
from enrollments.operations import Operation, Selection, apply, preview
from enrollments.operations.audit import Attribution
from enrollments.operations.limits import requiring_a_reason
from enrollments.operations.outcomes import summarize
from enrollments.operations.scope import EVERYWHERE, scope_of
from enrollments.operations.scope import Scope as ActorScope

TEMPLATE = "admin/enrollments/enrollment/confirm_operation.html"
#: The Confirm button's name; without it nothing is applied.
CONFIRM = "_confirm"
#: "Preview" / "Update preview".
PREVIEW = "_preview"
#: The previewed plan's fingerprint, posted with Confirm.
FINGERPRINT = "fingerprint"
#: The digest of the request previewed (`OperationPage.request_digest`), posted with Confirm:
#: which words a refused Confirm gets, never whether it applies.
PREVIEWED = "previewed"
#: A refused Confirm whose posted request differs from the one previewed (English here, for the
#: catalogue and the tests; shown through gettext).
INPUT_CHANGED = gettext_noop(
    "You changed the request after the preview: check the new preview, then confirm."
)
#: The preview's count line of the rows already as asked, unless the page says it otherwise.
UNCHANGED = ngettext_lazy(
    "%(count)s already as asked (nothing to change).",
    "%(count)s already as asked (nothing to change).",
    "n",
)


@dataclass(frozen=True, slots=True)
class Scope:
    """What a page works on and where it leads: the core's selection (None for a page whose
    form names its rows, such as "Enroll learners"), the fields that carry a changelist choice
    from step to step, where the form posts, Cancel's and Done's URLs, and how the page names
    it (one enrollment, all N matching the list, the N selected, or a `description`).
    `selected`: the count when it is known already (the changelist counted it)."""

    selection: Selection | None
    form_url: str
    cancel_url: str
    done_url: str = ""
    hidden_fields: tuple[tuple[str, str], ...] = ()
    enrollment: Enrollment | None = None
    across: bool = False
    selected: int | None = None
    description: str = ""

    @classmethod
    def of_choice(
        cls,
        choice: ChangelistChoice,
        queryset: QuerySet[Enrollment],
        selected: int | None,
        url: str,
        *,
        actor: ActorScope = EVERYWHERE,
    ) -> "Scope":
        """The changelist choice `queryset` (what the list shows), within `actor`: the
        courses where the actor may apply the operation."""
        back = views.changelist_url(choice.filters)
        return cls(
            Selection.by_filter(queryset, scope=actor),
            url,
            back,
            back,
            hidden_fields=tuple(choice.hidden_fields()),
            across=choice.across,
            selected=selected,
        )

    @classmethod
    def of_enrollment(
        cls, enrollment: Enrollment, url: str, *, actor: ActorScope = EVERYWHERE
    ) -> "Scope":
        back = views.change_url(enrollment)
        named = Selection.named([enrollment.pk], scope=actor)
        return cls(named, url, back, back, enrollment=enrollment, selected=1)

    @property
    def limited(self) -> bool:
        """Whether the actor acts within some course's staff limits here (the page then
        offers "Update preview": the reason typed may change the plan)."""
        return self.selection is not None and bool(self.selection.scope.limited)


class OperationPage:
    """One preview/confirm page (see the module). `name`: its URLs
    (`admin:enrollments_enrollment_<name>` for a changelist choice, POST only, and
    `..._<name>_one` for one enrollment; routes `<name with dashes>/` and
    `<id>/<name with dashes>/`), its CSS class and its form's id; `operation`: the core
    operation (an instance when the request is "do it", the class when the form builds it).

    Its words, marked for translation (issue 26 item 9), each a whole sentence so that a
    translator sees it whole (a language whose verb agrees with the count gets its own forms):
    `title`: the heading and last breadcrumb; `done`: the result with its count, an
    `ngettext_lazy(singular, plural, "n")` with `%(count)s` ("Paused %(count)s enrollments",
    display.counted); `done_one`: the result on one enrollment's page ("Paused this
    enrollment."); `will`: the preview's count line of the changed rows, an ngettext_lazy
    ("%(count)s enrollments will be paused."), and `will_heading` their table's heading ("Will
    be paused"); `unchanged`: the count line of the rows already as asked; `intro`: what
    confirming does. A page that renders its own preview and report ("Enroll learners") may
    leave `will`, `will_heading` and `done_one` out."""

    def __init__(
        self,
        name: str,
        operation: Operation | type[Operation],
        *,
        title: str,
        done: str,
        done_one: str = "",
        will: str = "",
        will_heading: str = "",
        form_class: type[OperationForm] = OperationForm,
        intro: str = "",
        unchanged: str = UNCHANGED,
        template: str = TEMPLATE,
    ) -> None:
        self.name, self.operation, self.form_class = name, operation, form_class
        self.title, self.done, self.done_one, self.intro = title, done, done_one, intro
        self.will, self.will_heading = will, will_heading
        self.unchanged, self.template = unchanged, template
        self.permission = operation.permission
        self.route = name.replace("_", "-")

    # -- entry points -----------------------------------------------------------------------

    def urls(self, model_admin: ModelAdmin) -> list[URLPattern]:
        """A changelist choice's steps (POST only) and one enrollment's page."""

        def choice_view(request: HttpRequest) -> HttpResponse:
            self.check_permission(model_admin, request)
            post = request.POST
            try:
                choice = ChangelistChoice.from_post(post)
                queryset, selected = choice.resolve(model_admin, request)
            except InvalidChoice as error:
                model_admin.message_user(request, invalid_selection(error), messages.ERROR)
                back = views.changelist_url(post.get(CHANGELIST_FILTERS, ""))
                return HttpResponseRedirect(back)
            actor = self.actor_scope(request)
            if actor.courses != page_scope(request.user).courses:
                selected = None  # the list counted rows the actor may see, not change
            scope = Scope.of_choice(choice, queryset, selected, request.path, actor=actor)
            return self.respond(model_admin, request, scope)

        def one_view(request: HttpRequest, object_id: str) -> HttpResponse:
            self.check_permission(model_admin, request)
            enrollment = views.find_enrollment(model_admin, request, object_id)
            if enrollment is None:
                return views.not_found(model_admin, request)
            scope = Scope.of_enrollment(enrollment, request.path, actor=self.actor_scope(request))
            return self.respond(model_admin, request, scope)

        return [
            views.admin_path(model_admin, f"{self.route}/", choice_view, self.name, post_only=True),
            views.admin_path(
                model_admin, f"<path:object_id>/{self.route}/", one_view, f"{self.name}_one"
            ),
        ]

    def action(
        self, model_admin: ModelAdmin, request: HttpRequest, queryset: QuerySet[Enrollment]
    ) -> HttpResponse:
        """The changelist action: the page for the ticked rows or "select all"."""
        try:
            choice = ChangelistChoice.from_action(request)
        except InvalidChoice as error:
            model_admin.message_user(request, invalid_selection(error), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())
        opts = model_admin.opts
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_{self.name}")
        scope = Scope.of_choice(choice, queryset, None, url, actor=self.actor_scope(request))
        return self.respond(model_admin, request, scope)

    def check_permission(self, model_admin: ModelAdmin, request: HttpRequest) -> None:
        """The operation's permission, globally or in some course, and a view of the rows."""
        if not (
            may(request.user, self.permission)
            and model_admin.has_view_or_change_permission(request)
        ):
            raise PermissionDenied

    def actor_scope(self, request: HttpRequest) -> ActorScope:
        """The courses where the user may apply this page's operation."""
        return scope_of(request.user, self.permission)

    # -- the loop -----------------------------------------------------------------------------

    def respond(
        self,
        model_admin: ModelAdmin,
        request: HttpRequest,
        scope: Scope,
        *,
        operation: Operation | None = None,
        context: dict | None = None,
    ) -> HttpResponse:
        """The page of `scope` for this request: the form, the preview, or Confirm's result.
        `operation`: one the URL names (an undo's batch) instead of `build(form)`."""
        self.check_permission(model_admin, request)
        post = request.POST if request.method == "POST" else None
        confirming = post is not None and CONFIRM in post
        bound = post is not None and (confirming or PREVIEW in post)
        form = self.form(
            request,
            post if bound else None,
            request.FILES if bound else None,
            initial={"time_zone": staff_time_zone(request).key},
        )
        if reason_required(scope):  # the help says so, before the form is cleaned
            form.require_reason()
        # A form's time-zone field reads its typed date, nothing more: the staff member's zone
        # (the admin's) changes only on the time-zone page (issue 26).
        # The reason the change will be made with: the preview plans with it too.
        reason = form.cleaned_data.get("reason", "") if bound and form.is_valid() else ""
        plan, notice, draft, summary = None, "", None, None
        try:
            built = operation if operation is not None else self.build(form)
            posted_run = post.get(background.RUN, "") if post is not None else ""
            if built is not None and confirming and form.is_valid() and posted_run:
                by = Attribution(request.user, AccessChange.Source.ADMIN, reason)
                queued = background.confirm(
                    request, built, posted_run, by, reason_plans=scope.limited
                )
                if isinstance(queued, str):
                    notice = queued  # nothing queued: a new draft and preview below
                else:
                    return HttpResponseRedirect(background.job_url(queued))
            elif built is not None and confirming and form.is_valid():
                by = Attribution(request.user, AccessChange.Source.ADMIN, reason)
                try:
                    done = self.apply(built, scope, by, post.get(FINGERPRINT, ""))
                except ChangedSincePreview as changed:
                    plan = changed.plan
                    notice = self._refusal(changed, post, built, scope, reason)
                else:
                    return self._finish(model_admin, request, scope, done, form)
            if built is not None and plan is None:
                scope = self._counted(built, scope)
                if background.runs_in_background(built, scope):
                    # The draft first, then the preview: a row changed after the draft's
                    # snapshot is skipped by the job, never changed unseen.
                    draft = background.write_draft(
                        request, built, scope.selection, posted_run, reason
                    )
                    # Counted by SQL with a sample of rows planned: a million rows answer
                    # within seconds (operations/outcomes.py).
                    summary = summarize(built, scope.selection, reason=reason)
                    plan = summary.sample
                else:
                    plan = self.preview(built, scope, reason)
        except DomainError as error:  # a request invalid for every row (operation.validate)
            if form.is_bound:
                form.add_error(form.rule_error_field(), error_text(error))
            else:
                notice = error_text(error)
            plan = None
        if plan is not None and scope.enrollment is not None and _gone(plan):
            return views.not_found(model_admin, request)  # gone since the lookup
        extra = {**(context or {}), "draft": draft if plan is not None else None}
        if plan is not None and built is not None:
            extra["previewed"] = self.request_digest(built, scope, reason)
        if summary is not None and plan is not None:
            extra["preview"] = build_summary_preview(summary, form.zone)
        return self._render(model_admin, request, scope, form, plan, notice, extra)

    # -- hooks --------------------------------------------------------------------------------

    def build(self, form: OperationForm):
        """The operation this request asks for; None until the form's parameters are valid."""
        if isinstance(self.operation, Operation):
            return self.operation
        if not form.is_bound or not form.is_valid():
            return None
        return form.operation()

    def form(self, request: HttpRequest, data, files, *, initial: dict) -> OperationForm:
        return self.form_class(data, files, initial=initial)

    def preview(self, operation, scope: Scope, reason: str = ""):
        return preview(operation, scope.selection, reason=reason)

    def apply(self, operation, scope: Scope, by: Attribution, expected: str):
        return apply(operation, scope.selection, by, expected=expected)

    def rows(self, plan, form: OperationForm):
        return build_preview(plan, form.zone)

    def describe(self, operation) -> str:
        """The request in words, parameters included (the core's `Operation.describe()`, the
        first part of a plan's fingerprint)."""
        return operation.describe()

    def request_digest(self, operation, scope: Scope, reason: str) -> str:
        """What staff asked for, as a digest: the operation with its parameters, and the
        reason where it can change the plan (a course's staff limits: `scope.limited`;
        elsewhere typing the reason after the preview is the normal flow and changes
        nothing). Shown with a preview (hidden field `previewed`) and compared on a refused
        Confirm; see `_refusal`."""
        text = f"{self.describe(operation)}\n{reason if scope.limited else ''}"
        return hashlib.sha256(text.encode()).hexdigest()

    def report(self, request: HttpRequest, scope: Scope, done, form: OperationForm) -> None:
        if scope.enrollment is not None:
            report_one(request, done, done_one=self.done_one)
        else:
            report_plan(request, done, done=self.done)

    def done_url(self, scope: Scope, done) -> str:
        return scope.done_url

    # -- internals ----------------------------------------------------------------------------

    def _counted(self, operation, scope: Scope) -> Scope:
        """The scope with its size when a "select all" of a run's operation has not been
        counted yet (the action's first step): whether it runs in the background depends on
        it, and the page shows it without counting again."""
        if scope.selected is None and background.eligible(operation, scope):
            selection = scope.selection
            return replace(scope, selected=selection.in_scope(selection.queryset).count())
        return scope

    def _refusal(self, changed: ChangedSincePreview, post, built, scope: Scope, reason: str) -> str:
        """Why Confirm applied nothing, in words that say whose change it was.

        The core's fingerprint (`Plan.fingerprint`) starts with the operation's `describe()`
        and goes on with the rows, so a mismatch alone cannot tell "you changed the form"
        from "the enrollments changed" (issue 26: staff who typed 300 days after previewing 30
        were told the enrollments had changed). The preview therefore also carries the digest
        of the request it showed (`request_digest`: `describe()`, and the reason where it
        plans); when the
        request now posted has another digest, the staff member's own input changed. Nothing
        here decides whether to apply: the core's fingerprint alone does, so a forged or
        missing digest can only pick the words (missing, as from a page rendered before this
        field existed: the rows' words, as before). The digest is not signed for that reason.
        """
        previewed = post.get(PREVIEWED, "")
        if previewed and previewed != self.request_digest(built, scope, reason):
            return _(INPUT_CHANGED)
        # Translators: why Confirm applied nothing (the core's words), then what to do.
        return _("%(why)s: check the new preview and confirm again.") % {
            "why": translated(changed.message)
        }

    def _finish(self, model_admin, request, scope: Scope, done, form) -> HttpResponse:
        if scope.enrollment is not None and _gone(done):
            return views.not_found(model_admin, request)
        self.report(request, scope, done, form)
        # "Recent actions" on the admin home: what this Confirm changed, if anything.
        recent_actions.record(request, batch_id=done.batch_id, done=self.done)
        return HttpResponseRedirect(self.done_url(scope, done))

    def _render(self, model_admin, request, scope: Scope, form, plan, notice: str, extra: dict):
        zone = form.zone
        enrollment = scope.enrollment
        context = {
            **model_admin.admin_site.each_context(request),
            "opts": model_admin.opts,
            "page": self,
            "title": self.title,
            "form": form,
            "media": model_admin.media + form.media,
            "scope": scope,
            "enrollment": enrollment,
            "enrollment_label": (
                enrollment_label(enrollment.user.email, enrollment.course.title)
                if enrollment is not None
                else ""
            ),
            "enrollment_end": format_instant(enrollment.ended_at, zone) if enrollment else "",
            "selected": _selected(scope, plan),
            "plan": plan,
            "preview": self.rows(plan, form) if plan is not None else None,
            "preview_rows_limit": PREVIEW_ROWS,
            "fingerprint": plan.fingerprint() if plan is not None else "",
            "zone": zone,
            "notice": notice,
            # What went wrong, in words (the notice, else the first form error).
            "error": notice or _first_error(form),
            **extra,
        }
        request.current_app = model_admin.admin_site.name
        return TemplateResponse(request, self.template, context)


def invalid_selection(error: InvalidChoice) -> str:
    """The message of a selection that cannot be understood (its reason already translated:
    selection.py)."""
    return _("Invalid selection: %(why)s") % {"why": error}


def reason_required(scope: Scope) -> bool:
    """Whether a course of the page's rows requires a reason of the actor: one where their
    scope limits them (`Scope.limited`) that requires a reason (operations/limits.py
    `requiring_a_reason`, the core's rule). The core skips that course's rows changed without
    one; the reason field says so rather than "Optional". One query for the limited courses
    (the few a course's staff member holds), and one for the rows only when one of them
    requires a reason."""
    if not scope.limited:
        return False
    selection = scope.selection
    requiring = requiring_a_reason(selection.scope)
    if not requiring:
        return False
    if scope.enrollment is not None:
        return scope.enrollment.course_id in requiring
    if selection.ids is not None:
        rows = Enrollment.objects.filter(pk__in=selection.ids)
    else:
        rows = selection.queryset
    return rows.filter(course_id__in=requiring).exists()


def _selected(scope: Scope, plan) -> int | None:
    """How many rows the page works on: known, else the plan's, else counted."""
    if scope.selected is not None or scope.selection is None:
        return scope.selected
    if plan is not None:
        return plan.selected
    queryset = scope.selection.queryset
    return scope.selection.in_scope(queryset).count() if queryset is not None else None


def _gone(plan) -> bool:
    return any(isinstance(skip.error, MembershipNotFound) for skip in plan.skips)


def _first_error(form: OperationForm) -> str:
    if not form.is_bound:
        return ""
    for errors in form.errors.values():
        for error in errors:
            return str(error)
    return ""
