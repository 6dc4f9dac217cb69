"""Expiry reminders: one e-mail per enrollment and end date, claimed by a sweep and sent by a
job, with no row lock held while the mail server is talked to.

Each reminder is an `ExpiryReminder` row (unique per enrollment and end date), a small state
machine:

    sweep: claim  ->  pending  --send job-->  sending  -->  sent
                         ^                       |
                         +-- retry, backoff -----+-->  failed (after MAX_ATTEMPTS tries)

- **The sweep** (`sweep`: `manage.py notify_expiring`, from cron on every app server, or the
  `sweep_expiry_reminders` job) lists the enrollments due a reminder
  (selectors.expiry.enrollments_due_expiry_reminder), then claims them by chunks, each chunk in
  one short transaction: the enrollments are locked `FOR UPDATE SKIP LOCKED` (a learner being
  changed right now is left for the next sweep, never waited for), re-read with the filter, and
  a `pending` row is inserted for each, the enrollment's end date as it is under the lock. The
  row's unique index settles two sweeps racing for one learner (the loser counts it as claimed
  meanwhile). After the commit (`transaction.on_commit`) one send job per reminder is queued.
- **The send job** (`send`, run by `db_worker`) moves the row from `pending` to `sending` in a
  short transaction that locks only the reminder row and re-reads the enrollment without a lock:
  a reminder no longer due (the end moved, paused, removed, the user made inactive, the access
  over) is deleted instead, which re-arms it (a paused learner is reminded once resumed; an
  extension's new end is claimed by the next sweep). Then the e-mail goes out with no
  transaction open: an extension or a pause of that learner never waits for the mail server
  (tests/jobs/test_stalled_mail_server.py). Then one UPDATE marks it `sent`, only while it is
  still `pending` or `sending`.
- **Retries**: django-tasks has none, so they are the row's: a delivery failure (SENDING_ERRORS:
  the mail server down, refusing, too slow for EMAIL_TIMEOUT) puts the row back to `pending`
  with `next_attempt_at` = now + `retry_delay(tries)` (exponential, with jitter; the REMINDERS
  setting) and queues the same job again with `run_after` at that instant. After
  REMINDERS["MAX_ATTEMPTS"] tries the row is `failed`, logged at ERROR, and listed by every
  sweep (stderr, exit 1) until its end date passes or `notify_expiring --retry-failed` queues it
  again. Any other error (an address Django will not put in a header, a bug) is a fault of the
  row: it is logged at ERROR with its traceback, the claim is deleted (the next sweep tries
  again) and the job fails with it, so the task's result shows the traceback too.
- **Nothing is lost when a job is**: a job that was never queued (the database gone right after
  the claim's commit), never run (no worker) or killed half-way leaves its row `pending` or
  `sending`; every sweep queues again the rows that have not moved for REMINDERS
  ["STALLED_SECONDS"] (pending past their `next_attempt_at`, sending since their last attempt
  began). Two jobs of one reminder are harmless: the second finds it no longer `pending`.
- **Sent once**: only the job that moved the row to `sending` sends. The one window is a worker
  that dies after the mail server accepted the message and before the `sent` UPDATE: the row
  stays `sending`, the sweep gives it back after STALLED_SECONDS, and the learner gets the
  reminder twice. A duplicate in that rare case is better than a reminder lost for good.
- **Stale dates**: the end date is checked when the attempt begins, not held under a lock
  during the send: an extension committed during those seconds is not in that e-mail (it was
  true when the send began); its new end is reminded by the next sweep.
- Titles and names go into the message on one line (lms.control_characters.single_line), so a
  title stored with a line break is mailed, not refused by Django's header check.
"""

import logging
import secrets
import smtplib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from functools import partial

from django.conf import settings
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext

from enrollments import clock
from enrollments.access_window import MAX_WINDOW_DAYS
from enrollments.instants import instant_text, zone_of
from enrollments.models import Enrollment, ExpiryReminder
from enrollments.rules import AccessState
from enrollments.selectors.access import access_state_q
from enrollments.selectors.expiry import enrollments_due_expiry_reminder
from lms.batching import chunked
from lms.control_characters import single_line
from lms.language import language_of

logger = logging.getLogger(__name__)

State = ExpiryReminder.State

#: Enrollments claimed per transaction of the sweep.
REMINDER_CHUNK = 200

#: What a failed delivery raises (the mail server down, refusing, or silent past EMAIL_TIMEOUT):
#: the message itself was fine, a later try will likely get it through. Anything else a send
#: raises is a fault of the row (or of the code) and is logged with its traceback.
SENDING_ERRORS: tuple[type[Exception], ...] = (smtplib.SMTPException, OSError)

