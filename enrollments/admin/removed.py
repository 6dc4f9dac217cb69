"""Removed learners, findable and restorable from the admin (issue 26, item 1).

A learner removed from a course keeps their enrollment with the removal mark (operations/
removing.py). The enrollment list leaves them out by default and says so: its access-state
filter's default reads "Not removed", and "All (removed included)" means every row
(filters.AccessStateFilter). A search of that default list that would also match removed rows
says how many, with a link to the same search over all rows (`removed_search_hint`), so
"erin@example.com" is never a silent "0 results".

A removed enrollment's page offers **Restore…** (this module's `RESTORE` page) instead of the
actions that could only refuse (extend, end, pause, resume: the core skips a removed row with
ENROLLMENT_REMOVED). Restoring is the core's: enrolling the learner again in the course
(`operations.Enroll`, the rule in operations/enrolling.py) brings the same enrollment back,
its progress and history kept, access ending after the course's default length from now. It
needs the permission to enroll (ENROLL_LEARNERS), globally or as the course's manager; the
preview/confirm page is confirming.OperationPage's, for that one enrollment.
"""

import copy

from django.contrib import messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import PAGE_VAR, SEARCH_VAR
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, ngettext_lazy

from enrollments.admin import views
from enrollments.admin.confirming import OperationPage, Scope
from enrollments.admin.filters import AccessStateFilter
from enrollments.models import Enrollment
from enrollments.operations import Enroll
from enrollments.operations.enrolling import PairToEnroll
from enrollments.operations.scope import scope_of
from enrollments.permissions import ENROLL_LEARNERS
from enrollments.rules import AccessState


def restore_operation(enrollment: Enrollment) -> Enroll:
    """The core's request that brings `enrollment` back: its learner enrolled again in its
    course (a removed enrollment is restored; one not removed is already as asked)."""
    return Enroll(targets=(PairToEnroll(enrollment.user, enrollment.course),))


def may_restore(user, enrollment: Enrollment) -> bool:
    """Whether the enrollment's page offers Restore: it is removed and `user` may enroll
    learners in its course."""
    return enrollment.removed_at is not None and scope_of(user, ENROLL_LEARNERS).covers(
        enrollment.course_id
    )


class RestorePage(OperationPage):
    """Restore… on one removed enrollment's page (no changelist action: a list selection of
    removed learners is enrolled again through "Enroll learners…")."""

    def urls(self, model_admin) -> list[URLPattern]:
        def one_view(request: HttpRequest, object_id: str) -> HttpResponse:
            self.check_permission(model_admin, request)
            enrollment = views.find_enrollment(model_admin, request, object_id)
            if enrollment is None:
                return views.not_found(model_admin, request)
            scope = Scope.of_enrollment(enrollment, request.path, actor=self.actor_scope(request))
            operation = restore_operation(enrollment)
            return self.respond(model_admin, request, scope, operation=operation)

        return [
            views.admin_path(
                model_admin, f"<path:object_id>/{self.route}/", one_view, f"{self.name}_one"
            )
        ]


RESTORE = RestorePage(
    "restore",
    Enroll,
    title=gettext_lazy("Restore to the course"),
    done=ngettext_lazy("Restored %(count)s enrollment", "Restored %(count)s enrollments", "n"),
    done_one=gettext_lazy("Restored this enrollment."),
    will=ngettext_lazy(
        "%(count)s enrollment will be restored.", "%(count)s enrollments will be restored.", "n"
    ),
    will_heading=gettext_lazy("Will be restored"),
    unchanged=ngettext_lazy(
        "%(count)s not removed (nothing to restore).",
        "%(count)s not removed (nothing to restore).",
        "n",
    ),
    intro=gettext_lazy(
        "The learner gets access again: the same enrollment comes back with its progress and "
        "history, and access ends after the course's default length from now (the new end "
        "below; indefinite when the course has none)."
    ),
)


def removed_search_hint(model_admin, request: HttpRequest) -> None:
    """On a search of the default list (removed learners left out), says how many removed
    enrollments the same search and filters also match, with a link to them all. One count
    (the list's own, rebuilt with "Removed from course"), only on a searched default page."""
    query = request.GET.get(SEARCH_VAR, "").strip()
    if request.method != "GET" or not query or AccessStateFilter.parameter_name in request.GET:
        return
    probe = copy.copy(request)
    probe.GET = request.GET.copy()
    probe.GET.pop(PAGE_VAR, None)
    probe.GET[AccessStateFilter.parameter_name] = AccessState.REMOVED.value
    try:
        count = model_admin.get_changelist_instance(probe).result_count
    except IncorrectLookupParameters:
        return  # the list itself answers the bad parameters
    if not count:
        return
    every = request.GET.copy()
    every.pop(PAGE_VAR, None)
    every[AccessStateFilter.parameter_name] = AccessStateFilter.ALL
    sentence = ngettext(
        "%(count)s removed enrollment also matches “%(search)s”: this list leaves removed "
        "learners out.",
        "%(count)s removed enrollments also match “%(search)s”: this list leaves removed "
        "learners out.",
        count,
    )
    messages.info(
        request,
        format_html(
            '{} <a href="?{}" class="show-removed-link">{}</a>',
            sentence % {"count": count, "search": query},
            every.urlencode(),
            _("Show all, removed included"),
        ),
    )
