"""A reminder being sent to a mail server that stalls holds no lock: changes to that learner do
not wait (PostgreSQL, threads, a real socket server that accepts and never answers).

Before the reminders were jobs, the e-mail went out under the enrollment's row lock, inside the
claim's transaction: an extension or a pause of that learner waited up to EMAIL_TIMEOUT (30 s).
Here the send job is inside the mail server's silence (the server saw its connection and has not
answered) while another transaction extends and pauses that learner and commits. The order is
observed, not timed: the server answers nothing until the test closes it, so a change that
waited for the send could not finish before that; the changes are given 20 s and must be done
while the send is still waiting.
"""

import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection

from enrollments.models import AccessChange, Enrollment, ExpiryReminder
from enrollments.operations import Extend, Pause, apply_to_one
from enrollments.operations.audit import Attribution
from enrollments.reminders import SendOutcome, send, sweep
from tests.factories import CourseFactory, EnrollmentFactory, UserFactory
from tests.jobs.smtp import MailServer
from tests.markers import requires_postgres

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]

BY_COMMAND = Attribution(None, AccessChange.Source.COMMAND)


def test_changes_to_a_learner_do_not_wait_for_a_stalled_mail_server(clock, settings):
    enrollment = EnrollmentFactory(
        user=UserFactory(email="soon@example.com"),
        course=CourseFactory(title="Python Basics"),
        start_at=clock.current - timedelta(days=10),
        ended_at=clock.current + timedelta(days=2),
    )
    [reminder] = sweep(within=timedelta(days=7)).queued
    outcomes: list[SendOutcome] = []

    def send_job():
        try:
            outcomes.append(send(reminder.pk))
        finally:
            connection.close()

    with MailServer(stall=True) as server:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
        settings.EMAIL_TIMEOUT = 60  # the send waits for the server far longer than the test
        sender = threading.Thread(target=send_job)
        sender.start()
        assert server.connected.wait(timeout=10)  # the job is inside SMTP now

        changed = threading.Event()

        def change_the_learner():
            try:
                fresh = Enrollment.objects.get(pk=enrollment.pk)
                apply_to_one(Extend(days=30), fresh, BY_COMMAND)
                apply_to_one(Pause(), Enrollment.objects.get(pk=enrollment.pk), BY_COMMAND)
                changed.set()
            finally:
                connection.close()

        changer = threading.Thread(target=change_the_learner)
        changer.start()
        changer.join(timeout=20)

        # Both changes committed while the send still waits on the silent server.
        assert changed.is_set()
        assert sender.is_alive() and outcomes == []
        assert ExpiryReminder.objects.get().state == ExpiryReminder.State.SENDING
        # The server goes away: the send fails as a delivery failure, to be retried.
    sender.join(timeout=20)
    assert not sender.is_alive()
    assert outcomes == [SendOutcome.RETRY_SCHEDULED]

    stored = Enrollment.objects.get(pk=enrollment.pk)
    assert (stored.ended_at, stored.is_paused) == (clock.current + timedelta(days=32), True)
    assert AccessChange.objects.filter(enrollment=stored).count() == 2
    # The retry finds the learner changed (paused, a new end): nothing sent, the claim deleted.
    assert send(reminder.pk) == SendOutcome.NO_LONGER_DUE
    assert mail.outbox == [] and not ExpiryReminder.objects.exists()
