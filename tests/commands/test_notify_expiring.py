"""notify_expiring: one reminder per enrollment and end date, re-armed by an extension."""

import smtplib
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.core import mail

from enrollments.models import AccessChange, Enrollment, ExpiryReminder
from enrollments.operations import Extend, Pause, Remove, Selection, apply, apply_to_one
from enrollments.operations.audit import Attribution
from enrollments.reminders import ReminderOutcome, expiry_reminder_send, expiry_reminders_send
from tests.commands.conftest import exit_status, run_command, snapshot
from tests.factories import CourseFactory, EnrollmentFactory, UserFactory

pytestmark = pytest.mark.django_db


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

    result = run_command("notify_expiring", "--within", "7")

    assert result.status == 0, result.stderr
    assert result.stdout == "Sent 2 expiry reminders (access ending within 7 days).\n"
    assert recipients() == ["edge@example.com", "soon@example.com"]
    message = next(m for m in mail.outbox if m.to == ["soon@example.com"])
    assert message.subject == "Your access to Python Basics ends on 2026-01-03"
    assert "Hello Soon," in message.body
    assert "ends on 2026-01-03 at 00:00 UTC" in message.body
    reminder = ExpiryReminder.objects.get(enrollment=soon)
    assert (reminder.ended_at, reminder.sent_at) == (soon.ended_at, clock.current)
    assert ExpiryReminder.objects.count() == 2


def test_running_twice_or_hourly_sends_each_reminder_once(clock):
    enroll(clock, "soon@example.com", ends_in_days=2)

    first = run_command("notify_expiring", "--within", "7")
    for _hour in range(5):
        clock.advance(hours=1)
        again = run_command("notify_expiring", "--within", "7")
        assert again.stdout == "Sent 0 expiry reminders (access ending within 7 days).\n"

    assert first.stdout.startswith("Sent 1 ")
    assert recipients() == ["soon@example.com"]
    assert ExpiryReminder.objects.count() == 1


def test_an_extension_re_arms_the_reminder_for_the_new_end(clock):
    enrollment = enroll(clock, "soon@example.com", ends_in_days=2)
    run_command("notify_expiring", "--within", "7")

    apply_to_one(Extend(days=3), enrollment, Attribution(None, "command"))
    result = run_command("notify_expiring", "--within", "7")
    repeat = run_command("notify_expiring", "--within", "7")

    assert result.stdout.startswith("Sent 1 ") and repeat.stdout.startswith("Sent 0 ")
    assert [m.subject for m in mail.outbox] == [
        "Your access to Python Basics ends on 2026-01-03",
        "Your access to Python Basics ends on 2026-01-06",
    ]
    assert sorted(ExpiryReminder.objects.values_list("ended_at", flat=True)) == [
        clock.current + timedelta(days=2),
        clock.current + timedelta(days=5),
    ]


def test_a_reminder_claimed_by_another_run_is_not_sent_again(clock):
    enrollment = enroll(clock, "soon@example.com", ends_in_days=2)
    # Another run recorded it after this run selected the learner.
    ExpiryReminder.objects.create(
        enrollment=enrollment, ended_at=enrollment.ended_at, sent_at=clock.current
    )

    outcome = expiry_reminder_send(
        enrollment=enrollment, within=timedelta(days=7), at=clock.current
    )

    # The locked re-read finds it reminded of that end date: no longer due.
    assert outcome == (ReminderOutcome.NO_LONGER_DUE, enrollment)
    assert mail.outbox == []
    assert ExpiryReminder.objects.count() == 1


def test_a_run_that_loses_the_race_counts_it(clock, monkeypatch):
    enrollment = enroll(clock, "soon@example.com", ends_in_days=2)
    monkeypatch.setattr(
        "enrollments.reminders.enrollments_due_expiry_reminder",
        lambda **kwargs: Enrollment.objects.all(),  # as selected before the other run's insert
    )
    ExpiryReminder.objects.create(
        enrollment=enrollment, ended_at=enrollment.ended_at, sent_at=clock.current
    )

    result = run_command("notify_expiring", "--within", "7")

    assert result.status == 0
    assert "Sent 0 expiry reminders" in result.stdout
    assert "1 were sent meanwhile by another run." in result.stdout
    assert mail.outbox == []


