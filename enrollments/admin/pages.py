"""The enrollment admin's preview/confirm pages (confirming.OperationPage), one declaration
each: its name (URLs, CSS class), the core operation, the words (marked for translation: each
a whole sentence, the counted ones with their plural). "Extend access…" and "End access / set
end…" have a form step (forms.ExtendAccessForm, ExpireAccessForm: the operation is built from
it); "Pause…", "Resume…" and "Remove from course…" preview at once. "Enroll learners…" and
"Undo this batch" are in enrolling.py and undoing.py; "Restore…" (one removed enrollment) in
removed.py; "Restore the end before this change" in correcting.py."""

from django.utils.translation import gettext_lazy, ngettext_lazy

from enrollments.admin.confirming import OperationPage
from enrollments.admin.correcting import RESTORE_END
from enrollments.admin.forms import ExpireAccessForm, ExtendAccessForm
from enrollments.admin.removed import RESTORE
from enrollments.operations import Expire, Extend, Pause, Remove, Resume

EXTEND_ACCESS = OperationPage(
    "extend_access",
    Extend,
    form_class=ExtendAccessForm,
    title=gettext_lazy("Extend access"),
    done=ngettext_lazy(
        "Extended access for %(count)s enrollment",
        "Extended access for %(count)s enrollments",
        "n",
    ),
    done_one=gettext_lazy("Extended access for this enrollment."),
    will=ngettext_lazy(
        "%(count)s enrollment will be extended.", "%(count)s enrollments will be extended.", "n"
    ),
    will_heading=gettext_lazy("Will be extended"),
    template="admin/enrollments/enrollment/extend_access.html",
)

# It is also how an end that an extension set too far is corrected: type the end it should have,
# or "shorten by N days" (the core's Shorten, built by the form).
EXPIRE_ACCESS = OperationPage(
    "expire_access",
    Expire,
    form_class=ExpireAccessForm,
    title=gettext_lazy("End access / set end"),
    done=ngettext_lazy(
        "Set the new end of access for %(count)s enrollment",
        "Set the new end of access for %(count)s enrollments",
        "n",
    ),
    done_one=gettext_lazy("Set the new end of access for this enrollment."),
    will=ngettext_lazy(
        "%(count)s enrollment will get the new end.",
        "%(count)s enrollments will get the new end.",
        "n",
    ),
    will_heading=gettext_lazy("Will get the new end"),
    unchanged=ngettext_lazy(
        "%(count)s already as asked (access already ended: nothing to change).",
        "%(count)s already as asked (access already ended: nothing to change).",
        "n",
    ),
    intro=gettext_lazy(
        "Access ends at the new end (now when it is left empty), or that many days earlier "
        "when shortened; progress and history are kept. The new end must be earlier than the "
        "current one: to move an end later, extend access."
    ),
    template="admin/enrollments/enrollment/expire_access.html",
)

PAUSE = OperationPage(
    "pause",
    Pause(),
    title=gettext_lazy("Pause access"),
    done=ngettext_lazy("Paused %(count)s enrollment", "Paused %(count)s enrollments", "n"),
    done_one=gettext_lazy("Paused this enrollment."),
    will=ngettext_lazy(
        "%(count)s enrollment will be paused.", "%(count)s enrollments will be paused.", "n"
    ),
    will_heading=gettext_lazy("Will be paused"),
    intro=gettext_lazy(
        "A paused enrollment gives no access until it is resumed. When the course freezes "
        "access during pauses (the default), the paused time is added to the end date on "
        "resuming."
    ),
)

RESUME = OperationPage(
    "resume",
    Resume(),
    title=gettext_lazy("Resume access"),
    done=ngettext_lazy("Resumed %(count)s enrollment", "Resumed %(count)s enrollments", "n"),
    done_one=gettext_lazy("Resumed this enrollment."),
    will=ngettext_lazy(
        "%(count)s enrollment will be resumed.", "%(count)s enrollments will be resumed.", "n"
    ),
    will_heading=gettext_lazy("Will be resumed"),
    intro=gettext_lazy(
        "Access comes back at once. When the course freezes access during pauses, the paused "
        "time is added to the end date (the new end below counts it up to now)."
    ),
)

REMOVE = OperationPage(
    "remove",
    Remove(),
    title=gettext_lazy("Remove from course"),
    done=ngettext_lazy("Removed %(count)s enrollment", "Removed %(count)s enrollments", "n"),
    done_one=gettext_lazy("Removed this enrollment."),
    will=ngettext_lazy(
        "%(count)s enrollment will be removed.", "%(count)s enrollments will be removed.", "n"
    ),
    will_heading=gettext_lazy("Will be removed"),
    intro=gettext_lazy(
        "The learners below lose access at once and leave the default lists. Nothing is "
        "deleted: their progress and audit trail stay."
    ),
)

#: Every page of the enrollment admin, for its URLs.
PAGES = (EXTEND_ACCESS, EXPIRE_ACCESS, PAUSE, RESUME, REMOVE, RESTORE, RESTORE_END)
