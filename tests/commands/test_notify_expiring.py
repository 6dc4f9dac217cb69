"""notify_expiring: one reminder per enrollment and end date, claimed by the sweep, sent by a job
(enrollments/reminders.py), re-armed by an extension, retried with backoff when the mail server
fails."""

import smtplib
from datetime import timedelta

import pytest
from django.core import mail
from django_tasks_db.models import DBTaskResult

from enrollments import reminders
from enrollments.access_window import MAX_WINDOW_DAYS
from enrollments.jobs.reminders import sweep_expiry_reminders
from enrollments.models import AccessChange, Enrollment, ExpiryReminder
from enrollments.operations import Extend, Pause, Remove, Resume, Selection, apply, apply_to_one
from enrollments.operations.audit import Attribution
from enrollments.reminders import SendOutcome, retry_delay, send
from tests.commands.conftest import exit_status, snapshot
from tests.factories import CourseFactory, EnrollmentFactory, UserFactory
from tests.jobs.worker import run_jobs, sweep, sweep_and_send

pytestmark = pytest.mark.django_db

State = ExpiryReminder.State
BY_COMMAND = Attribution(None, AccessChange.Source.COMMAND)


def enroll(clock, email: str, *, ends_in_days: float | None, **fields) -> Enrollment:
    ended_at = None if ends_in_days is None else clock.current + timedelta(days=ends_in_days)
    return EnrollmentFactory(
        user=UserFactory(email=email, first_name=email.split("@")[0].title()),
        course=fields.pop("course", None) or CourseFactory(title="Python Basics"),
        start_at=fields.pop("start_at", clock.current - timedelta(days=10)),
        ended_at=ended_at,
        **fields,
    )


def recipients() -> list[str]:
    return sorted(address for message in mail.outbox for address in message.to)


def queued(count: int, within: int = 7) -> str:
    return f"Queued {count} expiry reminders for sending (access ending within {within} days).\n"


def test_reminds_learners_whose_access_ends_within_the_window(clock):
    soon = enroll(clock, "soon@example.com", ends_in_days=2)
    enroll(clock, "edge@example.com", ends_in_days=7)  # the last instant of the window
    enroll(clock, "later@example.com", ends_in_days=8)
    enroll(clock, "ended@example.com", ends_in_days=-1)
    enroll(clock, "never@example.com", ends_in_days=None)
    enroll(clock, "paused@example.com", ends_in_days=2, is_paused=True, paused_at=clock.current)
    enroll(clock, "future@example.com", ends_in_days=2, start_at=clock.current + timedelta(days=1))
    inactive = enroll(clock, "inactive@example.com", ends_in_days=2)
    inactive.user.is_active = False
    inactive.user.save(update_fields=["is_active"])

    result = sweep("--within", "7")

    # The sweep claims and queues; nothing is mailed until the worker runs the jobs.
    assert result.status == 0, result.stderr
    assert result.stdout == queued(2)
    assert mail.outbox == []
    assert set(ExpiryReminder.objects.values_list("state", flat=True)) == {State.PENDING}
    assert DBTaskResult.objects.ready().count() == 2

    jobs = run_jobs()

    assert [(job.status, job.return_value) for job in jobs] == [("SUCCESSFUL", "sent")] * 2
    assert recipients() == ["edge@example.com", "soon@example.com"]
    message = next(m for m in mail.outbox if m.to == ["soon@example.com"])
    assert message.subject == "Your access to Python Basics ends on 2026-01-03"
    assert "Hello Soon," in message.body
    assert "ends on 2026-01-03 at 00:00 UTC" in message.body
    reminder = ExpiryReminder.objects.get(enrollment=soon)
    assert (reminder.state, reminder.ended_at, reminder.claimed_at, reminder.sent_at) == (
        State.SENT,
        soon.ended_at,
        clock.current,
        clock.current,
    )
    assert reminder.attempts == 1
    assert ExpiryReminder.objects.count() == 2