def test_a_failed_send_records_nothing_and_is_retried(clock, monkeypatch):
    enroll(clock, "ok@example.com", ends_in_days=1)
    failing = enroll(clock, "down@example.com", ends_in_days=2)
    real_send = mail.EmailMessage.send

    def send(message, fail_silently=False):
        if message.to == ["down@example.com"]:
            raise smtplib.SMTPRecipientsRefused({"down@example.com": (450, b"try later")})
        return real_send(message, fail_silently=fail_silently)

    monkeypatch.setattr(mail.EmailMessage, "send", send)
    result = run_command("notify_expiring", "--within", "7")

    assert result.status == 1
    assert result.stderr.startswith(
        "down@example.com in course-"
    ) and "(access ends 2026-01-03T00:00:00Z): sending failed, will retry next run: " in (
        result.stderr
    )
    assert "1 of 2 reminders failed" in result.error
    assert not ExpiryReminder.objects.filter(enrollment=failing).exists()
    assert recipients() == ["ok@example.com"]

    monkeypatch.setattr(mail.EmailMessage, "send", real_send)
    retry = run_command("notify_expiring", "--within", "7")
    assert retry.status == 0 and retry.stdout.startswith("Sent 1 ")
    assert recipients() == ["down@example.com", "ok@example.com"]


def test_dry_run_lists_and_sends_nothing(clock):
    course = CourseFactory(slug="python-basics", title="Python Basics")
    enroll(clock, "soon@example.com", ends_in_days=2, course=course)
    before = snapshot()

    result = run_command("notify_expiring", "--within", "7", "--dry-run")

    assert result.stdout.splitlines() == [
        "would remind soon@example.com in python-basics (access ends 2026-01-03T00:00:00Z)",
        "Dry run, nothing was sent: 1 learners would be reminded.",
    ]
    assert mail.outbox == []
    assert snapshot() == before


def test_reminders_are_loaded_in_chunks_of_a_few_queries(
    clock, monkeypatch, django_assert_num_queries
):
    monkeypatch.setattr("enrollments.reminders.REMINDER_CHUNK", 2)
    for n in range(5):
        enroll(clock, f"l{n}@example.com", ends_in_days=1 + n / 10)

    # The due ids, then one query per chunk of 2 loading its enrollments with user and course
    # (3 chunks), then per reminder: savepoint, the locked re-read, claim INSERT, release
    # (5 x 4).
    with django_assert_num_queries(1 + 3 + 5 * 4):
        run = expiry_reminders_send(within=timedelta(days=7))

    assert len(run.sent) == 5 and len(mail.outbox) == 5
    # Soonest first.
    assert [m.to[0] for m in mail.outbox] == [f"l{n}@example.com" for n in range(5)]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "the following arguments are required: --within"),
        (["--within", "0"], "'0' is not a positive whole number"),
        (["--within", "week"], "'week' is not a positive whole number"),
    ],
)
def test_usage_errors_exit_2(db, capsys, argv, message):
    assert exit_status("notify_expiring", *argv) == 2
    assert message in capsys.readouterr().err


# A change committed after the run read the learner and before its turn came: the send decides
# from the enrollment re-read under the row lock, never from the run's stale read.

BY_COMMAND = Attribution(None, AccessChange.Source.COMMAND)


def change_when_reached(monkeypatch, email: str, change: Callable[[Enrollment], None]) -> None:
    """Runs `change` on `email`'s enrollment just before the run sends it, after the run's read
    (the one it passes on is stale)."""
    real_send = expiry_reminder_send

    def send(*, enrollment: Enrollment, **kwargs):
        if enrollment.user.email == email:
            change(enrollment)
        return real_send(enrollment=enrollment, **kwargs)

    monkeypatch.setattr("enrollments.reminders.expiry_reminder_send", send)


def extend(days: int) -> Callable[[Enrollment], None]:
    return lambda stale: apply_to_one(Extend(days=days), stale, Attribution(None, "command"))


def pause(stale: Enrollment) -> None:
    apply_to_one(Pause(), stale, Attribution(None, "command"))


def remove(stale: Enrollment) -> None:
    apply(Remove(), Selection.named([stale.pk]), BY_COMMAND)


def deactivate_user(stale: Enrollment) -> None:
    type(stale.user).objects.filter(pk=stale.user_id).update(is_active=False)


def test_a_stale_read_extended_beyond_the_window_is_not_sent(clock):
    enrollment = enroll(clock, "soon@example.com", ends_in_days=2)
    stale = Enrollment.objects.select_related("user", "course").get(pk=enrollment.pk)
    extend(30)(stale)

    outcome = expiry_reminder_send(enrollment=stale, within=timedelta(days=7), at=clock.current)

    assert outcome == (ReminderOutcome.NO_LONGER_DUE, stale)
    assert mail.outbox == []
    assert not ExpiryReminder.objects.exists()


