"""Enrollments (course memberships), item completions and the audit trail of access changes."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from enrollments.access_window import MAX_ENDED_AT, MAX_TOTAL_PAUSED_SECONDS
from enrollments.fastpaths.model_loading import LoadedWithoutInit
from enrollments.permissions import CUSTOM
from enrollments.progress import CourseStatus
from lms.models import Course, CourseItem


class Enrollment(LoadedWithoutInit, models.Model):
    """A user's membership of a course: the access window, pause state and progress.

    Access is given while `start_at <= now < ended_at` (a null `ended_at` means indefinite
    access) and the enrollment is not paused. Only the operation core (`enrollments.operations`)
    changes these fields; each change writes an `AccessChange` row in the same transaction.
    """

    id = models.UUIDField(
        primary_key=True, default=uuid.uuid4, editable=False, verbose_name=_("id")
    )
    # No index of their own: enrollment_unique_user_course leads with the user and
    # enrollment_course_created_idx with the course (docs/benchmarks.md, "Indexes").
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="enrollments",
        db_index=False,
        verbose_name=_("user"),
    )
    course = models.ForeignKey(
        Course,
        on_delete=models.CASCADE,
        related_name="enrollments",
        db_index=False,
        verbose_name=_("course"),
    )
    start_at = models.DateTimeField(verbose_name=_("start at"))
    ended_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_("End of access; empty means indefinite access."),
        verbose_name=_("ended at"),
    )
    is_paused = models.BooleanField(default=False, verbose_name=_("is paused"))
    paused_at = models.DateTimeField(null=True, blank=True, verbose_name=_("paused at"))
    total_paused_duration = models.PositiveIntegerField(
        default=0,
        help_text=_("Seconds spent paused, across all pause/resume cycles."),
        verbose_name=_("total paused duration"),
    )
    removed_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_(
            "When the learner was removed from the course: no access, left out of the default "
            "lists; progress and audit trail kept. Enrolling again clears it."
        ),
        verbose_name=_("removed at"),
    )
    # Progress, stored so that SQL can filter, count and index it: kept when an item is
    # completed (progress.completing, under the row lock) and by the recount when a course
    # gains or loses items (progress.counts); `manage.py check_progress` verifies it.
    items_completed = models.PositiveIntegerField(
        default=0,
        editable=False,
        help_text=_("Completed items (stored count of the completions)."),
        verbose_name=_("items completed"),
    )
    course_status = models.CharField(
        max_length=16,
        choices=[(status, status) for status in CourseStatus.CHOICES],
        default=CourseStatus.NOT_STARTED,
        editable=False,
        help_text=_("progress.course_status of items_completed and the course's items, stored."),
        verbose_name=_("course status"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))
    # Apart from updated_at, which a background run bound to its preview compares to skip the
    # rows whose access changed since (a learner who merely progressed is not one of them).
    # The API's `updated_at` is the later of the two.
    progress_updated_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text=_(
            "When the stored progress last changed (an item completed, the items changed)."
        ),
        verbose_name=_("progress updated at"),
    )

    class Meta:
        verbose_name = _("enrollment")
        verbose_name_plural = _("enrollments")
        ordering = ["created_at", "id"]
        permissions = [(permission.codename, permission.label) for permission in CUSTOM]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "course"], name="enrollment_unique_user_course"
            ),
            models.CheckConstraint(
                condition=Q(is_paused=True, paused_at__isnull=False)
                | Q(is_paused=False, paused_at__isnull=True),
                name="enrollment_paused_iff_paused_at",
            ),
            models.CheckConstraint(
                condition=Q(total_paused_duration__gte=0)
                & Q(total_paused_duration__lte=MAX_TOTAL_PAUSED_SECONDS),
                name="enrollment_total_paused_duration_range",
            ),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__lte=MAX_ENDED_AT),
                name="enrollment_ended_at_fits_int32",
            ),
        ]
        indexes = [
            # Keyset pagination walks (created_at, id), alone or within one course; a user's few
            # memberships come from enrollment_unique_user_course and are sorted. The course
            # status (three values, a small deduplicated index) serves its counts and its page
            # when the status is rare; tests/bench/test_query_plans.py shows each one used. It
            # holds only learners not removed from the course, which is what every default list
            # and count asks for (removed_at IS NULL): the index alone answers them.
            models.Index(fields=["created_at", "id"], name="enrollment_created_id_idx"),
            models.Index(
                fields=["course", "created_at", "id"], name="enrollment_course_created_idx"
            ),
            models.Index(
                fields=["course_status"],
                name="enrollment_course_status_idx",
                condition=Q(removed_at__isnull=True),
            ),
            # Expiry reminders, the access report and the ended_before / ended_after filters.
            models.Index(fields=["ended_at"], name="enrollment_ended_at_idx"),
        ]

    def __str__(self) -> str:
        # Readable in admin messages and logs; lists select_related the user and course.
        # Translators: an enrollment, "ann@example.com in python-basics" (e-mail, course slug).
        return gettext("%(email)s in %(course)s") % {
            "email": self.user.email,
            "course": self.course.slug,
        }


class ItemCompletion(models.Model):
    """One completed course item of one enrollment; progress is derived from these rows."""

    id = models.BigAutoField(primary_key=True, verbose_name=_("id"))
    # No index of its own: itemcompletion_unique_enrollment_item leads with the enrollment.
    enrollment = models.ForeignKey(
        Enrollment,
        on_delete=models.CASCADE,
        related_name="completions",
        db_index=False,
        verbose_name=_("enrollment"),
    )
    item = models.ForeignKey(
        CourseItem, on_delete=models.CASCADE, related_name="completions", verbose_name=_("item")
    )
    completed_at = models.DateTimeField(verbose_name=_("completed at"))

    class Meta:
        verbose_name = _("item completion")
        verbose_name_plural = _("item completions")
        constraints = [
            models.UniqueConstraint(
                fields=["enrollment", "item"], name="itemcompletion_unique_enrollment_item"
            ),
        ]

    def __str__(self) -> str:
        return gettext("%(item)s done in %(enrollment)s") % {
            "item": self.item_id,
            "enrollment": self.enrollment_id,
        }


class AccessChange(models.Model):
    """Append-only audit record of one change to an enrollment's access.

    Written by the operation core only, in the same transaction as the change. Nothing in the
    app deletes these rows, and the only update is the learner's data's (enrollments/privacy):
    an erasure or the retention setting blanks `reason`, every other fact stays. An enrollment
    with history cannot be deleted (PROTECT), which keeps the trail whole: deactivate the user
    instead, or erase them.
    """

    class Action(models.TextChoices):
        ENROLL = "enroll", pgettext_lazy("audit action", "Enroll")
        EXTEND = "extend", pgettext_lazy("audit action", "Extend by days")
        SET_END = "set_end", pgettext_lazy("audit action", "Set end date")
        GRANT_INDEFINITE = (
            "grant_indefinite",
            pgettext_lazy("audit action", "Grant indefinite access"),
        )
        PAUSE = "pause", pgettext_lazy("audit action", "Pause")
        RESUME = "resume", pgettext_lazy("audit action", "Resume")
        REMOVE = "remove", pgettext_lazy("audit action", "Remove from course")
        EXPIRE = "expire", pgettext_lazy("audit action", "End access / set an earlier end")
        UNDO = "undo", pgettext_lazy("audit action", "Undo a batch")

    class Source(models.TextChoices):
        ADMIN = "admin", pgettext_lazy("where a change came from", "Admin")
        GRAPHQL = "graphql", pgettext_lazy("where a change came from", "GraphQL API")
        COMMAND = "command", pgettext_lazy("where a change came from", "Management command")
        SYSTEM = "system", pgettext_lazy("where a change came from", "System")

    id = models.UUIDField(
        primary_key=True, default=uuid.uuid4, editable=False, verbose_name=_("id")
    )
    # No index of its own: accesschange_enr_created_idx leads with it (one index fewer to
    # maintain per audit row written). The database constraint is kept (migration 0010; it
    # was dropped for a while, issue 22 put it back): an audit row naming no enrollment is
    # refused by the database, whatever wrote it, not only by the core's convention. Django's
    # PostgreSQL default, DEFERRABLE INITIALLY DEFERRED: checked at commit, as the actor's.
    # Its checks cost about 0.8 s of a bulk extension of 100,000 rows, deferred or immediate
    # (docs/benchmarks.md); tests/lifecycle/test_audit_integrity.py pins it.
    enrollment = models.ForeignKey(
        Enrollment,
        on_delete=models.PROTECT,
        related_name="access_changes",
        db_index=False,
        verbose_name=_("enrollment"),
    )
    action = models.CharField(max_length=32, choices=Action.choices, verbose_name=_("action"))
    old_ended_at = models.DateTimeField(null=True, blank=True, verbose_name=_("old ended at"))
    new_ended_at = models.DateTimeField(null=True, blank=True, verbose_name=_("new ended at"))
    old_is_paused = models.BooleanField(null=True, blank=True, verbose_name=_("old is paused"))
    new_is_paused = models.BooleanField(null=True, blank=True, verbose_name=_("new is paused"))
    paused_seconds = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text=_("On resume: the seconds this pause lasted."),
        verbose_name=_("paused seconds"),
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Who made the change; empty for the system."),
        verbose_name=_("actor"),
    )
    source = models.CharField(max_length=16, choices=Source.choices, verbose_name=_("source"))
    reason = models.TextField(blank=True, verbose_name=_("reason"))
    batch_id = models.UUIDField(
        null=True,
        blank=True,
        help_text=_("Shared by the rows of one bulk operation."),
        verbose_name=_("batch id"),
    )
    created_at = models.DateTimeField(verbose_name=_("created at"))
    # The rest of the state before the change (old_ended_at and old_is_paused above are the
    # rest): what undoing its batch restores. Null on rows that created their enrollment and
    # on rows written before these columns existed (such a batch cannot be undone).
    old_paused_at = models.DateTimeField(null=True, blank=True, verbose_name=_("old paused at"))
    old_total_paused_duration = models.PositiveBigIntegerField(
        null=True, blank=True, verbose_name=_("old total paused duration")
    )
    old_removed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("old removed at"))
    undoes_batch_id = models.UUIDField(
        null=True,
        blank=True,
        help_text=_("On an undo: the batch this row's batch undoes."),
        verbose_name=_("undoes batch id"),
    )

    class Meta:
        verbose_name = _("access change")
        verbose_name_plural = _("access changes")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["enrollment", "-created_at"], name="accesschange_enr_created_idx"),
            models.Index(fields=["batch_id"], name="accesschange_batch_idx"),
        ]

    def __str__(self) -> str:
        # Translators: an audit row, "Extend by days on <enrollment id>".
        return gettext("%(action)s on %(enrollment)s") % {
            "action": self.get_action_display(),
            "enrollment": self.enrollment_id,
        }


class ExpiryReminder(models.Model):
    """A reminder e-mail to a learner before their access ends: claimed, then sent by a job.

    Unique per enrollment and end date: running the sweep again claims nothing new, and an
    extension (a new `ended_at`) re-arms it. The row is the reminder's state machine
    (enrollments/reminders.py): the sweep inserts it `pending`, a send job moves it to
    `sending` (no lock held while the mail server is talked to), then `sent`, or back to
    `pending` with a later `next_attempt_at` when the mail server failed, and `failed` after
    REMINDERS["MAX_ATTEMPTS"] tries. A reminder no longer due when its job runs is deleted.
    """

    class State(models.TextChoices):
        PENDING = "pending", pgettext_lazy("reminder state", "waiting for its send job")
        SENDING = "sending", pgettext_lazy("reminder state", "being sent")
        SENT = "sent", pgettext_lazy("reminder state", "sent")
        FAILED = "failed", pgettext_lazy("reminder state", "failed for good")

    id = models.BigAutoField(primary_key=True, verbose_name=_("id"))
    # No index of its own: expiryreminder_unique_enrollment_end leads with it.
    enrollment = models.ForeignKey(
        Enrollment,
        on_delete=models.CASCADE,
        related_name="reminders",
        db_index=False,
        verbose_name=_("enrollment"),
    )
    ended_at = models.DateTimeField(
        help_text=_("The end of access this reminder announced."), verbose_name=_("ended at")
    )
    state = models.CharField(
        max_length=7, choices=State.choices, default=State.PENDING, verbose_name=_("state")
    )
    claimed_at = models.DateTimeField(
        help_text=_("When a sweep claimed it."), verbose_name=_("claimed at")
    )
    attempts = models.PositiveSmallIntegerField(
        default=0,
        help_text=_("Sends tried (the mail server reached or not)."),
        verbose_name=_("attempts"),
    )
    next_attempt_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_("Pending: when its send job is due."),
        verbose_name=_("next attempt at"),
    )
    last_attempt_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_("When the latest send began."),
        verbose_name=_("last attempt at"),
    )
    last_error = models.TextField(blank=True, default="", verbose_name=_("last error"))
    sent_at = models.DateTimeField(null=True, blank=True, verbose_name=_("sent at"))

    class Meta:
        verbose_name = _("expiry reminder")
        verbose_name_plural = _("expiry reminders")
        constraints = [
            models.UniqueConstraint(
                fields=["enrollment", "ended_at"], name="expiryreminder_unique_enrollment_end"
            ),
        ]
        indexes = [
            # The sweep's look for stalled and failed reminders reads only the unsent ones: a
            # handful, however many reminders were sent over the years.
            models.Index(
                fields=["state"],
                name="expiryreminder_unsent_idx",
                condition=~Q(state="sent"),
            ),
        ]

    def __str__(self) -> str:
        return gettext("reminder for %(enrollment)s ending %(day)s") % {
            "enrollment": self.enrollment_id,
            "day": f"{self.ended_at:%Y-%m-%d}",
        }


class OperationRun(models.Model):
    """An operation applied to a large selection in chunks, by a job or a command, resumable
    after any crash (enrollments/operations/runs.py holds the rules; this is their state).

    The selection is written down when the run is created, as `OperationRunChunk` rows, and
    each chunk's changes, audit rows and its being done commit in one transaction: a run killed
    at any point resumes with the chunks not done, and every row is changed at most once, with
    one audit row. All chunks share `batch_id`, so "Undo this
    batch" undoes the whole run.
    """

    class State(models.TextChoices):
        PREVIEWED = "previewed", pgettext_lazy("run state", "previewed, not confirmed")
        QUEUED = "queued", pgettext_lazy("run state", "queued")
        RUNNING = "running", pgettext_lazy("run state", "running")
        DONE = "done", pgettext_lazy("run state", "done")
        CANCELLED = "cancelled", pgettext_lazy("run state", "cancelled")
        FAILED = "failed", pgettext_lazy("run state", "failed")

    id = models.UUIDField(
        primary_key=True, default=uuid.uuid4, editable=False, verbose_name=_("id")
    )
    #: The operations and how their selections were made (runs.Part, as JSON).
    parts = models.JSONField(verbose_name=_("parts"))
    description = models.TextField(
        help_text=_("The operation in words."), verbose_name=_("description")
    )
    state = models.CharField(
        max_length=9, choices=State.choices, default=State.QUEUED, verbose_name=_("state")
    )
    #: Whether rows changed since the preview are skipped (an admin Confirm) or not (a command).
    bound_to_preview = models.BooleanField(default=False, verbose_name=_("bound to preview"))
    #: Bound to its preview: the ids (as text) of its rows' courses that froze access during
    #: pauses when the preview read them. A course changed since decides differently (a resume
    #: moves the end or not) from one row to the next, which `updated_at` does not show.
    #: Null for a run not bound to a preview, and for one written before this was recorded.
    freezing_courses = models.JSONField(
        null=True, blank=True, verbose_name=_("courses freezing access when previewed")
    )
    #: What makes two runs the same request (a command's run): one of them may be unfinished
    #: at a time. Empty for runs that are never compared (the admin's).
    identity = models.CharField(max_length=64, blank=True, default="", verbose_name=_("identity"))
    batch_id = models.UUIDField(
        default=uuid.uuid4, help_text=_("Its audit rows' batch."), verbose_name=_("batch id")
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("actor"),
    )
    source = models.CharField(
        max_length=16, choices=AccessChange.Source.choices, verbose_name=_("source")
    )
    reason = models.TextField(blank=True, verbose_name=_("reason"))
    total = models.PositiveIntegerField(default=0, verbose_name=_("total"))
    changed = models.PositiveIntegerField(default=0, verbose_name=_("changed"))
    skipped = models.PositiveIntegerField(default=0, verbose_name=_("skipped"))
    unchanged = models.PositiveIntegerField(default=0, verbose_name=_("unchanged"))
    cancel_requested = models.BooleanField(default=False, verbose_name=_("cancel requested"))
    #: The latest job queued for it (a django-tasks result id): the sweep queues no second
    #: job while that one still waits for a worker.
    job_id = models.CharField(max_length=64, blank=True, default="", verbose_name=_("job id"))
    error = models.TextField(blank=True, default="", verbose_name=_("error"))
    created_at = models.DateTimeField(verbose_name=_("created at"))
    started_at = models.DateTimeField(null=True, blank=True, verbose_name=_("started at"))
    #: When a runner last committed a chunk or took the run: a running run whose heartbeat is
    #: old lost its runner (a worker killed) and is queued again by the sweep.
    heartbeat_at = models.DateTimeField(null=True, blank=True, verbose_name=_("heartbeat at"))
    finished_at = models.DateTimeField(null=True, blank=True, verbose_name=_("finished at"))

    class Meta:
        verbose_name = _("operation run")
        verbose_name_plural = _("operation runs")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["identity"],
                condition=Q(finished_at__isnull=True) & ~Q(identity=""),
                name="operationrun_one_unfinished_identity",
            ),
        ]
        indexes = [
            models.Index(
                fields=["state"],
                name="operationrun_unfinished_idx",
                condition=Q(finished_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.description} ({self.get_state_display()})"

    @property
    def done(self) -> int:
        return self.changed + self.skipped + self.unchanged


class OperationRunChunk(models.Model):
    """A run's selection written down, one chunk of enrollments a row: the ids in key order, the
    `updated_at` each had when written down (a run bound to its preview skips a row whose
    `updated_at` moved), and, once the chunk committed, its counts and skipped rows.

    One row per chunk, not per enrollment: a "select all" of a million enrollments is 500 rows
    of packed ids to write and 500 to mark done, where one row per enrollment cost a million
    index entries to write and a million outcome UPDATEs to apply (issue 23's benchmark:
    14.6 s to write down, 11.35x the bare UPDATE to apply). The packing is
    operations/run_chunks.py's; nothing else reads `ids` or `stamps`."""

    pk = models.CompositePrimaryKey("run_id", "seq")
    # No index of its own: the primary key leads with it.
    run = models.ForeignKey(
        OperationRun,
        on_delete=models.CASCADE,
        related_name="chunks",
        db_index=False,
        verbose_name=_("run"),
    )
    #: The order chunks are applied in (by part, then key).
    seq = models.PositiveIntegerField(verbose_name=_("sequence"))
    part = models.PositiveSmallIntegerField(default=0, verbose_name=_("part"))
    size = models.PositiveIntegerField(verbose_name=_("size"))
    #: The enrollments' ids in key order, 16 bytes each.
    ids = models.BinaryField(verbose_name=_("ids"))
    #: Each one's `updated_at` when written down: microseconds since the epoch, 8 bytes each.
    stamps = models.BinaryField(verbose_name=_("stamps"))
    done = models.BooleanField(default=False, verbose_name=_("done"))
    changed = models.PositiveIntegerField(default=0, verbose_name=_("changed"))
    skipped = models.PositiveIntegerField(default=0, verbose_name=_("skipped"))
    unchanged = models.PositiveIntegerField(default=0, verbose_name=_("unchanged"))
    #: The skipped rows: [[enrollment id, the DomainError's code], ...] in key order.
    skips = models.JSONField(default=list, blank=True, verbose_name=_("skips"))

    class Meta:
        verbose_name = _("operation run chunk")
        verbose_name_plural = _("operation run chunks")
        indexes = [
            # The next chunk: a run's first pending one.
            models.Index(
                fields=["run", "seq"],
                name="operationrunchunk_pending_idx",
                condition=Q(done=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.run_id} #{self.seq}: {self.size}"


class AccessEvent(models.Model):
    """An event for other systems: one change to a membership, recorded in the transaction of
    the change (the operation core's, next to its audit row; progress's; the clock sweep's), so
    no change commits without its event and no event exists for a change that rolled back.
    Webhook endpoints get it through WebhookDelivery rows (enrollments/events/).

    `id` is the per-membership sequence number receivers order by: every event of a membership
    is written while its row lock is held, so a later event of one membership always has a
    greater id. `event_id` is the receivers' deduplication key, the same on every redelivery.
    """

    class EventType(models.TextChoices):
        CREATED = "course_membership.created", pgettext_lazy("event type", "created")
        UPDATED = "course_membership.updated", pgettext_lazy("event type", "updated")
        DELETED = "course_membership.deleted", pgettext_lazy("event type", "deleted")

    id = models.BigAutoField(primary_key=True, verbose_name=_("id"))
    event_id = models.UUIDField(
        unique=True, default=uuid.uuid4, editable=False, verbose_name=_("event id")
    )
    # No index of its own: accessevent_enrollment_idx leads with it.
    enrollment = models.ForeignKey(
        Enrollment,
        on_delete=models.PROTECT,
        related_name="events",
        db_index=False,
        verbose_name=_("enrollment"),
    )
    event_type = models.CharField(
        max_length=32, choices=EventType.choices, verbose_name=_("event type")
    )
    #: What happened: an audit action (extend, pause, ...), access_started, access_ended or
    #: progress.
    action = models.CharField(max_length=32, verbose_name=_("action"))
    #: The API's names of the fields that changed (Healthie's `changed_fields`).
    changed_fields = models.JSONField(default=list, verbose_name=_("changed fields"))
    batch_id = models.UUIDField(null=True, blank=True, verbose_name=_("batch id"))
    occurred_at = models.DateTimeField(verbose_name=_("occurred at"))
    #: A clock event's instant (the start_at or ended_at that passed): with the enrollment and
    #: the action, unique, so every sweep on every server records a transition once.
    instant = models.DateTimeField(null=True, blank=True, verbose_name=_("instant"))
    #: Whether its deliveries were created (events/fan_out.py takes the others).
    fanned_out = models.BooleanField(default=False, verbose_name=_("fanned out"))

    class Meta:
        verbose_name = _("access event")
        verbose_name_plural = _("access events")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["enrollment", "action", "instant"],
                condition=Q(instant__isnull=False),
                name="accessevent_one_per_clock_instant",
            ),
        ]
        indexes = [
            models.Index(fields=["enrollment", "id"], name="accessevent_enrollment_idx"),
            models.Index(fields=["occurred_at"], name="accessevent_occurred_idx"),
            models.Index(
                fields=["id"], name="accessevent_unfanned_idx", condition=Q(fanned_out=False)
            ),
        ]

    def __str__(self) -> str:
        # Translators: an event, "course_membership.updated extend of <enrollment id>".
        return gettext("%(event_type)s %(action)s of %(enrollment)s") % {
            "event_type": self.event_type,
            "action": self.action,
            "enrollment": self.enrollment_id,
        }


