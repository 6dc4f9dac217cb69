"""Jobs in the admin: the background runs (enrollments/operations/runs.py), listed and watched.

- The list ("Operation runs"): description, state, progress, changed / skipped, who started
  it, when, the error; filtered by state; read-only (runs are written by the doors that start
  them: the admin's Confirm, a command, never by hand). Drafts (previews not confirmed) are
  not jobs and are not listed. "Retry" queues a failed run again.
- The job page (the run's change view, replaced): the same facts, a <progress> of the rows
  done, an estimate of the time left, the audit batch (its rows, "Undo this batch"), the
  skipped rows with their reasons, and Cancel (unfinished) / Retry (failed: back to queued
  with a new job, enrollments.jobs.runs.retry). While the run is
  unfinished it refreshes itself: job_page.js reads the page again every 2 s and replaces its
  live parts; without JavaScript a <noscript> refresh reloads it.

Permissions: staff who can see enrollments everywhere see every job; a course's staff (who see
enrollments through course roles only) see their own jobs, and no other (another's is "No such
job"). Cancel and Retry need the run's operations' permissions too (those its Confirm needed),
asked again on every POST: held globally, or through a role for one's own job (its rows were
written down within the actor's courses when it started).
"""

import uuid
from datetime import datetime, timedelta

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from enrollments import clock
from enrollments.admin import undoing, views
from enrollments.admin.display import ReadOnly, format_instant, instant_cell, number
from enrollments.admin.reporting import translated
from enrollments.admin.scoping import may, may_see_enrollments, page_scope, prime_roles
from enrollments.errors import RunNotFound, message_of
from enrollments.jobs import runs as run_jobs
from enrollments.models import Enrollment, OperationRun
from enrollments.operations import runs
from lms.identifiers import parse_uuid

State = OperationRun.State
TEMPLATE = "admin/enrollments/operationrun/job.html"
#: Skipped rows listed on the job page; the count is always complete.
SKIPPED_ROWS = 100
#: The states in which a run still moves by itself (the page refreshes).
MOVING = (State.QUEUED, State.RUNNING)
#: Seconds between two refreshes of an unfinished job's page.
REFRESH_SECONDS = 2


def may_view(user) -> bool:
    return may_see_enrollments(user)


def may_control(user, run: OperationRun) -> bool:
    """Whether `user` may cancel or retry the run: its operations' permissions, held
    globally, or through a role when the run is the user's own."""
    own = run.actor_id is not None and run.actor_id == user.pk
    return may_view(user) and all(
        part.operation.permission.held_by(user) or (own and may(user, part.operation.permission))
        for part in runs.parts_of(run)
    )


def time_left(run: OperationRun, now: datetime) -> timedelta | None:
    """The rows left at the rate since the run started; None before a chunk committed."""
    if run.state != State.RUNNING or run.started_at is None or run.done == 0:
        return None
    elapsed = (now - run.started_at).total_seconds()
    if elapsed <= 0:
        return None
    return timedelta(seconds=(run.total - run.done) * elapsed / run.done)


def in_words(left: timedelta) -> str:
    """`less than a minute`, `about 5 minutes`, `about 2 hours 10 minutes`."""
    minutes = round(left.total_seconds() / 60)
    if minutes < 1:
        return _("less than a minute")
    if minutes < 60:
        return ngettext("about %(count)s minute", "about %(count)s minutes", minutes) % {
            "count": minutes
        }
    hours, rest = divmod(minutes, 60)
    if not rest:
        return ngettext("about %(count)s hour", "about %(count)s hours", hours) % {"count": hours}
    # Translators: "about 2 hours 10 minutes": the hours, then the minutes (the next msgid).
    return ngettext(
        "about %(count)s hour %(minutes)s", "about %(count)s hours %(minutes)s", hours
    ) % {
        "count": hours,
        "minutes": ngettext("%(count)s minute", "%(count)s minutes", rest) % {"count": rest},
    }