_random = secrets.SystemRandom()


@dataclass(slots=True)
class Sweep:
    """What one sweep did."""

    #: Claimed now, a send job queued for each (with their enrollment, user and course).
    queued: list[ExpiryReminder] = field(default_factory=list)
    #: Claimed meanwhile by another sweep: nothing queued here. As this sweep read them.
    already_claimed: list[Enrollment] = field(default_factory=list)
    #: Locked by a change when the sweep reached them: left for the next sweep, not waited for.
    busy: list[Enrollment] = field(default_factory=list)
    #: Stalled (their job lost, never run, or killed mid-send): queued again.
    requeued: list[ExpiryReminder] = field(default_factory=list)
    #: Failed for good, their end still ahead: each sweep lists them until retried or past.
    failed: list[ExpiryReminder] = field(default_factory=list)


class SendOutcome(StrEnum):
    """What one send job did."""

    SENT = "sent"
    #: The mail server failed; the row is pending again and the job queued at its next try.
    RETRY_SCHEDULED = "retry_scheduled"
    #: The mail server failed the last allowed try: the row is failed, logged at ERROR.
    FAILED = "failed"
    #: The end moved, paused, removed, the user inactive or the access over: row deleted.
    NO_LONGER_DUE = "no_longer_due"
    #: Not pending (sent, being sent by another job, failed, or gone): nothing done.
    NOT_PENDING = "not_pending"


def expiry_reminder_message(enrollment: Enrollment, *, connection=None) -> mail.EmailMessage:
    """The reminder e-mail: the course, the end of access and who to ask for more, written in
    the learner's language (`User.language`; LANGUAGE_CODE when they have none or one no longer
    offered: lms.language.language_of), whatever language the sending job runs in."""
    with translation.override(language_of(enrollment.user)):
        subject, body = reminder_text(enrollment)
    return mail.EmailMessage(
        subject=subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[enrollment.user.email],
        connection=connection,
    )


def reminder_text(enrollment: Enrollment) -> tuple[str, str]:
    """The reminder's subject and body, in the active language (expiry_reminder_message
    activates the learner's).

    The end is in the learner's own zone (`User.time_zone`; UTC, named, when they have none or
    an unknown one: issue 26), written as the admin writes instants (`instants.instant_text`:
    `2036-03-01 at 14:00 CET`), the zone's name after it when it is not UTC, so a learner reads the
    day and hour their access ends where they are. The subject's day is that zone's day.

    The title and the name are stored text that may predate the course form's refusal of control
    characters: rendered on one line, so no line break reaches the subject (Django would refuse
    the message with BadHeaderError) and the body's sentence stays whole."""
    zone = zone_of(enrollment.user.time_zone)
    ends = enrollment.ended_at.astimezone(zone)
    day, time_and_zone = instant_text(ends, zone).split(" ", 1)
    # Translators: when access ends, e.g. "2036-03-01 at 14:00 CET".
    when = gettext("%(day)s at %(time)s") % {"day": day, "time": time_and_zone}
    if zone.key != "UTC":
        when = f"{when} ({zone.key})"
    title = single_line(enrollment.course.title)
    subject = gettext("Your access to %(title)s ends on %(day)s") % {
        "title": title,
        "day": f"{ends:%Y-%m-%d}",
    }
    first_name = single_line(enrollment.user.first_name)
    greeting = (
        gettext("Hello %(first_name)s,") % {"first_name": first_name}
        if first_name
        else gettext("Hello,")
    )
    # Translators: the sentence after the greeting ("Hello Ann,"), hence its lower-case start.
    ends_sentence = gettext('your access to the course "%(title)s" ends on %(when)s.') % {
        "title": title,
        "when": when,
    }
    closing = gettext(
        "If you need more time, reply to this e-mail or contact your course administrator."
    )
    return subject, f"{greeting}\n\n{ends_sentence}\n\n{closing}\n"


def retry_delay(tries: int) -> timedelta:
    """The wait before the next try after `tries` failed ones: RETRY_BASE_SECONDS doubled per
    try, at most RETRY_MAX_SECONDS, drawn between its half and its whole ("equal jitter": a mail
    server back after an outage is not hit by every reminder at the same second, and no wait is
    shorter than half the schedule)."""
    base = settings.REMINDERS["RETRY_BASE_SECONDS"]
    ceiling = min(settings.REMINDERS["RETRY_MAX_SECONDS"], base * 2 ** max(tries - 1, 0))
    return timedelta(seconds=_random.uniform(ceiling / 2, ceiling))