def test_running_twice_or_hourly_sends_each_reminder_once(clock):
    enroll(clock, "soon@example.com", ends_in_days=2)

    first = sweep_and_send("--within", "7")
    for _hour in range(5):
        clock.advance(hours=1)
        again = sweep_and_send("--within", "7")
        assert again.stdout == queued(0)

    assert first.stdout == queued(1)
    assert recipients() == ["soon@example.com"]
    assert ExpiryReminder.objects.count() == 1


def test_an_extension_re_arms_the_reminder_for_the_new_end(clock):
    enrollment = enroll(clock, "soon@example.com", ends_in_days=2)
    sweep_and_send("--within", "7")

    apply_to_one(Extend(days=3), enrollment, BY_COMMAND)
    result = sweep_and_send("--within", "7")
    repeat = sweep_and_send("--within", "7")

    assert result.stdout == queued(1) and repeat.stdout == queued(0)
    assert [m.subject for m in mail.outbox] == [
        "Your access to Python Basics ends on 2026-01-03",
        "Your access to Python Basics ends on 2026-01-06",
    ]
    assert sorted(ExpiryReminder.objects.values_list("ended_at", "state")) == [
        (clock.current + timedelta(days=2), State.SENT),
        (clock.current + timedelta(days=5), State.SENT),
    ]


def test_a_reminder_sent_already_is_not_sent_again_by_a_second_job(clock):
    enroll(clock, "soon@example.com", ends_in_days=2)
    sweep("--within", "7")
    reminder = ExpiryReminder.objects.get()

    assert send(reminder.pk) == SendOutcome.SENT
    # A second job of the same reminder (queued again by a sweep, or twice by mistake).
    assert send(reminder.pk) == SendOutcome.NOT_PENDING
    assert send(reminder.pk + 1000) == SendOutcome.NOT_PENDING  # gone

    assert len(mail.outbox) == 1
    reminder.refresh_from_db()
    assert (reminder.state, reminder.attempts) == (State.SENT, 1)


def test_a_run_that_loses_the_race_counts_it(clock, monkeypatch):
    enrollment = enroll(clock, "soon@example.com", ends_in_days=2)
    monkeypatch.setattr(
        "enrollments.reminders.enrollments_due_expiry_reminder",
        lambda **kwargs: Enrollment.objects.all(),  # as selected before the other run's insert
    )
    ExpiryReminder.objects.create(
        enrollment=enrollment,
        ended_at=enrollment.ended_at,
        state=State.SENT,
        claimed_at=clock.current,
        sent_at=clock.current,
    )

    result = sweep_and_send("--within", "7")

    assert result.status == 0
    assert result.stdout == (
        "Queued 0 expiry reminders for sending (access ending within 7 days)."
        " 1 were claimed meanwhile by another run.\n"
    )
    assert mail.outbox == []
    assert DBTaskResult.objects.count() == 0


REAL_SEND = mail.EmailMessage.send


def refuse(monkeypatch, address: str, error: Exception) -> None:
    """The mail server fails every message to `address` with `error` (until `back`)."""
    real_send = REAL_SEND

    def send(message, fail_silently=False):
        if message.to == [address]:
            raise error
        return real_send(message, fail_silently=fail_silently)

    monkeypatch.setattr(mail.EmailMessage, "send", send)


def back(monkeypatch) -> None:
    """The mail server takes every message again."""
    monkeypatch.setattr(mail.EmailMessage, "send", REAL_SEND)


def test_a_failed_send_is_retried_with_backoff_then_sent(clock, monkeypatch, settings):
    settings.REMINDERS = {**settings.REMINDERS, "RETRY_BASE_SECONDS": 60, "MAX_ATTEMPTS": 6}
    enroll(clock, "ok@example.com", ends_in_days=1)
    failing = enroll(clock, "down@example.com", ends_in_days=2)
    refuse(monkeypatch, "down@example.com", smtplib.SMTPRecipientsRefused({"x": (450, b"later")}))

    result = sweep_and_send("--within", "7")

    assert (result.status, result.stdout) == (0, queued(2))
    assert recipients() == ["ok@example.com"]
    reminder = ExpiryReminder.objects.get(enrollment=failing)
    assert (reminder.state, reminder.attempts, reminder.sent_at) == (State.PENDING, 1, None)
    assert "450" in reminder.last_error
    # The first retry waits between 30 and 60 s (equal jitter over the base of 60 s), and the
    # job is queued to run then.
    wait = reminder.next_attempt_at - clock.current
    assert timedelta(seconds=30) <= wait <= timedelta(seconds=60)
    [retry] = DBTaskResult.objects.filter(status="READY")
    assert (retry.run_after, retry.args_kwargs["args"]) == (reminder.next_attempt_at, [reminder.pk])

    back(monkeypatch)
    clock.advance(minutes=1)
    run_jobs()

    assert recipients() == ["down@example.com", "ok@example.com"]
    reminder.refresh_from_db()
    assert (reminder.state, reminder.attempts, reminder.last_error) == (State.SENT, 2, "")