def skipped_rows(run: OperationRun) -> list[dict[str, object]]:
    """The run's first SKIPPED_ROWS skipped rows: learner, course and the reason's message
    (two queries)."""
    rows = list(runs.skipped_rows(run, limit=SKIPPED_ROWS))
    if not rows:
        return []
    names = {
        pk: (email, title)
        for pk, email, title in Enrollment.objects.filter(
            pk__in=[pk for pk, _code in rows]
        ).values_list("pk", "user__email", "course__title")
    }
    return [
        {
            "enrollment_id": pk,
            # Translators: a skipped row's learner whose enrollment no longer exists.
            "learner": names[pk][0] if pk in names else _("(deleted)"),
            "course": names.get(pk, ("", ""))[1],
            "reason": translated(message_of(code)),
        }
        for pk, code in rows
    ]


class StateFilter(admin.SimpleListFilter):
    """The run's state, drafts left out (they are previews, not jobs)."""

    # Translators: a list filter's title, shown as "By state" (a background job's state).
    title = gettext_lazy("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [(state.value, state.label) for state in State if state != State.PREVIEWED]

    def queryset(self, request, queryset):
        """Only a state the filter offers: any other value is ignored (the whole list), as the
        enrollment list's filters ignore theirs. Passed on as typed, text holding a NUL
        character made PostgreSQL refuse the query (a 500)."""
        if self.value() in {value for value, _label in self.lookup_choices}:
            return queryset.filter(state=self.value())
        return queryset


@admin.register(OperationRun)
class OperationRunAdmin(ReadOnly, admin.ModelAdmin):
    list_display = (
        "description",
        "state",
        "progress",
        "changed",
        "skipped",
        "started_by",
        "created",
        "error_summary",
    )
    list_display_links = ("description",)
    list_filter = (StateFilter,)
    list_select_related = ("actor",)
    ordering = ("-created_at",)
    actions = ("retry_failed",)

    # -- read-only, seen by staff who can see enrollments --------------------------------------

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return may_view(request.user)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request)

    def get_queryset(self, request: HttpRequest) -> QuerySet[OperationRun]:
        """Every job, drafts left out; a course's staff member's own jobs only."""
        queryset = super().get_queryset(request).exclude(state=State.PREVIEWED)
        if not page_scope(request.user).everywhere:
            queryset = queryset.filter(actor_id=request.user.pk)
        return queryset

    def changelist_view(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        prime_roles(request.user)
        return super().changelist_view(
            request, {"title": _("Background jobs"), **(extra_context or {})}
        )

    # -- the list's columns --------------------------------------------------------------------

    @admin.display(description=gettext_lazy("progress"))
    def progress(self, run: OperationRun) -> str:
        # Translators: a background job's rows done: "1,200 of 5,000".
        done_of_total = _("%(done)s of %(total)s") % {
            "done": number(run.done),
            "total": number(run.total),
        }
        return format_html(
            '<progress max="{}" value="{}" aria-label="{}">{}</progress> {}',
            run.total or 1,
            run.done,
            _("Rows done"),
            done_of_total,
            done_of_total,
        )

    @admin.display(description=gettext_lazy("started by"), ordering="actor__email")
    def started_by(self, run: OperationRun) -> str:
        return started_by(run)

    @admin.display(description=gettext_lazy("created"), ordering="created_at")
    def created(self, run: OperationRun) -> str:
        return instant_cell(run.created_at)

    @admin.display(description=gettext_lazy("error"))
    def error_summary(self, run: OperationRun) -> str:
        return run.error[:120] + ("…" if len(run.error) > 120 else "") if run.error else "—"

    # -- the job page and its buttons ----------------------------------------------------------

    def get_urls(self):
        return [
            views.admin_path(
                self, "<path:object_id>/cancel/", self.cancel_view, "cancel", post_only=True
            ),
            views.admin_path(
                self, "<path:object_id>/retry/", self.retry_view, "retry", post_only=True
            ),
            *super().get_urls(),
        ]

    def change_view(self, request: HttpRequest, object_id, form_url="", extra_context=None):
        """The job page (see the module)."""
        run = self._run(request, object_id)
        if run is None:
            return self._not_found(request)
        user = request.user
        now = clock.now()
        left = time_left(run, now)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": run.description,
            "run": run,
            "started_by": started_by(run),
            "created": format_instant(run.created_at),
            "started": format_instant(run.started_at) if run.started_at else "",
            "finished": format_instant(run.finished_at) if run.finished_at else "",
            "percent": round(100 * run.done / run.total) if run.total else 100,
            "time_left": in_words(left) if left is not None else "",
            "moving": run.state in MOVING,
            "refresh_seconds": REFRESH_SECONDS,
            "skipped_rows": skipped_rows(run) if run.skipped else [],
            "skipped_rows_limit": SKIPPED_ROWS,
            "batch_rows_url": undoing.batch_rows_url(run.batch_id),
            "undo_batch_url": (
                undoing.undo_batch_url(run.batch_id)
                if run.changed and run.finished_at is not None and undoing.may_undo(user)
                else ""
            ),
            "controls": may_control(user, run),
            "finished_run": run.finished_at is not None,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, TEMPLATE, context)

    def cancel_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        run = self._controlled(request, object_id)
        if run is None:
            return self._not_found(request)
        try:
            run = runs.cancel(run.pk)
        except RunNotFound:
            return self._not_found(request)
        if run.state == State.CANCELLED or run.cancel_requested:
            messages.success(
                request,
                _(
                    "Cancel asked: the job stops after the chunk it is applying. What it changed "
                    "stays (undo the batch to put it back)."
                ),
            )
        else:
            messages.info(request, _("The job had finished already: nothing to cancel."))
        return HttpResponseRedirect(job_url(run.pk))

    def retry_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        run = self._controlled(request, object_id)
        if run is None:
            return self._not_found(request)
        if run.state != State.FAILED:
            messages.info(request, _("Only a failed job can be retried."))
        else:
            run_jobs.retry(run)
            messages.success(
                request,
                _(
                    "Queued again: the job resumes at its first row not done once a worker "
                    "takes it."
                ),
            )
        return HttpResponseRedirect(job_url(run.pk))

    @admin.action(description=gettext_lazy("Retry the selected failed jobs"))
    def retry_failed(self, request: HttpRequest, queryset: QuerySet[OperationRun]) -> None:
        queued, refused = 0, 0
        for run in queryset.filter(state=State.FAILED):
            if may_control(request.user, run):
                run_jobs.retry(run)
                queued += 1
            else:
                refused += 1
        if queued:
            messages.success(
                request,
                ngettext(
                    "Queued again %(count)s failed job.",
                    "Queued again %(count)s failed jobs.",
                    queued,
                )
                % {"count": queued},
            )
        if refused:
            messages.error(
                request,
                ngettext(
                    "Not queued: %(count)s job whose operation you may not apply.",
                    "Not queued: %(count)s jobs whose operation you may not apply.",
                    refused,
                )
                % {"count": refused},
            )
        if not queued and not refused:
            messages.info(request, _("No failed job was selected: nothing to retry."))

    # -- internals -----------------------------------------------------------------------------

    def _run(self, request: HttpRequest, object_id: str) -> OperationRun | None:
        if not self.has_view_permission(request):
            raise PermissionDenied
        pk = parse_uuid(unquote(object_id))
        if pk is None:
            return None
        return self.get_queryset(request).select_related("actor").filter(pk=pk).first()

    def _controlled(self, request: HttpRequest, object_id: str) -> OperationRun | None:
        run = self._run(request, object_id)
        if run is not None and not may_control(request.user, run):
            raise PermissionDenied
        return run

    def _not_found(self, request: HttpRequest) -> HttpResponseRedirect:
        messages.warning(request, _("No such job."))
        return HttpResponseRedirect(reverse("admin:enrollments_operationrun_changelist"))


def job_url(run_id: uuid.UUID) -> str:
    return reverse("admin:enrollments_operationrun_change", args=[run_id])


def started_by(run: OperationRun) -> str:
    # Translators: who started a background job without an actor (a command, the clock).
    return run.actor.email if run.actor is not None else _("the system")
