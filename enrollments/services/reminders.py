"""Expiry reminders: one e-mail per enrollment and end date, whoever runs the job and how often.

Each reminder is claimed and sent in one transaction: the `ExpiryReminder` row (unique per
enrollment and end date) is inserted first, then the e-mail goes out, then the row commits.

- Two overlapping runs: the second insert of the same (enrollment, end date) waits on the
  unique index until the first commits, then fails; the second run skips that learner. If the
  first run's send failed, its row was rolled back, and the second run sends instead.
- A failed send (SMTP down) rolls the row back, so the next run tries again.
- The one gap: a crash after the mail server accepted the message and before the commit leaves
  no row, and the next run sends it again. A duplicate reminder in that rare case is better than
  a reminder lost for good (claiming first and sending after the commit would lose it instead).
"""

import logging
import smtplib
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core import mail
from django.db import IntegrityError, transaction

from enrollments import clock
from enrollments.models import Enrollment, ExpiryReminder
from enrollments.selectors_expiry import enrollments_due_expiry_reminder
from lms.batching import chunked

logger = logging.getLogger(__name__)

#: Enrollments loaded (and e-mailed over one SMTP connection) at a time.
REMINDER_CHUNK = 200


@dataclass(slots=True)
class ReminderRun:
    """What one run of the reminder job did."""

    #: Reminded now.
    sent: list[Enrollment] = field(default_factory=list)
    #: Claimed meanwhile by another run (or reminded already): nothing sent.
    already_claimed: list[Enrollment] = field(default_factory=list)
    #: The send failed: nothing recorded, the next run tries again.
    failed: list[tuple[Enrollment, Exception]] = field(default_factory=list)


def expiry_reminder_message(enrollment: Enrollment, *, connection=None) -> mail.EmailMessage:
    """The reminder e-mail: the course, the end of access (UTC) and who to ask for more."""
    ends = enrollment.ended_at
    subject = f"Your access to {enrollment.course.title} ends on {ends:%Y-%m-%d}"
    first_name = enrollment.user.first_name
    greeting = f"Hello {first_name}," if first_name else "Hello,"
    body = (
        f"{greeting}\n\n"
        f'your access to the course "{enrollment.course.title}" ends on '
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


def expiry_reminder_send(enrollment: Enrollment, *, connection=None) -> bool:
    """Sends the reminder for the enrollment's current end date, unless one was recorded.

    Returns False when another run holds (or held) the reminder. Raises the sending error
    (smtplib.SMTPException, OSError) after rolling the claim back.
    """
    try:
        with transaction.atomic():
            ExpiryReminder.objects.create(
                enrollment=enrollment, ended_at=enrollment.ended_at, sent_at=clock.now()
            )
            expiry_reminder_message(enrollment, connection=connection).send(fail_silently=False)
    except IntegrityError:
        return False
    return True


def expiry_reminders_send(*, within: timedelta) -> ReminderRun:
    """E-mails every learner whose access ends within `within` and who has not been reminded of
    that end date (selectors_expiry.enrollments_due_expiry_reminder, which a dry run lists)."""
    due = enrollments_due_expiry_reminder(within=within, at=clock.now())
    run = ReminderRun()
    for chunk in chunked(list(due.values_list("pk", flat=True)), REMINDER_CHUNK):
        # Re-read with the filter: a row extended, paused or reminded meanwhile drops out.
        _send_chunk(list(due.filter(pk__in=chunk).select_related("user", "course")), run)
    return run


def _send_chunk(chunk: list[Enrollment], run: ReminderRun) -> None:
    """Sends a chunk's reminders over one connection to the mail server."""
    connection = mail.get_connection(fail_silently=False)
    try:
        connection.open()
    except (smtplib.SMTPException, OSError) as error:
        logger.warning("expiry reminders: cannot connect to the mail server: %s", error)
        run.failed.extend((enrollment, error) for enrollment in chunk)
        return
    try:
        for enrollment in chunk:
            try:
                sent = expiry_reminder_send(enrollment, connection=connection)
            except (smtplib.SMTPException, OSError) as error:
                logger.warning("expiry reminder for %s failed: %s", enrollment.pk, error)
                run.failed.append((enrollment, error))
                continue
            (run.sent if sent else run.already_claimed).append(enrollment)
    finally:
        connection.close()
