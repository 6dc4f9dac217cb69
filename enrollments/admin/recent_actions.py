"""Lifecycle actions in the admin home's "Recent actions" (issue 26, item 4).

Django's "Recent actions" lists the staff member's `LogEntry` rows, which the admin writes
itself only when a form saves an object. Access changes go through the operation core, never
through a form save, so without this module a Confirm that paused twenty learners left
"Recent actions" empty. The admin door (confirming.OperationPage, after a Confirm that changed
rows) writes them here, with Django's own model (`LogEntry`, action flag CHANGE), in one
INSERT, after the core's transaction committed: the audit trail (`AccessChange`) stays the
record of what happened; this is the staff member's shortcut back to it.

The choice, per Confirm:

- up to `PER_ENROLLMENT` changed enrollments: one entry per enrollment, on the enrollment (its
  link opens the enrollment's page), named with what happened: "Pause: ada@example.com in
  Python Basics";
- more: one entry for the whole batch, on the batch's first audit record (its page links to
  every row of the batch and, with the permission, to its undo): "Paused 250 enrollments
  (batch 6f1c2a9e…)". Twenty-five entries a click would push everything else out of the ten
  the home page shows.
- nothing changed (everything skipped or already as asked, or the Confirm refused): no entry.

The entries' words are written in the staff member's language when they are recorded (a
LogEntry keeps text, and "Recent actions" lists only the staff member's own entries).

Who changed what is read back from the batch's audit rows (one query), so what "Recent
actions" names is what the core recorded, whichever page confirmed. A background run (a large
"Select all" queued as a job) writes no entry at Confirm: nothing has changed yet; its job
page reports it.
"""

from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.http import HttpRequest
from django.utils.translation import gettext as _

from enrollments.admin.display import counted, enrollment_label
from enrollments.models import AccessChange, Enrollment

#: Up to this many changed enrollments, one entry each; above, one entry for the batch.
PER_ENROLLMENT = 10
#: LogEntry.object_repr's length.
REPR_LENGTH = 200


def record(request: HttpRequest, *, batch_id: object, done) -> list[LogEntry]:
    """Writes the "Recent actions" entries of the batch a Confirm just applied (see the
    module); `done` is the page's counted sentence ("Paused %(count)s enrollments", an
    ngettext_lazy: display.counted). Returns them."""
    if batch_id is None:
        return []
    records = list(
        AccessChange.objects.filter(batch_id=batch_id)
        .select_related("enrollment__user", "enrollment__course")
        .order_by("created_at", "id")[: PER_ENROLLMENT + 1]
    )
    if not records:
        return []
    enrollments = {record.enrollment_id: record for record in records}
    if len(records) <= PER_ENROLLMENT:
        content_type = ContentType.objects.get_for_model(Enrollment)
        entries = [
            _entry(
                request,
                content_type,
                record.enrollment_id,
                # Translators: a "Recent actions" entry: the access change, then the enrollment.
                _("%(action)s: %(enrollment)s")
                % {
                    "action": record.get_action_display(),
                    "enrollment": enrollment_label(
                        record.enrollment.user.email, record.enrollment.course.title
                    ),
                },
                _("%(action)s (batch %(batch)s)")
                % {"action": record.get_action_display(), "batch": batch_id},
            )
            for record in enrollments.values()
        ]
    else:
        total = AccessChange.objects.filter(batch_id=batch_id).count()
        what = counted(done, total)
        entries = [
            _entry(
                request,
                ContentType.objects.get_for_model(AccessChange),
                records[0].pk,
                # Translators: "Paused 250 enrollments (batch 6f1c2a9e…)": the batch id's start.
                _("%(done)s (batch %(batch)s…)") % {"done": what, "batch": str(batch_id)[:8]},
                _("%(done)s (batch %(batch)s)") % {"done": what, "batch": batch_id},
            )
        ]
    return LogEntry.objects.bulk_create(entries)


def _entry(request, content_type, object_id, text: str, message: str) -> LogEntry:
    return LogEntry(
        user_id=request.user.pk,
        content_type=content_type,
        object_id=str(object_id),
        object_repr=text[:REPR_LENGTH],
        action_flag=CHANGE,
        change_message=message,
    )
