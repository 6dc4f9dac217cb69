"""Expiry reminders: one e-mail per enrollment and end date, whoever runs the job and how often.

Each reminder is decided, claimed and sent in one transaction: the enrollment is re-read under a
row lock and still due (selectors.expiry.enrollments_due_expiry_reminder, with the run's window
and instant), the `ExpiryReminder` row (unique per enrollment and end date) is inserted, the
e-mail goes out from that locked row, then the row commits and the lock is released.

- A change committed after the run read the learner (an extension, a pause, a removal, the
  user made inactive) is seen by the locked re-read: an extension still within the window is
  mailed with the new end date (and claimed for it); a row no longer due is not sent
  ("no longer due"). A change that holds the lock when the run reaches the learner is waited
  for. No e-mail ever carries an end date the enrollment no longer has.
- Two overlapping runs: the second waits for the first's lock on that learner, then finds it
  reminded (no longer due) or fails on the unique index (claimed meanwhile); it skips that
  learner either way. If the first run's send failed, its row was rolled back, and the second
  run sends instead.
- A failed send (SMTP down) rolls the row back, so the next run tries again.
- One bad row cannot stop the run: whatever a row raises (a mail server's refusal, an address
  Django will not put in a header, a bug) rolls that row back, is logged at ERROR and listed in
  `ReminderRun.failed`, and the run goes on with the next learner. Titles and names go into the
  message on one line (lms.control_characters.single_line), so a title stored with a line break
  is mailed, not refused by Django's header check.
- The one gap: a crash after the mail server accepted the message and before the commit leaves
  no row, and the next run sends it again. A duplicate reminder in that rare case is better than
  a reminder lost for good (claiming first and sending after the commit would lose it instead).
"""

import logging
import smtplib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from django.conf import settings
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.db import IntegrityError, transaction

from enrollments import clock
from enrollments.models import Enrollment, ExpiryReminder
from enrollments.selectors.expiry import enrollments_due_expiry_reminder
from lms.batching import chunked
from lms.control_characters import single_line

logger = logging.getLogger(__name__)

#: Enrollments loaded (and e-mailed over one SMTP connection) at a time.
REMINDER_CHUNK = 200

#: What a failed delivery raises (the mail server down or refusing): the message itself was fine,
#: the next run will likely get it through. Anything else a row raises is a fault of the row (or
#: of the code) and is logged with its traceback.
SENDING_ERRORS: tuple[type[Exception], ...] = (smtplib.SMTPException, OSError)


@dataclass(slots=True)
class ReminderRun:
    """What one run of the reminder job did."""

    #: Reminded now.
    sent: list[Enrollment] = field(default_factory=list)
    #: Claimed meanwhile by another run (or reminded already): nothing sent.
    already_claimed: list[Enrollment] = field(default_factory=list)
    #: Changed after this run read it (extended beyond the window, paused, removed, user made
    #: inactive, reminded meanwhile): nothing sent. As this run read it.
    no_longer_due: list[Enrollment] = field(default_factory=list)
    #: The row failed (the send, or anything else it raised): rolled back, nothing recorded, the
    #: next run tries again. As this run read it, with the error.
    failed: list[tuple[Enrollment, Exception]] = field(default_factory=list)


class ReminderOutcome(StrEnum):
    """What `expiry_reminder_send` did for one enrollment."""

    SENT = "sent"
    ALREADY_CLAIMED = "already_claimed"
    NO_LONGER_DUE = "no_longer_due"


def expiry_reminder_message(enrollment: Enrollment, *, connection=None) -> mail.EmailMessage:
    """The reminder e-mail: the course, the end of access (UTC) and who to ask for more.

    The title and the name are stored text that may predate the course form's refusal of control
    characters: rendered on one line, so no line break reaches the subject (Django would refuse
    the message with BadHeaderError) and the body's sentence stays whole."""
    ends = enrollment.ended_at
    title = single_line(enrollment.course.title)
    subject = f"Your access to {title} ends on {ends:%Y-%m-%d}"
    first_name = single_line(enrollment.user.first_name)
    greeting = f"Hello {first_name}," if first_name else "Hello,"
    body = (
        f"{greeting}\n\n"
        f'your access to the course "{title}" ends on '
        f"{ends:%Y-%m-%d} at {ends:%H:%M} UTC.\n\n"
        "If you need more time, reply to this e-mail or contact your course administrator.\n"
    )
    return mail.EmailMessage(
        subject=subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[enrollment.user.email],
        connection=connection,
    )