# -- the sweep -----------------------------------------------------------------------------


def window_of_days(days: int) -> timedelta:
    """The sweep's window of `days` (a job's argument, queued by a scheduler or by hand):
    ValueError when it is not a whole number from 1 to access_window.MAX_WINDOW_DAYS, before a
    timedelta of a billion days overflows."""
    if type(days) is not int or not 1 <= days <= MAX_WINDOW_DAYS:
        raise ValueError(f"within must be from 1 to {MAX_WINDOW_DAYS} days, not {days!r}")
    return timedelta(days=days)


def sweep(*, within: timedelta) -> Sweep:
    """Claims a reminder for every learner whose access ends within `within` and who has not
    been reminded of that end date, queues a send job for each after its claim commits, and
    queues again the stalled reminders. Safe on every app server at once.

    Raises ValueError, before anything is written, for a window that is not from one day to
    access_window.MAX_WINDOW_DAYS (a job queued by hand: the command refuses it as usage)."""
    if not timedelta(days=1) <= within <= timedelta(days=MAX_WINDOW_DAYS):
        raise ValueError(f"within must be from 1 to {MAX_WINDOW_DAYS} days, not {within}")
    at = clock.now()
    result = Sweep()
    _requeue_stalled(at, result)
    due = enrollments_due_expiry_reminder(within=within, at=at)
    for chunk in chunked(list(due.values_list("pk", flat=True)), REMINDER_CHUNK):
        _claim_chunk(due, chunk, at, result)
    result.failed = list(
        ExpiryReminder.objects.filter(state=State.FAILED, ended_at__gt=at)
        .select_related("enrollment__user", "enrollment__course")
        .order_by("ended_at", "pk")
    )
    return result


def _claim_chunk(due, chunk: list, at: datetime, result: Sweep) -> None:
    """One short transaction: the chunk's enrollments locked (those a change holds are skipped),
    re-read with the filter, a pending reminder inserted for each; the jobs queued on commit."""
    with transaction.atomic():
        locked = list(
            due.filter(pk__in=chunk)
            .select_related("user", "course")
            .select_for_update(skip_locked=True, of=("self",))
        )
        missing = set(chunk) - {enrollment.pk for enrollment in locked}
        if missing:  # locked by a change (still due), or no longer due (not reported)
            result.busy.extend(due.filter(pk__in=missing).select_related("user", "course"))
        for enrollment in locked:
            try:
                with transaction.atomic():
                    reminder = ExpiryReminder.objects.create(
                        enrollment=enrollment,
                        ended_at=enrollment.ended_at,
                        state=State.PENDING,
                        claimed_at=at,
                        next_attempt_at=at,
                    )
            except IntegrityError:  # another sweep claimed it since this one read the learner
                result.already_claimed.append(enrollment)
                continue
            result.queued.append(reminder)
            transaction.on_commit(partial(_queue_send, reminder.pk), robust=True)


def _requeue_stalled(at: datetime, result: Sweep) -> None:
    """Queues again the reminders whose job has not moved them for STALLED_SECONDS."""
    before = at - timedelta(seconds=settings.REMINDERS["STALLED_SECONDS"])
    with transaction.atomic():
        stalled = list(
            ExpiryReminder.objects.filter(
                Q(state=State.PENDING, next_attempt_at__lte=before)
                | Q(state=State.SENDING, last_attempt_at__lte=before)
            )
            .select_related("enrollment__user", "enrollment__course")
            .select_for_update(skip_locked=True, of=("self",))
            .order_by("pk")
        )
        for reminder in stalled:
            if reminder.state == State.SENDING:
                logger.warning(
                    "expiry reminder %s: its send began at %s and never finished (a worker "
                    "killed?): queued again; it may reach the learner twice",
                    reminder.pk,
                    reminder.last_attempt_at,
                )
            reminder.state = State.PENDING
            reminder.next_attempt_at = at
            reminder.save(update_fields=["state", "next_attempt_at"])
            transaction.on_commit(partial(_queue_send, reminder.pk), robust=True)
    result.requeued = stalled


def retry_failed() -> list[ExpiryReminder]:
    """Gives the failed reminders whose end is still ahead a fresh set of tries."""
    at = clock.now()
    with transaction.atomic():
        failed = list(
            ExpiryReminder.objects.filter(state=State.FAILED, ended_at__gt=at)
            .select_related("enrollment__user", "enrollment__course")
            .select_for_update(of=("self",))
            .order_by("ended_at", "pk")
        )
        for reminder in failed:
            reminder.state = State.PENDING
            reminder.attempts = 0
            reminder.next_attempt_at = at
            reminder.save(update_fields=["state", "attempts", "next_attempt_at"])
            transaction.on_commit(partial(_queue_send, reminder.pk), robust=True)
    return failed