def test_the_backoff_doubles_per_try_up_to_its_ceiling(settings):
    settings.REMINDERS = {**settings.REMINDERS, "RETRY_BASE_SECONDS": 10, "RETRY_MAX_SECONDS": 100}
    for tries, ceiling in [(1, 10), (2, 20), (3, 40), (4, 80), (5, 100), (9, 100)]:
        waits = [retry_delay(tries).total_seconds() for _ in range(50)]
        assert all(ceiling / 2 <= wait <= ceiling for wait in waits), (tries, waits)
        assert len(set(waits)) > 1  # jittered


def test_a_reminder_that_fails_every_try_is_failed_listed_and_can_be_retried(
    clock, monkeypatch, settings, caplog
):
    settings.REMINDERS = {**settings.REMINDERS, "MAX_ATTEMPTS": 3}
    course = CourseFactory(slug="python-basics", title="Python Basics")
    enroll(clock, "down@example.com", ends_in_days=2, course=course)
    refuse(monkeypatch, "down@example.com", smtplib.SMTPServerDisconnected("gone"))

    sweep("--within", "7")
    outcomes = [job.return_value for _ in range(4) for job in run_jobs()]

    assert outcomes == ["retry_scheduled", "retry_scheduled", "failed"]
    reminder = ExpiryReminder.objects.get()
    assert (reminder.state, reminder.attempts, reminder.last_error) == (State.FAILED, 3, "gone")
    assert [r.levelname for r in caplog.records if "failed for good" in r.getMessage()] == ["ERROR"]
    assert mail.outbox == []

    # Every sweep lists it (stderr, exit 1) while its end is ahead, and claims nothing new.
    listed = sweep("--within", "7")
    assert listed.status == 1
    assert listed.stdout == (
        "Queued 0 expiry reminders for sending (access ending within 7 days). 1 failed for"
        " good (listed on stderr; --retry-failed queues them again).\n"
    )
    assert listed.stderr == (
        "down@example.com in python-basics (access ends 2026-01-03T00:00:00Z):"
        " sending failed 3 times, last: gone\n"
    )
    assert listed.error == "1 of 1 reminders failed (listed above); the others were done"

    back(monkeypatch)
    retried = sweep("--within", "7", "--retry-failed")
    run_jobs()
    assert (retried.status, retried.stdout) == (
        0,
        "Queued 1 failed expiry reminders again.\n" + queued(0),
    )
    assert recipients() == ["down@example.com"]
    assert ExpiryReminder.objects.get().state == State.SENT


def test_a_failed_reminder_is_no_longer_listed_once_its_end_has_passed(clock, settings):
    enrollment = enroll(clock, "late@example.com", ends_in_days=2)
    ExpiryReminder.objects.create(
        enrollment=enrollment,
        ended_at=enrollment.ended_at,
        state=State.FAILED,
        claimed_at=clock.current,
        attempts=6,
        last_error="gone",
    )
    clock.advance(days=3)

    assert sweep("--within", "7").status == 0


