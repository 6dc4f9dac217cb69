"""Erasing a learner while they are being enrolled (PostgreSQL, threads): neither waits for the
other in a circle, and the enrollment either commits before the erasure reads their rows (and
is erased with them: its audit row's reason blanked) or waits for it.

The core locks the learner's existing enrollment, then inserts the new one, whose foreign key
takes FOR KEY SHARE on the account. The erasure locked the account FOR UPDATE first, then the
enrollments: opposite orders, a deadlock (40P01) that nothing retried."""

import threading
import time

import pytest

from enrollments import clock as clock_module
from enrollments import privacy
from enrollments.models import AccessChange, Enrollment
from enrollments.operations import core
from enrollments.operations.audit import Attribution
from enrollments.operations.enrolling import Enroll, PairToEnroll, enroll
from enrollments.privacy import erasure as erasure_module
from tests.factories import CourseFactory, EnrollmentFactory, UserFactory
from tests.markers import requires_postgres
from tests.threads import run_at_once

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]

EMAIL = "lea.race@example.com"
#: A reason naming the learner: the erasure blanks it on every audit row of theirs.
BY = Attribution(None, AccessChange.Source.ADMIN, reason=f"asked by {EMAIL}")


def _erase(learner):
    return privacy.erase_learner(learner, actor=None, source=AccessChange.Source.COMMAND)


def _reasons(learner) -> set[str]:
    return set(
        AccessChange.objects.filter(enrollment__user=learner).values_list("reason", flat=True)
    )


def test_an_enrollment_holding_the_learners_row_lock_and_an_erasure_both_finish(monkeypatch):
    first, second = CourseFactory(), CourseFactory()
    learner = UserFactory(email=EMAIL)
    EnrollmentFactory(user=learner, course=first)
    real_now = clock_module.now
    role = threading.local()
    locked = threading.Event()
    reads = []

    def slow_now():
        if getattr(role, "enrolling", False):
            reads.append(1)
            if len(reads) == 2:  # the core's read right after its row lock (the first: validate)
                locked.set()
                time.sleep(0.6)  # the erasure starts meanwhile and meets that lock
        return real_now()

    monkeypatch.setattr(clock_module, "now", slow_now)

    def work(i):
        if i == 0:
            role.enrolling = True
            targets = (PairToEnroll(learner, first), PairToEnroll(learner, second))
            return enroll(Enroll(targets), BY)
        assert locked.wait(10)
        time.sleep(0.1)
        return _erase(learner)

    plan, erasure = run_at_once(2, work)

    assert not isinstance(plan, Exception), plan
    assert not isinstance(erasure, Exception), erasure
    # The enrollment committed first, so its new row is the erasure's too.
    assert plan.changed_count == 1
    assert Enrollment.objects.filter(user=learner).count() == 2
    assert erasure.counts["enrollments_kept"] == 2
    assert _reasons(learner) == {""}


def test_an_enrollment_committed_while_the_erasure_runs_is_erased_too(monkeypatch):
    """The account's first lock (FOR NO KEY UPDATE) lets a new enrollment of theirs commit
    after the erasure read their enrollments and before it changes their address: the
    erasure locks their enrollments once more after that change and erases that one too."""
    first, second = CourseFactory(), CourseFactory()
    learner = UserFactory(email=EMAIL)
    EnrollmentFactory(user=learner, course=first)
    role = threading.local()
    inserted, committed = threading.Event(), threading.Event()
    real_save, real_check = core.save_audit_rows, erasure_module._check

    def save_then_hold(rows):
        real_save(rows)
        if getattr(role, "enrolling", False):
            inserted.set()
            time.sleep(0.5)  # the new row written, its transaction still open

    def check_after_the_commit(learner, actor):
        # The erasure has read the learner's enrollments (without the new one): it goes on
        # once the enrollment has committed (with FOR UPDATE on the account, that commit
        # waited for the erasure instead, the wait here giving up after a while).
        committed.wait(5)
        return real_check(learner, actor)

    monkeypatch.setattr(core, "save_audit_rows", save_then_hold)
    monkeypatch.setattr(erasure_module, "_check", check_after_the_commit)

    def work(i):
        if i == 0:
            role.enrolling = True
            try:
                return enroll(Enroll((PairToEnroll(learner, second),)), BY)
            finally:
                committed.set()
        assert inserted.wait(10)
        return _erase(learner)

    plan, erasure = run_at_once(2, work)

    assert not isinstance(plan, Exception), plan
    assert not isinstance(erasure, Exception), erasure
    assert Enrollment.objects.filter(user=learner).count() == 2
    assert erasure.counts["enrollments_kept"] == 2
    assert _reasons(learner) == {""}
