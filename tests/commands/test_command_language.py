"""The commands' words go through the catalogue (docs/admin.md "Languages"): every command's
help renders (a lazy `help` made a str for argparse: lms.command_options.TranslatedCommand), and
a domain error's message is translated at the command door while its code is not. The commands
speak LANGUAGE_CODE; tests/test_marked_for_translation.py checks that nothing is left unmarked,
tests/fake_catalogue.py stands in for the German catalogue here."""

import pytest
from django.core.management import get_commands, load_command_class
from django.utils import translation

from enrollments.events.previewing import PlannedDeliveries
from enrollments.management import bulk_command, output
from enrollments.management.bulk_command import deliveries_sentence
from enrollments.privacy import erasure
from tests import fake_catalogue
from tests.factories import CourseFactory, UserFactory

PROJECT_APPS = ("enrollments", "apikeys", "lms")
COMMANDS = sorted(name for name, app in get_commands().items() if app in PROJECT_APPS)


def test_the_project_has_its_commands():
    assert {"extend_access", "jobs", "webhooks", "create_api_key", "course_roles"} <= set(COMMANDS)


@pytest.mark.parametrize("name", COMMANDS)
def test_every_commands_help_renders_in_the_active_language(name):
    command = load_command_class(get_commands()[name], name)
    with translation.override("de"):
        text = command.create_parser("manage.py", name).format_help()
        first_words = " ".join(str(type(command).help).split()[:4])
    assert first_words in " ".join(text.split())
    # The German catalogue's words, not the English ones.
    with translation.override("en"):
        english = " ".join(str(type(command).help).split()[:4])
    assert first_words != english


@pytest.mark.django_db
def test_a_domain_error_is_translated_at_the_command_door_its_code_is_not(monkeypatch, run):
    fake_catalogue.install(monkeypatch, output)
    UserFactory(email="ann@example.com")
    CourseFactory(slug="python-basics")
    with translation.override("de"):  # as with LANGUAGE_CODE=de
        result = run("pause_membership", "--user", "ann@example.com", "--course", "python-basics")
    assert result.status == 1
    assert "[de] Student is not enrolled in this course [NOT_ENROLLED]" in result.stderr, (
        result.stderr
    )


@pytest.mark.django_db
def test_in_english_the_same_line_is_the_contracts_words(run):
    UserFactory(email="ann@example.com")
    CourseFactory(slug="python-basics")
    result = run("pause_membership", "--user", "ann@example.com", "--course", "python-basics")
    assert result.stderr == (
        "--user ann@example.com --course python-basics: Student is not enrolled in this course "
        "[NOT_ENROLLED]\n"
    )


def test_machine_output_is_never_translated(monkeypatch):
    fake_catalogue.install(monkeypatch, output)
    with translation.override("de"):
        assert output.machine_instant(None) == "indefinite"
        assert output.format_instant(None) == "[de] indefinite"


@pytest.mark.parametrize(("events", "endpoints"), [(0, 0), (1, 0), (3, 0), (1, 1), (1234, 2)])
def test_the_dry_runs_deliveries_sentence_is_the_cores_words_in_english(events, endpoints):
    planned = PlannedDeliveries(events=events, endpoints=endpoints)
    assert deliveries_sentence(planned) == planned.sentence("Applying this plan")


def test_the_dry_runs_deliveries_sentence_is_translated_whole(monkeypatch):
    fake_catalogue.install(monkeypatch, bulk_command)
    with translation.override("de"):
        sentence = deliveries_sentence(PlannedDeliveries(events=3, endpoints=2))
    assert sentence == "[de] Applying this plan sends [de] 3 events to [de] 2 webhook endpoints."


@pytest.mark.django_db
def test_an_erasure_refused_is_translated_at_the_command_door(monkeypatch, run):
    fake_catalogue.install(monkeypatch, erasure)
    learner = UserFactory(email="ann@example.com")
    assert run("erase_learner", str(learner.pk), "--yes").status == 0
    learner.refresh_from_db()
    with translation.override("de"):
        again = run("erase_learner", str(learner.pk), "--yes")
    assert again.status == 1
    assert again.error == f"[de] {learner.email} is already erased."
    english = run("erase_learner", str(learner.pk), "--yes")
    assert english.error == f"{learner.email} is already erased."
