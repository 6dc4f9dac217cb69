"""notify_expiring: one bad row cannot stop the others.

A course title with a line break (stored before the course form refused it) used to raise
Django's BadHeaderError out of the run: a traceback, and no reminder for any course, every hour.
Titles and names are now rendered on one line into headers; and a reminder whose send fails for
any other reason than the mail server (a fault of the row) fails its own job alone: logged at
ERROR with the traceback, recorded by the worker as a failed task with that traceback, its claim
deleted so that the next sweep tries again, while the other reminders' jobs send theirs.
"""

import logging
from datetime import timedelta

import pytest
from django.core import mail

from enrollments.models import Enrollment, ExpiryReminder
from enrollments.reminders import expiry_reminder_message
from tests.factories import CourseFactory, EnrollmentFactory, UserFactory
from tests.jobs.worker import run_jobs, sweep, sweep_and_send

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

    result = sweep_and_send("--within", "7")

    assert result.status == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout == (
        "Queued 3 expiry reminders for sending (access ending within 7 days).\n"
    )
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


def test_a_row_that_fails_fails_its_own_job_and_the_others_are_sent(clock, caplog):
    # An address with a line break cannot be made safe (it is where the mail goes): that one
    # reminder fails with Django's BadHeaderError, the others are sent.
    enroll(clock, "ann@example.com", title="Python Basics", slug="python-basics")
    bad = enroll(clock, "bad@example.com\nBcc: x@example.com", title="SQL", slug="sql")
    enroll(clock, "cat@example.com", title="Django", slug="django")
    caplog.set_level(logging.WARNING, logger=LOGGER)

    result = sweep("--within", "7")
    jobs = run_jobs()

    assert (result.status, result.stderr) == (0, "")
    assert sorted(subjects()) == ["ann@example.com", "cat@example.com"]
    assert sorted(job.status for job in jobs) == ["FAILED", "SUCCESSFUL", "SUCCESSFUL"]
    [failed] = [job for job in jobs if job.status == "FAILED"]
    assert failed.exception_class_path == "django.core.mail.message.BadHeaderError"
    assert "Header values can't contain newlines" in failed.traceback
    # The claim is deleted: nothing recorded for that learner, the next sweep tries again.
    assert not ExpiryReminder.objects.filter(enrollment=bad).exists()
    assert ExpiryReminder.objects.filter(state=ExpiryReminder.State.SENT).count() == 2
    [record] = [r for r in caplog.records if r.name == LOGGER]
    assert record.levelno == logging.ERROR
    assert record.exc_info is not None  # the traceback is in the log
    assert str(bad.pk) in record.getMessage()
    assert sweep("--within", "7").stdout.startswith("Queued 1 ")


def test_an_unexpected_error_in_one_row_is_reported_and_the_others_are_sent(clock, monkeypatch):
    enroll(clock, "ann@example.com", title="Python Basics", slug="python-basics")
    enroll(clock, "bob@example.com", title="SQL", slug="sql")
    real_message = expiry_reminder_message

    def message(enrollment, **kwargs):
        if enrollment.course.slug == "python-basics":
            raise RuntimeError("template exploded")
        return real_message(enrollment, **kwargs)

    monkeypatch.setattr("enrollments.reminders.expiry_reminder_message", message)

    sweep("--within", "7")
    jobs = run_jobs()

    assert sorted(subjects()) == ["bob@example.com"]
    assert sorted((job.status, job.exception_class_path) for job in jobs) == [
        ("FAILED", "builtins.RuntimeError"),
        ("SUCCESSFUL", ""),
    ]
    assert list(ExpiryReminder.objects.values_list("enrollment__user__email", flat=True)) == [
        "bob@example.com"
    ]

    monkeypatch.setattr("enrollments.reminders.expiry_reminder_message", real_message)
    retry = sweep_and_send("--within", "7")
    assert (retry.status, retry.stdout) == (
        0,
        "Queued 1 expiry reminders for sending (access ending within 7 days).\n",
    )
    assert sorted(subjects()) == ["ann@example.com", "bob@example.com"]