class WebhookEndpoint(models.Model):
    """A URL that receives the events (Healthie's `Webhook`): which event types, signed how,
    retried or not. The secret signs every delivery; during a rotation the previous one signs
    too until `previous_secret_expires_at`."""

    class Scheme(models.TextChoices):
        STANDARD = (
            "standard",
            pgettext_lazy(
                "signature scheme", "Standard Webhooks (webhook-id, -timestamp, -signature)"
            ),
        )
        HEALTHIE = (
            "healthie",
            pgettext_lazy(
                "signature scheme", "Healthie (Content-Digest, Signature-Input, Signature)"
            ),
        )

    id = models.BigAutoField(primary_key=True, verbose_name=_("id"))
    url = models.URLField(max_length=2048, verbose_name=_("url"))
    description = models.CharField(
        max_length=200, blank=True, default="", verbose_name=_("description")
    )
    scheme = models.CharField(
        max_length=8, choices=Scheme.choices, default=Scheme.STANDARD, verbose_name=_("scheme")
    )
    #: The event types it receives (AccessEvent.EventType values); empty: every one.
    event_types = models.JSONField(default=list, blank=True, verbose_name=_("event types"))
    is_enabled = models.BooleanField(default=True, verbose_name=_("is enabled"))
    should_retry = models.BooleanField(default=True, verbose_name=_("should retry"))
    secret = models.CharField(max_length=200, verbose_name=_("secret"))
    previous_secret = models.CharField(
        max_length=200, blank=True, default="", verbose_name=_("previous secret")
    )
    previous_secret_expires_at = models.DateTimeField(
        null=True, blank=True, verbose_name=_("previous secret expires at")
    )
    #: Who is told when deliveries keep failing (a day) and when it is disabled (three days).
    owner_email = models.EmailField(blank=True, default="", verbose_name=_("owner email"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(verbose_name=_("created at"))
    updated_at = models.DateTimeField(verbose_name=_("updated at"))
    #: When the endpoint's next delivery job is queued to run (its earliest retry): a job that
    #: runs out of due work queues the next one only when none is queued for that time or
    #: earlier (events/delivery.py: one follow-up chain per endpoint, however many jobs ran).
    next_job_at = models.DateTimeField(null=True, blank=True, verbose_name=_("next job at"))
    #: When the owner was warned of failures, when it was disabled and why (Healthie's).
    warned_at = models.DateTimeField(null=True, blank=True, verbose_name=_("warned at"))
    disabled_at = models.DateTimeField(null=True, blank=True, verbose_name=_("disabled at"))
    disabled_reason = models.CharField(
        max_length=200, blank=True, default="", verbose_name=_("disabled reason")
    )

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(models.Model):
    """One event to one endpoint, delivered at least once: `pending` until a 2xx answer
    (`delivered`), retried with backoff, `failed` for good after the retry window (or at once
    without retries), `cancelled` when its endpoint was disabled or deleted."""

    class State(models.TextChoices):
        PENDING = "pending", pgettext_lazy("delivery state", "pending")
        SENDING = "sending", pgettext_lazy("delivery state", "being sent")
        DELIVERED = "delivered", pgettext_lazy("delivery state", "delivered")
        FAILED = "failed", pgettext_lazy("delivery state", "failed for good")
        CANCELLED = "cancelled", pgettext_lazy("delivery state", "cancelled")

    id = models.BigAutoField(primary_key=True, verbose_name=_("id"))
    endpoint = models.ForeignKey(
        WebhookEndpoint,
        on_delete=models.CASCADE,
        related_name="deliveries",
        db_index=False,
        verbose_name=_("endpoint"),
    )
    event = models.ForeignKey(
        AccessEvent, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("event")
    )
    state = models.CharField(
        max_length=9, choices=State.choices, default=State.PENDING, verbose_name=_("state")
    )
    attempts = models.PositiveIntegerField(default=0, verbose_name=_("attempts"))
    created_at = models.DateTimeField(verbose_name=_("created at"))
    next_attempt_at = models.DateTimeField(verbose_name=_("next attempt at"))
    last_attempt_at = models.DateTimeField(null=True, blank=True, verbose_name=_("last attempt at"))
    delivered_at = models.DateTimeField(null=True, blank=True, verbose_name=_("delivered at"))
    last_status = models.PositiveSmallIntegerField(
        null=True, blank=True, verbose_name=_("last status")
    )
    last_error = models.TextField(blank=True, default="", verbose_name=_("last error"))

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        constraints = [
            # Fanning out twice (two workers, a redelivered job) creates nothing twice.
            models.UniqueConstraint(fields=["endpoint", "event"], name="webhookdelivery_unique"),
        ]
        indexes = [
            # An endpoint's due deliveries, oldest event first.
            models.Index(
                fields=["endpoint", "next_attempt_at", "event"],
                name="webhookdelivery_due_idx",
                condition=Q(state__in=["pending", "sending"]),
            ),
        ]

    def __str__(self) -> str:
        # Translators: a webhook delivery, "<event id> to <endpoint id>: pending".
        return gettext("%(event)s to %(endpoint)s: %(state)s") % {
            "event": self.event_id,
            "endpoint": self.endpoint_id,
            "state": self.state,
        }


class WebhookAttempt(models.Model):
    """One try of a delivery, for the delivery log: when, the answer's status (none when no
    answer came), how long it took and the error."""

    id = models.BigAutoField(primary_key=True, verbose_name=_("id"))
    delivery = models.ForeignKey(
        WebhookDelivery, on_delete=models.CASCADE, related_name="tries", verbose_name=_("delivery")
    )
    attempted_at = models.DateTimeField(verbose_name=_("attempted at"))
    status = models.PositiveSmallIntegerField(null=True, blank=True, verbose_name=_("status"))
    latency_ms = models.PositiveIntegerField(default=0, verbose_name=_("latency ms"))
    error = models.TextField(blank=True, default="", verbose_name=_("error"))

    class Meta:
        verbose_name = _("webhook attempt")
        verbose_name_plural = _("webhook attempts")
        ordering = ["-attempted_at"]

    def __str__(self) -> str:
        # Translators: a delivery's try, "<delivery id> at <instant>: 500".
        return gettext("%(delivery)s at %(when)s: %(answer)s") % {
            "delivery": self.delivery_id,
            "when": self.attempted_at,
            "answer": self.status or self.error,
        }


class Erasure(models.Model):
    """The audit record of an erasure of personal data (enrollments/privacy): a learner
    pseudonymised (`erase_learner`, the admin's "Erase learner"), or the audit reasons older
    than AUDIT_REASON_RETENTION_DAYS blanked by the sweep.

    It names people by id only, so that it outlives what it erased without undoing it: the
    learner's id stays a plain column (no database constraint: the record survives the
    account), the actor is kept as the audit rows keep theirs. `counts` says what was erased
    and what was kept, by name (privacy.erasure.Counts)."""

    class Kind(models.TextChoices):
        LEARNER = "learner", pgettext_lazy("erasure kind", "learner erased")
        RETENTION = "retention", pgettext_lazy("erasure kind", "old reasons blanked")

    id = models.UUIDField(
        primary_key=True, default=uuid.uuid4, editable=False, verbose_name=_("id")
    )
    kind = models.CharField(max_length=9, choices=Kind.choices, verbose_name=_("kind"))
    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        help_text=_("Whom it erased (a learner erasure); kept as an id if the account goes."),
        verbose_name=_("learner"),
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_(
            "Who erased; empty for the system (the retention sweep) and for commands "
            "run without --actor."
        ),
        verbose_name=_("actor"),
    )
    source = models.CharField(
        max_length=16, choices=AccessChange.Source.choices, verbose_name=_("source")
    )
    performed_at = models.DateTimeField(verbose_name=_("performed at"))
    counts = models.JSONField(
        default=dict, help_text=_("What was erased and kept, by name."), verbose_name=_("counts")
    )

    class Meta:
        verbose_name = _("erasure")
        verbose_name_plural = _("erasures")
        ordering = ["-performed_at"]
        indexes = [
            # The sweep's "when did the retention last run" (one row a day at most).
            models.Index(fields=["kind", "performed_at"], name="erasure_kind_performed_idx"),
        ]

    def __str__(self) -> str:
        # Translators: an erasure record, "learner erased at 2026-03-01T12:00:00Z".
        return gettext("%(kind)s at %(when)s") % {
            "kind": self.get_kind_display(),
            "when": f"{self.performed_at:%Y-%m-%dT%H:%M:%SZ}",
        }
