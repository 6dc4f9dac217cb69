"""German through the real catalogue (locale/de, issue 26 item 9): the expiry reminder of a
learner whose language is German, the webhook owner's e-mail, and a command's output when
LANGUAGE_CODE is "de" (in this process, as manage.py runs it with no language activated, and in
a process of its own with the variable set). test_reminder_language.py,
test_command_language.py and tests/webhooks/test_owner_language.py show *which* language each
text is asked in (a fake catalogue); these read the German words themselves."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.utils import translation

from enrollments.events import delivery
from enrollments.models import WebhookEndpoint
from enrollments.reminders import expiry_reminder_message
from tests.commands.conftest import enroll
from tests.factories import CourseFactory, EnrollmentFactory, UserFactory
from tests.jobs.worker import sweep_and_send
from tests.subprocesses import SECRET_KEY, run_manage

ENDS = datetime(2026, 1, 2, 23, 30, tzinfo=UTC)


@pytest.fixture
def language_code_de(settings):
    """LANGUAGE_CODE=de with no language activated, as `manage.py` runs a command (changing the
    setting drops Django's cached default translation and the active one)."""
    settings.LANGUAGE_CODE = "de"
    translation.deactivate()
    yield
    translation.deactivate()


@pytest.mark.django_db
def test_a_german_learners_reminder_is_written_in_german():
    learner = UserFactory(
        email="ann@example.com", first_name="Ann", language="de", time_zone="Europe/Berlin"
    )
    enrollment = EnrollmentFactory(user=learner, course__title="Python", ended_at=ENDS)
    with translation.override("en"):  # the sending job's own language does not matter
        message = expiry_reminder_message(enrollment)
    assert message.subject == "Ihr Zugang zu Python endet am 2026-01-03"
    assert message.body == (
        "Hallo Ann,\n\n"
        "Ihr Zugang zum Kurs „Python“ endet am 2026-01-03 um 00:30 CET (Europe/Berlin).\n\n"
        "Wenn Sie mehr Zeit benötigen, antworten Sie auf diese E-Mail oder wenden Sie sich an "
        "Ihre Kursadministration.\n"
    )


@pytest.mark.django_db
def test_the_sent_reminder_is_german_and_an_english_learners_is_not(clock):
    course = CourseFactory(title="Python")
    for email, language in (("ann@example.com", "de"), ("bob@example.com", "en")):
        EnrollmentFactory(
            user=UserFactory(email=email, first_name=email[:3].title(), language=language),
            course=course,
            start_at=clock.current - timedelta(days=10),
            ended_at=ENDS,
        )
    sweep_and_send("--within", "7")
    sent = {message.to[0]: message for message in mail.outbox}
    assert set(sent) == {"ann@example.com", "bob@example.com"}
    german, english = sent["ann@example.com"], sent["bob@example.com"]
    assert german.subject.startswith("Ihr Zugang zu Python endet am ")
    assert german.body.startswith("Hallo Ann,\n\nIhr Zugang zum Kurs „Python“ endet am ")
    assert "Wenn Sie mehr Zeit benötigen" in german.body
    assert english.subject.startswith("Your access to Python ends on ")
    assert english.body.startswith('Hello Bob,\n\nyour access to the course "Python" ends on ')


@pytest.mark.django_db
def test_a_german_webhook_owner_is_told_in_german_and_the_stored_reason_stays_english():
    UserFactory(email="owner@example.com", language="de")
    now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    hook = WebhookEndpoint.objects.create(
        url="https://hooks.example.com/course-access",
        secret="whsec_" + "A" * 32,
        owner_email="owner@example.com",
        created_at=now,
        updated_at=now,
    )
    assert delivery.disable(hook, delivery.expired_reason(timedelta(days=3), 500), now=now)
    (message,) = mail.outbox
    assert (
        message.subject == "Webhook-Endpunkt deaktiviert: https://hooks.example.com/course-access"
    )
    assert message.body.split("\n\n")[:2] == [
        "Der Webhook-Endpunkt https://hooks.example.com/course-access wurde am 2026-01-01 12:00 "
        "UTC deaktiviert.",
        "Grund: Die Zustellungen sind 3 Tage lang fehlgeschlagen: Die letzte Antwort war 500.",
    ]
    hook.refresh_from_db()
    assert hook.disabled_reason == "Deliveries failed for 3 days: the last answer was 500."


def test_a_dry_run_speaks_language_code(run, clock, language_code_de):
    course = CourseFactory(slug="python-basics", title="Python")
    enroll(clock, "bob@example.com", course)
    enroll(clock, "cid@example.com", course, ends_in_days=None)
    result = run("extend_access", "--course", "python-basics", "--days", "7", "--dry-run")
    assert result.status == 1
    lines = result.stdout.splitlines()
    assert lines[0] == (
        "würde verlängern: bob@example.com in python-basics, Zugang endet "
        "2026-01-06T00:00:00Z -> 2026-01-13T00:00:00Z"
    )
    assert lines[1] == (
        "Kein aktivierter Webhook-Endpunkt empfängt dieses 1 Ereignis: Es wird nichts gesendet."
    )
    assert lines[2].startswith("Probelauf, nichts wurde geändert.")
    assert "Würde ändern: 1, unverändert: 0, würde fehlschlagen: 1." in lines[2]
    # The domain error in German, its code (the contract's) as it is.
    assert result.stderr == (
        "cid@example.com in python-basics: Die aktuelle Einschreibung hat kein Enddatum "
        "[NO_END_DATE]\n"
    )
    assert result.error == "1 von 2 Zeilen würden fehlschlagen (Probelauf)"


def test_the_cores_details_and_a_webhook_refusal_in_german_at_the_command_door(
    run, language_code_de
):
    refused = run("extend_access", "--all", "--days", "-5")
    assert refused.error == (
        "--days -5: Ungültiger Verlängerungszeitraum [INVALID_EXTENSION_PERIOD]: die "
        "Verlängerungstage müssen positiv sein"
    )
    # The cloud metadata address: refused whatever the settings, with no DNS.
    url = run("webhooks", "create", "https://169.254.169.254/in")
    assert url.error == (
        "Der Host 169.254.169.254 ist eine Cloud-Metadaten-Adresse: Dorthin werden keine "
        "Webhooks gesendet. (INVALID_WEBHOOK_URL)"
    )


def test_in_english_the_same_lines_are_the_contracts_words(run):
    refused = run("extend_access", "--all", "--days", "-5")
    assert refused.error == (
        "--days -5: Invalid extension period [INVALID_EXTENSION_PERIOD]: extension days must be "
        "positive"
    )
    url = run("webhooks", "create", "https://169.254.169.254/in")
    assert url.error == (
        "The host 169.254.169.254 is a cloud metadata address: webhooks are not sent there. "
        "(INVALID_WEBHOOK_URL)"
    )


def test_manage_py_with_language_code_de_answers_in_german(tmp_path):
    """A process of its own, as an operator runs it: the variable is all it takes."""
    result = run_manage(
        "extend_access",
        "--all",
        "--days",
        "0",
        "--dry-run",
        LANGUAGE_CODE="de",
        SECRET_KEY=SECRET_KEY,
        DATABASE_URL=f"sqlite:///{tmp_path / 'unused.sqlite3'}",
    )
    assert result.returncode == 2
    assert result.stderr == (
        "CommandError: --days 0: Ungültiger Verlängerungszeitraum [INVALID_EXTENSION_PERIOD]: "
        "die Verlängerungstage müssen positiv sein\n"
    )


def test_text_that_is_not_text_is_refused_in_german(run, language_code_de, tmp_path):
    """lms.text's problems, marked in English, translated where a command shows them."""
    argument = run("pause_membership", "--user", "ann\x00@example.com", "--course", "x")
    assert argument.error == "--user: der Wert enthält ein NUL-Zeichen"
    rows = tmp_path / "rows.csv"
    rows.write_text("user,course\nann\x00@example.com,python-basics\n", encoding="utf-8")
    row = run("pause_membership", "--csv", str(rows))
    assert "die Zeile enthält ein NUL-Zeichen" in row.stderr, row