def expiry_reminder_send(
    *,
    enrollment: Enrollment,
    within: timedelta,
    at: datetime,
    connection: BaseEmailBackend | None = None,
) -> tuple[ReminderOutcome, Enrollment]:
    """Sends the reminder of `enrollment`'s end date if it is still due, and records it.

    `enrollment` is only the run's read of the learner: the decision and the e-mail come from
    the enrollment re-read under a row lock, restricted to the run's filter
    (enrollments_due_expiry_reminder with `within` and `at`). The lock is held over the send,
    up to the commit of the claim: a concurrent change of that one learner (an extension, a
    pause) waits for the mail, which is the price of never mailing a stale end date.

    Returns the outcome with the enrollment it is about: the locked, fresh row when SENT or
    ALREADY_CLAIMED (another run holds, or held, the reminder of that end date), `enrollment`
    itself when NO_LONGER_DUE (extended beyond the window, paused, removed, the user made
    inactive, reminded meanwhile: nothing sent). Raises the sending error (SENDING_ERRORS), or
    whatever else went wrong (a header Django refuses), after rolling the claim back.
    """
    fresh: Enrollment | None = None
    try:
        with transaction.atomic():
            fresh = (
                enrollments_due_expiry_reminder(within=within, at=at)
                .filter(pk=enrollment.pk)
                .select_related("user", "course")
                .select_for_update(of=("self",))
                .first()
            )
            if fresh is None:
                return ReminderOutcome.NO_LONGER_DUE, enrollment
            ExpiryReminder.objects.create(
                enrollment=fresh, ended_at=fresh.ended_at, sent_at=clock.now()
            )
            expiry_reminder_message(fresh, connection=connection).send(fail_silently=False)
    except IntegrityError:
        return ReminderOutcome.ALREADY_CLAIMED, fresh or enrollment
    return ReminderOutcome.SENT, fresh


def expiry_reminders_send(*, within: timedelta) -> ReminderRun:
    """E-mails every learner whose access ends within `within` and who has not been reminded of
    that end date (selectors.expiry.enrollments_due_expiry_reminder, which a dry run lists)."""
    at = clock.now()
    due = enrollments_due_expiry_reminder(within=within, at=at)
    run = ReminderRun()
    for chunk in chunked(list(due.values_list("pk", flat=True)), REMINDER_CHUNK):
        # Re-read with the filter: a row extended, paused or reminded meanwhile drops out. Each
        # send re-reads its row once more, locked (expiry_reminder_send).
        rows = list(due.filter(pk__in=chunk).select_related("user", "course"))
        _send_chunk(rows, run, within=within, at=at)
    return run


def _send_chunk(
    chunk: list[Enrollment], run: ReminderRun, *, within: timedelta, at: datetime
) -> None:
    """Sends a chunk's reminders over one connection to the mail server.

    Each row fails alone: its transaction is rolled back (expiry_reminder_send), the failure is
    logged at ERROR and kept in `run.failed`, and the next row is sent. A mail server that cannot
    be reached fails the chunk's rows the same way, without trying each of them."""
    connection = mail.get_connection(fail_silently=False)
    try:
        connection.open()
    except SENDING_ERRORS as error:
        logger.error("expiry reminders: cannot connect to the mail server: %s", error)
        run.failed.extend((enrollment, error) for enrollment in chunk)
        return
    try:
        for enrollment in chunk:
            try:
                outcome, reminded = expiry_reminder_send(
                    enrollment=enrollment, within=within, at=at, connection=connection
                )
            except SENDING_ERRORS as error:
                logger.error(
                    "expiry reminder for enrollment %s failed, will retry next run: %s",
                    enrollment.pk,
                    error,
                )
                run.failed.append((enrollment, error))
                continue
            except Exception as error:  # one bad row must not stop the others
                logger.exception(
                    "expiry reminder for enrollment %s failed, skipped (tried again next run)",
                    enrollment.pk,
                )
                run.failed.append((enrollment, error))
                continue
            bucket = {
                ReminderOutcome.SENT: run.sent,
                ReminderOutcome.ALREADY_CLAIMED: run.already_claimed,
                ReminderOutcome.NO_LONGER_DUE: run.no_longer_due,
            }[outcome]
            bucket.append(reminded)
    finally:
        connection.close()
