"""The enrollment admin's preview/confirm pages (confirming.OperationPage), one declaration
each: its name (URLs, CSS class), the core operation, the words. "Extend access…" and "End
access / set end…" have a form step (forms.ExtendAccessForm, ExpireAccessForm: the operation
is built from it); "Pause…", "Resume…" and "Remove from course…" preview at once.
"Enroll learners…" and "Undo this batch" are in enrolling.py and undoing.py; "Restore…" (one
removed enrollment) in removed.py; "Restore the end before this change" in correcting.py."""

from enrollments.admin.confirming import OperationPage
from enrollments.admin.correcting import RESTORE_END
from enrollments.admin.forms import ExpireAccessForm, ExtendAccessForm
from enrollments.admin.removed import RESTORE
from enrollments.operations import Expire, Extend, Pause, Remove, Resume

EXTEND_ACCESS = OperationPage(
    "extend_access",
    Extend,
    form_class=ExtendAccessForm,
    title="Extend access",
    verb="Extended access for",
    will="will be extended",
    template="admin/enrollments/enrollment/extend_access.html",
)

# It is also how an end that an extension set too far is corrected: type the end it should have,
# or "shorten by N days" (the core's Shorten, built by the form).
EXPIRE_ACCESS = OperationPage(
    "expire_access",
    Expire,
    form_class=ExpireAccessForm,
    title="End access / set end",
    verb="Set the new end of access for",
    will="will get the new end",
    unchanged="already as asked (access already ended: nothing to change)",
    intro=(
        "Access ends at the new end (now when it is left empty), or that many days earlier "
        "when shortened; progress and history are kept. The new end must be earlier than the "
        "current one: to move an end later, extend access."
    ),
    template="admin/enrollments/enrollment/expire_access.html",
)

PAUSE = OperationPage(
    "pause",
    Pause(),
    title="Pause access",
    verb="Paused",
    will="will be paused",
    intro=(
        "A paused enrollment gives no access until it is resumed. When the course freezes "
        "access during pauses (the default), the paused time is added to the end date on "
        "resuming."
    ),
)

RESUME = OperationPage(
    "resume",
    Resume(),
    title="Resume access",
    verb="Resumed",
    will="will be resumed",
    intro=(
        "Access comes back at once. When the course freezes access during pauses, the paused "
        "time is added to the end date (the new end below counts it up to now)."
    ),
)

REMOVE = OperationPage(
    "remove",
    Remove(),
    title="Remove from course",
    verb="Removed",
    will="will be removed",
    intro=(
        "The learners below lose access at once and leave the default lists. Nothing is "
        "deleted: their progress and audit trail stay."
    ),
)

#: Every page of the enrollment admin, for its URLs.
PAGES = (EXTEND_ACCESS, EXPIRE_ACCESS, PAUSE, RESUME, REMOVE, RESTORE, RESTORE_END)
