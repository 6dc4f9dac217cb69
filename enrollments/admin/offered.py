"""Which lifecycle actions an enrollment offers a staff member, decided once for every page
that shows them: the enrollment's own page (its buttons) and the learner page on the user's
admin page (learner.py), one row per enrollment.

The rule is the enrollment page's (issue 26 item 1): a removed enrollment offers only
**Restore…** (removed.may_restore: the permission to enroll in its course), since every other
access change would be refused by the core (ENROLLMENT_REMOVED); otherwise **Extend access**,
**End access / set end**, **Pause…** or **Resume…** (whichever the pause state allows: the core
skips a paused enrollment's pause and a running one's resume) and **Remove from course…**, each
only when the staff member holds its permission in the enrollment's course (the enrollment
admin's `has_*_permission(request, enrollment)`, the operation's scope). Each links to the
existing preview/confirm page for that one enrollment; nothing is applied from a link.
"""

from dataclasses import dataclass

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _

from enrollments.admin import removed
from enrollments.models import Enrollment


@dataclass(frozen=True, slots=True)
class Offer:
    """One action offered: the button's text, its page's URL and its CSS class (the tests and
    the keyboard flows find a button by its class)."""

    label: str
    url: str
    css: str


def _url(page: str, enrollment: Enrollment) -> str:
    return reverse(f"admin:enrollments_enrollment_{page}_one", args=[enrollment.pk])


def offered_actions(model_admin, request: HttpRequest, enrollment: Enrollment) -> list[Offer]:
    """The actions `request.user` may start on `enrollment` and the core would not refuse.

    `model_admin` is the enrollment admin (its permission hooks read the scopes, kept on the
    user object: no query per enrollment once the roles are read)."""
    if enrollment.removed_at is not None:
        if removed.may_restore(request.user, enrollment):
            return [Offer(_("Restore…"), _url("restore", enrollment), "restore-link")]
        return []
    offers = []
    if model_admin.has_extend_access_permission(request, enrollment):
        offers.append(
            Offer(_("Extend access"), _url("extend_access", enrollment), "extend-access-link")
        )
    if model_admin.has_expire_access_permission(request, enrollment):
        offers.append(
            Offer(
                _("End access / set end"), _url("expire_access", enrollment), "expire-access-link"
            )
        )
    if model_admin.has_pause_enrollment_permission(request, enrollment):
        if enrollment.is_paused:
            offers.append(Offer(_("Resume…"), _url("resume", enrollment), "resume-link"))
        else:
            offers.append(Offer(_("Pause…"), _url("pause", enrollment), "pause-link"))
    if model_admin.has_remove_from_course_permission(request, enrollment):
        offers.append(Offer(_("Remove from course…"), _url("remove", enrollment), "remove-link"))
    return offers
