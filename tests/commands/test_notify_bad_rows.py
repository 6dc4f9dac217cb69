"""notify_expiring: one bad row cannot stop the run.

A course title with a line break (stored before the course form refused it) used to raise
Django's BadHeaderError out of the run: a traceback, and no reminder for any course, every hour.
Titles and names are now rendered on one line into headers; and a row that fails for any other
reason is reported (stderr, the summary, the log at ERROR), rolled back and skipped while the
run goes on, with exit status 1.
"""

import logging
from datetime import timedelta

import pytest
from django.core import mail

from enrollments.models import Enrollment, ExpiryReminder
from enrollments.reminders import expiry_reminder_message
from tests.commands.conftest import run_command
from tests.factories import CourseFactory, EnrollmentFactory, UserFactory

pytestmark = pytest.mark.django_db

LOGGER = "enrollments.reminders"


def enroll(clock, email: str, *, title: str, slug: str, first_name: str = "") -> Enrollment:
    return EnrollmentFactory(
        user=UserFactory(email=email, first_name=first_name or email.split("@")[0].title()),
        course=CourseFactory(title=title, slug=slug),
        start_at=clock.current - timedelta(days=10),
        ended_at=clock.current + timedelta(days=2),
    )


def subjects() -> dict[str, str]:
    return {message.to[0]: message.subject for message in mail.outbox}


def test_a_title_with_a_line_break_is_mailed_on_one_line_and_every_course_reminded(clock):
    enroll(clock, "ann@example.com", title="Python\r\nBasics", slug="python-basics")
    enroll(clock, "bob@example.com", title="SQL", slug="sql")
    enroll(clock, "cat@example.com", title="Bcc: all@example.com\nEvil", slug="evil")

    result = run_command("notify_expiring", "--within", "7")

    assert result.status == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout == "Sent 3 expiry reminders (access ending within 7 days).\n"
    assert subjects() == {
        "ann@example.com": "Your access to Python Basics ends on 2026-01-03",
        "bob@example.com": "Your access to SQL ends on 2026-01-03",
        "cat@example.com": "Your access to Bcc: all@example.com Evil ends on 2026-01-03",
    }
    for message in mail.outbox:  # the header a mail server receives: one Subject, no Bcc
        raw = message.message().as_string()
        assert raw.count("\nSubject: ") == 1 and "\nBcc:" not in raw
    assert ExpiryReminder.objects.count() == 3


@pytest.mark.parametrize(
    ("title", "subject_title"),
    [
        ("Tabs\tand  spaces", "Tabs and spaces"),
        ("  Leading and trailing\n", "Leading and trailing"),
        ("Line\u2028separator and next\x85line", "Line separator and next line"),
        ("Red \x1b[31malert\x1b[0m", "Red alert"),
        ("Bell\x07 and unit\x1fseparator", "Bell and unit separator"),
    ],
)
def test_control_characters_in_titles_and_names_never_reach_a_header(clock, title, subject_title):
    enrollment = enroll(clock, "ann@example.com", title=title, slug="t", first_name="Ann\r\nX")

    message = expiry_reminder_message(enrollment)

    assert message.subject == f"Your access to {subject_title} ends on 2026-01-03"
    assert message.body.startswith("Hello Ann X,\n\n")
    assert f'your access to the course "{subject_title}" ends on' in message.body
    message.message()  # Django's header check (BadHeaderError) passes


def test_a_row_that_fails_is_reported_and_skipped_and_the_run_goes_on(clock, caplog):
    # An address with a line break cannot be made safe (it is where the mail goes): that one
    # row fails with Django's BadHeaderError, the others are sent.
    enroll(clock, "ann@example.com", title="Python Basics", slug="python-basics")
    bad = enroll(clock, "bad@example.com\nBcc: x@example.com", title="SQL", slug="sql")
    enroll(clock, "cat@example.com", title="Django", slug="django")
    caplog.set_level(logging.WARNING, logger=LOGGER)

    result = run_command("notify_expiring", "--within", "7")

    assert result.status == 1
    assert sorted(subjects()) == ["ann@example.com", "cat@example.com"]
    assert result.stdout == (
        "Sent 2 expiry reminders (access ending within 7 days). "
        "1 failed (listed on stderr; tried again next run).\n"
    )
    # One line, the learner and course named (the line break shown as a space), the error.
    assert result.stderr == (
        "bad@example.com Bcc: x@example.com in sql (access ends 2026-01-03T00:00:00Z): "
        "failed, skipped (tried again next run): BadHeaderError: "
        "Header values can't contain newlines "
        "(got 'bad@example.com\\nBcc: x@example.com' for header 'To')\n"
    )
    assert result.error == "1 of 3 reminders failed (listed above); the others were done"
    assert not ExpiryReminder.objects.filter(enrollment=bad).exists()
    assert ExpiryReminder.objects.count() == 2
    [record] = [r for r in caplog.records if r.name == LOGGER]
    assert record.levelno == logging.ERROR
    assert record.exc_info is not None  # the traceback is in the log, not on the terminal
    assert str(bad.pk) in record.getMessage()


def test_an_unexpected_error_in_one_row_is_reported_and_the_others_are_sent(clock, monkeypatch):
    enroll(clock, "ann@example.com", title="Python Basics", slug="python-basics")
    enroll(clock, "bob@example.com", title="SQL", slug="sql")
    real_message = expiry_reminder_message

    def message(enrollment, **kwargs):
        if enrollment.course.slug == "python-basics":
            raise RuntimeError("template exploded")
        return real_message(enrollment, **kwargs)

    monkeypatch.setattr("enrollments.reminders.expiry_reminder_message", message)

    result = run_command("notify_expiring", "--within", "7")

    assert result.status == 1
    assert sorted(subjects()) == ["bob@example.com"]
    assert result.stderr == (
        "ann@example.com in python-basics (access ends 2026-01-03T00:00:00Z): "
        "failed, skipped (tried again next run): RuntimeError: template exploded\n"
    )
    assert list(ExpiryReminder.objects.values_list("enrollment__user__email", flat=True)) == [
        "bob@example.com"
    ]

    monkeypatch.setattr("enrollments.reminders.expiry_reminder_message", real_message)
    retry = run_command("notify_expiring", "--within", "7")
    assert (retry.status, retry.stdout) == (
        0,
        "Sent 1 expiry reminders (access ending within 7 days).\n",
    )
    assert sorted(subjects()) == ["ann@example.com", "bob@example.com"]