def _queue_send(reminder_id: int, run_after: datetime | None = None) -> None:
    """Queues the send job of one reminder (after the commit that made it pending)."""
    from enrollments.jobs.reminders import send_expiry_reminder  # the job imports this module

    job = (
        send_expiry_reminder
        if run_after is None
        else send_expiry_reminder.using(run_after=run_after)
    )
    job.enqueue(reminder_id)


# -- the send job ----------------------------------------------------------------------------


def send(reminder_id: int, *, connection: BaseEmailBackend | None = None) -> SendOutcome:
    """Sends one claimed reminder, if it is still pending and due; the send job's body."""
    begun = _begin_attempt(reminder_id)
    if isinstance(begun, SendOutcome):
        return begun
    reminder = begun
    try:
        expiry_reminder_message(reminder.enrollment, connection=connection).send(
            fail_silently=False
        )
    except SENDING_ERRORS as error:
        return _attempt_failed(reminder, error)
    except Exception:
        logger.exception(
            "expiry reminder %s for enrollment %s failed, skipped (tried again next run)",
            reminder.pk,
            reminder.enrollment_id,
        )
        ExpiryReminder.objects.filter(
            pk=reminder.pk, state=State.SENDING, attempts=reminder.attempts
        ).delete()
        raise
    marked = ExpiryReminder.objects.filter(
        pk=reminder.pk, state__in=[State.PENDING, State.SENDING]
    ).update(state=State.SENT, sent_at=clock.now(), next_attempt_at=None, last_error="")
    if not marked:
        logger.warning("expiry reminder %s was sent, but had left its send meanwhile", reminder.pk)
    return SendOutcome.SENT


def _begin_attempt(reminder_id: int) -> ExpiryReminder | SendOutcome:
    """Moves the reminder from pending to sending in a short transaction that locks only the
    reminder row; the enrollment is read, not locked. Deletes it when no longer due."""
    at = clock.now()
    with transaction.atomic():
        reminder = (
            ExpiryReminder.objects.filter(pk=reminder_id)
            .select_related("enrollment__user", "enrollment__course")
            .select_for_update(of=("self",))
            .first()
        )
        if reminder is None or reminder.state != State.PENDING:
            return SendOutcome.NOT_PENDING
        still_due = Enrollment.objects.filter(
            access_state_q(AccessState.ACTIVE, at=at),
            pk=reminder.enrollment_id,
            ended_at=reminder.ended_at,
            user__is_active=True,
        ).exists()
        if not still_due:
            reminder.delete()
            return SendOutcome.NO_LONGER_DUE
        if reminder.attempts >= settings.REMINDERS["MAX_ATTEMPTS"]:
            reminder.state = State.FAILED
            reminder.save(update_fields=["state"])
            logger.error("expiry reminder %s: no tries left, failed", reminder.pk)
            return SendOutcome.FAILED
        reminder.state = State.SENDING
        reminder.attempts += 1
        reminder.last_attempt_at = at
        reminder.next_attempt_at = None
        reminder.save(update_fields=["state", "attempts", "last_attempt_at", "next_attempt_at"])
    return reminder


def _attempt_failed(reminder: ExpiryReminder, error: Exception) -> SendOutcome:
    """Records a failed delivery: pending again with the next try queued after the backoff, or
    failed for good after MAX_ATTEMPTS tries."""
    tries, most = reminder.attempts, settings.REMINDERS["MAX_ATTEMPTS"]
    mine = ExpiryReminder.objects.filter(pk=reminder.pk, state=State.SENDING, attempts=tries)
    if tries >= most:
        mine.update(state=State.FAILED, last_error=str(error))
        logger.error(
            "expiry reminder %s for enrollment %s failed for good after %d tries: %s",
            reminder.pk,
            reminder.enrollment_id,
            tries,
            error,
        )
        return SendOutcome.FAILED
    next_try = clock.now() + retry_delay(tries)
    with transaction.atomic():
        if mine.update(state=State.PENDING, next_attempt_at=next_try, last_error=str(error)):
            transaction.on_commit(partial(_queue_send, reminder.pk, next_try), robust=True)
    logger.warning(
        "expiry reminder %s for enrollment %s: try %d of %d failed, next at %s: %s",
        reminder.pk,
        reminder.enrollment_id,
        tries,
        most,
        f"{next_try:%Y-%m-%dT%H:%M:%SZ}",
        error,
    )
    return SendOutcome.RETRY_SCHEDULED