def test_stalled_reminders_are_queued_again_by_the_next_sweep(clock, settings):
    settings.REMINDERS = {**settings.REMINDERS, "STALLED_SECONDS": 900}
    never_run = enroll(clock, "lost@example.com", ends_in_days=2)
    killed = enroll(clock, "killed@example.com", ends_in_days=3)
    sweep("--within", "7")
    DBTaskResult.objects.all().delete()  # the jobs lost (never queued, or no worker ran them)
    # A worker killed after it began one send.
    ExpiryReminder.objects.filter(enrollment=killed).update(
        state=State.SENDING, attempts=1, last_attempt_at=clock.current, next_attempt_at=None
    )

    clock.advance(minutes=14)
    early = sweep("--within", "7")
    clock.advance(minutes=2)
    late = sweep_and_send("--within", "7")

    assert early.stdout == queued(0)
    assert late.stdout == (
        "Queued 0 expiry reminders for sending (access ending within 7 days). 2 stalled"
        " reminders were queued again (is `manage.py db_worker` running?).\n"
    )
    assert recipients() == ["killed@example.com", "lost@example.com"]
    assert dict(ExpiryReminder.objects.values_list("enrollment__user__email", "attempts")) == {
        "lost@example.com": 1,
        "killed@example.com": 2,
    }
    assert {never_run.pk, killed.pk} == set(
        ExpiryReminder.objects.filter(state=State.SENT).values_list("enrollment", flat=True)
    )


def test_dry_run_lists_and_queues_nothing(clock):
    course = CourseFactory(slug="python-basics", title="Python Basics")
    enroll(clock, "soon@example.com", ends_in_days=2, course=course)
    before = snapshot()

    result = sweep("--within", "7", "--dry-run")

    assert result.stdout.splitlines() == [
        "would remind soon@example.com in python-basics (access ends 2026-01-03T00:00:00Z)",
        "Dry run, nothing was queued: 1 learners would be reminded.",
    ]
    assert mail.outbox == []
    assert snapshot() == before
    assert DBTaskResult.objects.count() == 0


def test_verbose_lists_each_reminder_queued(clock):
    course = CourseFactory(slug="python-basics", title="Python Basics")
    enroll(clock, "soon@example.com", ends_in_days=2, course=course)

    result = sweep("--within", "7", verbosity=2)

    assert result.stdout.splitlines() == [
        "queued soon@example.com in python-basics (access ends 2026-01-03T00:00:00Z)",
        queued(1).strip(),
    ]


def test_the_sweep_claims_in_chunks_of_a_few_queries(clock, monkeypatch, django_assert_num_queries):
    from enrollments import reminders

    monkeypatch.setattr("enrollments.reminders.REMINDER_CHUNK", 2)
    for n in range(5):
        enroll(clock, f"l{n}@example.com", ends_in_days=1 + n / 10)

    # The stalled reminders (savepoint, select, release), the due ids, then per chunk of 2 (3
    # chunks): savepoint, the locked re-read with user and course, release; per reminder:
    # savepoint, claim INSERT, release (5 x 3); the failed ones. The jobs are queued after.
    with django_assert_num_queries(3 + 1 + 3 * 3 + 5 * 3 + 1):
        result = reminders.sweep(within=timedelta(days=7))

    assert len(result.queued) == 5
    # Soonest first.
    assert [r.enrollment.user.email for r in result.queued] == [
        f"l{n}@example.com" for n in range(5)
    ]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "the following arguments are required: --within"),
        (["--within", "0"], "'0' is not a number of days from 1 to 36500"),
        (["--within", "week"], "'week' is not a number of days from 1 to 36500"),
        # now + 3,000,000 days overflowed the calendar: a traceback, not a usage error.
        (["--within", "3000000"], "'3000000' is not a number of days from 1 to 36500"),
        (["--within", "3000000", "--dry-run"], "'3000000' is not a number of days"),
    ],
)
def test_usage_errors_exit_2(db, capsys, argv, message):
    assert exit_status("notify_expiring", *argv) == 2
    assert message in capsys.readouterr().err


def test_the_widest_window_is_read_and_a_wider_one_refused_by_the_sweep_itself(db, clock):
    """The sweep (a job queued by hand comes to it without the command's checks) refuses a
    window the calendar cannot hold before it writes anything."""
    enroll(clock, "ada@example.com", ends_in_days=3)
    before = snapshot()
    for days in (0, MAX_WINDOW_DAYS + 1):
        with pytest.raises(ValueError, match="within must be from 1 to 36500 days"):
            reminders.sweep(within=timedelta(days=days))
    assert snapshot() == before
    assert len(reminders.sweep(within=timedelta(days=MAX_WINDOW_DAYS)).queued) == 1


