"""`manage.py erase_learner`: the preview always, `--dry-run` stops there, `--yes` erases;
its refusals and usage errors write nothing."""

import pytest

from enrollments.models import Erasure
from enrollments.permissions import ERASE_LEARNER
from lms.models import User
from tests.factories import StaffFactory
from tests.privacy.helpers import EMAIL, NAMES, grant, naming

pytestmark = pytest.mark.django_db


def untouched(history) -> bool:
    return User.objects.get(pk=history.learner.pk).email == EMAIL and not Erasure.objects.exists()


def test_dry_run_prints_the_preview_and_writes_nothing(history, run):
    result = run("erase_learner", EMAIL, "--dry-run")
    assert result.status == 0
    lines = result.stdout.splitlines()
    assert lines[0] == f"Would erase learner {history.learner.pk}: {EMAIL} (Zebulon Quillfeather)"
    assert "  6  audit rows about them kept (actions, dates, values, actors)" in lines
    assert "  5  reasons of the audit rows about them blanked" in lines
    assert lines[-1] == "Dry run, nothing was changed. To erase: --yes"
    assert untouched(history)


def test_without_yes_it_previews_and_refuses(history, run):
    result = run("erase_learner", EMAIL)
    assert result.status == 2
    assert result.error == (
        "nothing was erased: add --yes to erase this learner (--dry-run to preview only)"
    )
    assert "audit rows about them kept" in result.stdout
    assert untouched(history)


def test_yes_erases_and_names_the_learner_by_id_afterwards(history, run):
    result = run("erase_learner", EMAIL, "--yes", "--actor", history.staff.email)
    assert result.status == 0, result.error
    record = Erasure.objects.get()
    learner = User.objects.get(pk=history.learner.pk)
    assert result.stdout.splitlines()[-1] == (
        f"Erased learner {learner.pk}: now {learner.email}, log-in disabled. "
        f"Erasure record: {record.pk}"
    )
    assert (record.actor_id, record.source) == (history.staff.pk, "command")
    assert naming(*NAMES) == []


def test_without_actor_the_record_names_no_one(history, run):
    assert run("erase_learner", str(history.learner.pk), "--yes").status == 0
    assert Erasure.objects.get().actor_id is None


def test_usage_errors(history, run):
    unknown = run("erase_learner", "nobody@example.org", "--yes")
    assert (unknown.status, unknown.error) == (
        2,
        "LEARNER 'nobody@example.org': no user with that e-mail or id",
    )
    both = run("erase_learner", EMAIL, "--yes", "--dry-run")
    assert (both.status, both.error) == (2, "--dry-run and --yes exclude each other")
    bare = StaffFactory()
    refused = run("erase_learner", EMAIL, "--yes", "--actor", bare.email)
    assert refused.status == 2
    assert refused.error == f"--actor '{bare.email}': lacks the permission lms.erase_learner"
    assert refused.stdout == ""
    assert untouched(history)


def test_refusals_exit_1_and_write_nothing(history, run):
    me = run("erase_learner", EMAIL, "--yes", "--actor", EMAIL)
    assert me.status == 2  # an inactive or permission-less actor is a usage error first
    grant(history.learner, ERASE_LEARNER)
    themselves = run("erase_learner", EMAIL, "--yes", "--actor", EMAIL)
    assert (themselves.status, themselves.error) == (1, "You cannot erase your own account.")
    boss = StaffFactory(is_superuser=True)
    over = run("erase_learner", boss.email, "--yes", "--actor", history.staff.email)
    assert over.status == 1 and "can do more than you" in over.error
    assert untouched(history)
    assert run("erase_learner", EMAIL, "--yes").status == 0
    again = run("erase_learner", str(history.learner.pk), "--yes")
    assert again.status == 1 and again.error.endswith("is already erased.")
    assert Erasure.objects.count() == 1
