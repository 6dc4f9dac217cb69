"""AUDIT_REASON_RETENTION_DAYS (enrollments/privacy/retention.py): the periodic sweep blanks
the reasons older than the setting, once a day at most, keeps every other fact, and records it;
unset, nothing is touched."""

from datetime import timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured

from enrollments import privacy
from enrollments.models import AccessChange, Erasure, OperationRun
from tests.factories import AccessChangeFactory, EnrollmentFactory

pytestmark = pytest.mark.django_db

FACTS = [f.name for f in AccessChange._meta.concrete_fields if f.name != "reason"]


@pytest.fixture
def reasons(clock):
    """Audit rows and runs with reasons, 31 and 29 days old."""
    enrollment = EnrollmentFactory()
    rows = {
        age: AccessChangeFactory(
            enrollment=enrollment, reason=f"{age.days} days ago", created_at=clock.current - age
        )
        for age in (timedelta(days=31), timedelta(days=29))
    }
    for age in (timedelta(days=31), timedelta(days=29)):
        OperationRun.objects.create(
            parts=[],
            description="x",
            source="command",
            reason=f"run {age.days} days ago",
            created_at=clock.current - age,
            finished_at=clock.current - age,
            state="done",
        )
    OperationRun.objects.create(
        parts=[], description="x", source="command", reason="unfinished", created_at=clock.current
    )
    return rows


def reasons_now() -> dict:
    return {
        "audit": sorted(AccessChange.objects.values_list("reason", flat=True)),
        "runs": sorted(OperationRun.objects.values_list("reason", flat=True)),
    }


def test_unset_keeps_every_reason(reasons, settings):
    settings.AUDIT_REASON_RETENTION_DAYS = None
    before = reasons_now()
    assert privacy.blank_old_reasons() is None
    assert reasons_now() == before
    assert not Erasure.objects.exists()


def test_reasons_older_than_the_setting_are_blanked_and_the_facts_kept(reasons, settings, clock):
    settings.AUDIT_REASON_RETENTION_DAYS = 30
    facts = sorted(AccessChange.objects.values_list(*FACTS), key=str)
    record = privacy.blank_old_reasons()
    assert reasons_now() == {
        "audit": ["", "29 days ago"],
        "runs": ["", "run 29 days ago", "unfinished"],
    }
    assert sorted(AccessChange.objects.values_list(*FACTS), key=str) == facts
    assert (record.kind, record.source, record.actor_id, record.learner_id) == (
        "retention",
        "system",
        None,
        None,
    )
    assert record.performed_at == clock.current
    assert record.counts == {
        "retention_days": 30,
        "audit_reasons_blanked": 1,
        "run_reasons_blanked": 1,
    }


def test_it_runs_once_a_day_at_most(reasons, settings, clock):
    settings.AUDIT_REASON_RETENTION_DAYS = 30
    assert privacy.blank_old_reasons() is not None
    clock.advance(days=1, seconds=-1)
    assert privacy.blank_old_reasons() is None
    assert privacy.blank_old_reasons(force=True) is not None  # the forced run counts too
    clock.advance(days=1, seconds=1)
    record = privacy.blank_old_reasons()
    assert record.counts["audit_reasons_blanked"] == 1  # the row that was 29 days old
    assert Erasure.objects.filter(kind="retention").count() == 3


@pytest.mark.parametrize("value", [0, -3, "30", True])
def test_a_setting_that_is_not_a_number_of_days_is_refused(db, settings, value):
    settings.AUDIT_REASON_RETENTION_DAYS = value
    with pytest.raises(ImproperlyConfigured, match="AUDIT_REASON_RETENTION_DAYS"):
        privacy.blank_old_reasons()


def test_a_retention_longer_than_the_calendar_blanks_nothing(reasons, settings, run):
    """A million days ("practically for ever") is a whole number of days, but `now - days` is
    before the year 1: `jobs sweep` died with OverflowError every minute. No row is that old:
    the run blanks nothing and is recorded."""
    settings.AUDIT_REASON_RETENTION_DAYS = 1_000_000
    before = reasons_now()
    result = run("jobs", "sweep")
    assert result.status == 0, result
    assert reasons_now() == before
    [record] = Erasure.objects.filter(kind="retention")
    assert record.counts == {
        "retention_days": 1_000_000,
        "audit_reasons_blanked": 0,
        "run_reasons_blanked": 0,
    }
    settings.AUDIT_REASON_RETENTION_DAYS = 10**12  # past what a timedelta holds
    assert privacy.blank_old_reasons(force=True).counts["audit_reasons_blanked"] == 0


def test_the_jobs_sweep_runs_it(reasons, settings, run):
    settings.AUDIT_REASON_RETENTION_DAYS = 30
    result = run("jobs", "sweep")
    assert result.status == 0
    assert result.stdout.splitlines()[-1] == (
        "Blanked the reasons of 1 audit rows and 1 runs older than 30 days "
        "(AUDIT_REASON_RETENTION_DAYS)."
    )
    again = run("jobs", "sweep")
    assert "Blanked" not in again.stdout


def test_the_jobs_sweep_says_nothing_of_it_when_unset(reasons, settings, run):
    settings.AUDIT_REASON_RETENTION_DAYS = None
    result = run("jobs", "sweep")
    assert result.status == 0 and "Blanked" not in result.stdout
    assert reasons_now()["audit"] == ["29 days ago", "31 days ago"]