@pytest.mark.parametrize("days", [0, -1, MAX_WINDOW_DAYS + 1, 10**10, "7", 7.0, True])
def test_the_sweep_job_refuses_a_window_it_cannot_hold_before_writing(db, clock, days):
    """The job a scheduler queues (`sweep_expiry_reminders(within_days)`) takes its argument from
    JSON: a number of days past the calendar (a billion days overflowed timedelta, an
    OverflowError) or not a whole number fails the job with the sweep's ValueError, nothing
    written."""
    enroll(clock, "ada@example.com", ends_in_days=3)
    before = snapshot()
    with pytest.raises(ValueError, match="within must be from 1 to 36500 days"):
        sweep_expiry_reminders.call(days)
    assert snapshot() == before
    assert sweep_expiry_reminders.call(7)["queued"] == 1


# A change committed after the sweep claimed the reminder and before its job ran: the job
# decides from the enrollment as it is then, never from the claim's read.


def pause(enrollment: Enrollment) -> None:
    apply_to_one(Pause(), enrollment, BY_COMMAND)


def remove(enrollment: Enrollment) -> None:
    apply(Remove(), Selection.named([enrollment.pk]), BY_COMMAND)


def deactivate_user(enrollment: Enrollment) -> None:
    type(enrollment.user).objects.filter(pk=enrollment.user_id).update(is_active=False)


def test_a_learner_extended_beyond_the_window_before_the_job_ran_is_not_sent(clock):
    enrollment = enroll(clock, "soon@example.com", ends_in_days=2)
    sweep("--within", "7")
    apply_to_one(Extend(days=30), enrollment, BY_COMMAND)

    [job] = run_jobs()

    assert job.return_value == SendOutcome.NO_LONGER_DUE
    assert mail.outbox == []
    assert not ExpiryReminder.objects.exists()  # deleted, not recorded as sent
    assert sweep_and_send("--within", "7").stdout == queued(0)  # beyond the window


def test_a_learner_extended_within_the_window_before_the_job_ran_gets_the_new_end(clock):
    enrollment = enroll(clock, "soon@example.com", ends_in_days=2)
    sweep("--within", "7")
    apply_to_one(Extend(days=3), enrollment, BY_COMMAND)

    [job] = run_jobs()
    assert job.return_value == SendOutcome.NO_LONGER_DUE  # never the old date
    assert mail.outbox == []

    # The next sweep claims the new end.
    assert sweep_and_send("--within", "7").stdout == queued(1)
    assert [m.subject for m in mail.outbox] == ["Your access to Python Basics ends on 2026-01-06"]
    assert list(ExpiryReminder.objects.values_list("ended_at", "state")) == [
        (clock.current + timedelta(days=5), State.SENT)
    ]


@pytest.mark.parametrize("change", [pause, remove, deactivate_user], ids=lambda f: f.__name__)
def test_a_learner_paused_removed_or_deactivated_before_the_job_ran_is_not_sent(clock, change):
    enrollment = enroll(clock, "gone@example.com", ends_in_days=2)
    sweep("--within", "7")
    change(enrollment)

    [job] = run_jobs()

    assert job.return_value == SendOutcome.NO_LONGER_DUE
    assert mail.outbox == []
    assert not ExpiryReminder.objects.exists()


def test_a_learner_paused_before_the_job_ran_is_reminded_once_resumed(clock):
    course = CourseFactory(title="Python Basics", pause_freezes_access=False)
    enrollment = enroll(clock, "back@example.com", ends_in_days=2, course=course)
    sweep("--within", "7")
    pause(enrollment)
    run_jobs()

    apply_to_one(Resume(), Enrollment.objects.get(pk=enrollment.pk), BY_COMMAND)
    sweep_and_send("--within", "7")

    assert [m.subject for m in mail.outbox] == ["Your access to Python Basics ends on 2026-01-03"]
