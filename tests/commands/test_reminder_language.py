"""The expiry reminder in the learner's language (enrollments/reminders.py): written under
`translation.override(User.language)`, LANGUAGE_CODE when the learner has none (or one the site
no longer offers), whatever language the sending job runs in. English word for word as before
(test_reminder_time_zone.py and test_notify_expiring.py check the words).

Until the German catalogue has its msgstr, two witnesses: the language active while
`reminder_text` (the seam that writes subject and body) runs, and tests/fake_catalogue.py,
whose gettext tags each sentence with the language it was asked in."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.utils import translation

from enrollments import reminders
from enrollments.reminders import expiry_reminder_message
from tests import fake_catalogue
from tests.factories import EnrollmentFactory, UserFactory
from tests.jobs.worker import sweep_and_send

pytestmark = pytest.mark.django_db

ENDS = datetime(2026, 1, 2, 23, 30, tzinfo=UTC)


def enrollment_for(language: str, **user):
    learner = UserFactory(email="ann@example.com", first_name="Ann", language=language, **user)
    return EnrollmentFactory(user=learner, course__title="Python", ended_at=ENDS)


@pytest.fixture
def languages_seen(monkeypatch) -> list:
    """The language active each time the reminder's text is written."""
    seen: list = []
    write = reminders.reminder_text

    def watched(enrollment):
        seen.append(translation.get_language())
        return write(enrollment)

    monkeypatch.setattr(reminders, "reminder_text", watched)
    return seen


@pytest.mark.parametrize(
    ("language", "expected"),
    [("de", "de"), ("en", "en"), ("", "en-us"), ("fr", "en-us")],
)
def test_the_text_is_written_in_the_learners_language(languages_seen, language, expected):
    with translation.override("en"):  # the job's own language does not matter
        expiry_reminder_message(enrollment_for(language))
        assert translation.get_language() == "en"  # and is given back afterwards
    assert languages_seen == [expected]


def test_a_german_learner_reads_every_sentence_through_the_german_catalogue(monkeypatch):
    fake_catalogue.install(monkeypatch, reminders)
    message = expiry_reminder_message(enrollment_for("de", time_zone="Europe/Berlin"))
    assert message.subject == "[de] Your access to Python ends on 2026-01-03"
    greeting, sentence, closing = message.body.rstrip("\n").split("\n\n")
    assert greeting == "[de] Hello Ann,"
    assert sentence == (
        '[de] your access to the course "Python" ends on '
        "[de] 2026-01-03 at 00:30 CET (Europe/Berlin)."
    )
    assert closing.startswith("[de] If you need more time")


def test_an_english_learner_gets_the_words_as_before(monkeypatch):
    fake_catalogue.install(monkeypatch, reminders)
    message = expiry_reminder_message(enrollment_for(""))
    assert message.subject == "Your access to Python ends on 2026-01-02"
    assert message.body == (
        "Hello Ann,\n\n"
        'your access to the course "Python" ends on 2026-01-02 at 23:30 UTC.\n\n'
        "If you need more time, reply to this e-mail or contact your course administrator.\n"
    )


def test_the_sent_reminder_goes_through_the_learners_language(clock, languages_seen):
    learner = UserFactory(email="ann@example.com", language="de")
    EnrollmentFactory(user=learner, start_at=clock.current - timedelta(days=10), ended_at=ENDS)
    sweep_and_send("--within", "7")
    assert len(mail.outbox) == 1
    assert languages_seen == ["de"]