def test_a_stale_read_extended_within_the_window_is_sent_with_the_new_end(clock):
    enrollment = enroll(clock, "soon@example.com", ends_in_days=2)
    stale = Enrollment.objects.select_related("user", "course").get(pk=enrollment.pk)
    extend(3)(stale)

    outcome, reminded = expiry_reminder_send(
        enrollment=stale, within=timedelta(days=7), at=clock.current
    )

    new_end = clock.current + timedelta(days=5)
    assert (outcome, reminded.ended_at) == (ReminderOutcome.SENT, new_end)
    assert [m.subject for m in mail.outbox] == ["Your access to Python Basics ends on 2026-01-06"]
    assert "ends on 2026-01-06 at 00:00 UTC" in mail.outbox[0].body
    assert list(ExpiryReminder.objects.values_list("ended_at", flat=True)) == [new_end]


def test_a_run_skips_a_learner_extended_beyond_the_window_meanwhile(clock, monkeypatch):
    enroll(clock, "other@example.com", ends_in_days=1)
    moved = enroll(clock, "moved@example.com", ends_in_days=2)
    change_when_reached(monkeypatch, "moved@example.com", extend(30))

    result = run_command("notify_expiring", "--within", "7")

    assert result.status == 0, result.stderr
    assert result.stdout == (
        "Sent 1 expiry reminders (access ending within 7 days). 1 were no longer due when their"
        " turn came (extended, paused, removed or reminded meanwhile): not sent.\n"
    )
    assert recipients() == ["other@example.com"]
    assert not ExpiryReminder.objects.filter(enrollment=moved).exists()
    # The next run does not remind it either: its new end is beyond the window.
    assert run_command("notify_expiring", "--within", "7").stdout.startswith("Sent 0 ")


def test_a_run_mails_the_new_end_of_a_learner_extended_within_the_window_meanwhile(
    clock, monkeypatch
):
    moved = enroll(clock, "moved@example.com", ends_in_days=2)
    change_when_reached(monkeypatch, "moved@example.com", extend(3))

    result = run_command("notify_expiring", "--within", "7", verbosity=2)

    assert result.status == 0, result.stderr
    assert result.stdout.splitlines()[-1] == (
        "Sent 1 expiry reminders (access ending within 7 days)."
    )
    assert "(access ends 2026-01-06T00:00:00Z)" in result.stdout  # the fresh row, listed
    assert [m.subject for m in mail.outbox] == ["Your access to Python Basics ends on 2026-01-06"]
    reminder = ExpiryReminder.objects.get(enrollment=moved)
    assert reminder.ended_at == clock.current + timedelta(days=5)
    # Claimed for the new end: the next run sends nothing more.
    assert run_command("notify_expiring", "--within", "7").stdout.startswith("Sent 0 ")
    assert len(mail.outbox) == 1


@pytest.mark.parametrize("change", [pause, remove, deactivate_user], ids=lambda f: f.__name__)
def test_a_run_skips_a_learner_paused_removed_or_deactivated_meanwhile(clock, monkeypatch, change):
    enroll(clock, "gone@example.com", ends_in_days=2)
    change_when_reached(monkeypatch, "gone@example.com", change)

    run = expiry_reminders_send(within=timedelta(days=7))

    assert [e.user.email for e in run.no_longer_due] == ["gone@example.com"]
    assert (run.sent, run.already_claimed, run.failed) == ([], [], [])
    assert mail.outbox == []
    assert not ExpiryReminder.objects.exists()


def test_only_failed_sends_fail_the_run_not_the_learners_no_longer_due(clock, monkeypatch):
    enroll(clock, "moved@example.com", ends_in_days=2)
    enroll(clock, "down@example.com", ends_in_days=3)
    change_when_reached(monkeypatch, "moved@example.com", extend(30))
    real_send = mail.EmailMessage.send

    def send(message, fail_silently=False):
        if message.to == ["down@example.com"]:
            raise smtplib.SMTPServerDisconnected("gone")
        return real_send(message, fail_silently=fail_silently)

    monkeypatch.setattr(mail.EmailMessage, "send", send)
    result = run_command("notify_expiring", "--within", "7")

    assert result.status == 1
    assert "1 were no longer due" in result.stdout
    assert "1 of 2 reminders failed" in result.error  # counted in the total, not as a failure
