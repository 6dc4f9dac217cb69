"""Undoing a batch while someone changes one of its rows (PostgreSQL, real threads): the row
is skipped when the change commits first, the change applies after the undo when the undo
commits first; either way the other rows are restored and nothing is lost."""

import threading
from datetime import timedelta

import pytest
from django.db import transaction

from enrollments.models import AccessChange, Enrollment
from enrollments.operations import Extend, Pause, Selection, Undo, apply
from enrollments.operations.audit import Attribution
from enrollments.operations.undoing import batch_selection
from tests.factories import CourseFactory, EnrollmentFactory
from tests.markers import requires_postgres
from tests.threads import run_at_once

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]

SYSTEM = Attribution(None, AccessChange.Source.SYSTEM)
WAIT = 10  # seconds: a thread that waits longer has deadlocked


@pytest.fixture
def batch():
    """Ten enrollments extended by 30 days in one batch; their ends before it."""
    course = CourseFactory()
    rows = EnrollmentFactory.create_batch(10, course=course)
    original = {e.pk: e.ended_at for e in rows}
    done = apply(Extend(days=30), Selection.named(original), SYSTEM)
    return done.batch_id, sorted(original), original


def undo(batch_id):
    return apply(Undo(batch_id), batch_selection(batch_id), SYSTEM)


def pause(pk):
    return apply(Pause(), Selection.named([pk]), SYSTEM)


def ends() -> dict:
    return dict(Enrollment.objects.values_list("pk", "ended_at"))


def held_until(work, started: threading.Event, release: threading.Event):
    """Runs `work` in a transaction that commits only once `release` is set."""

    def run(_i=None):
        with transaction.atomic():
            result = work()
            started.set()
            assert release.wait(WAIT)
        return result

    return run


def in_thread(target):
    results = []
    thread = threading.Thread(target=lambda: results.append(_safely(target)))
    thread.start()
    return thread, results


def _safely(target):
    from django.db import connection

    try:
        return target()
    except Exception as error:  # noqa: BLE001 - the test inspects it
        return error
    finally:
        connection.close()


def held_while_waiting(first, second) -> tuple[list, list]:
    """Runs `first` in a transaction held open, then `second`, which must wait for the row
    lock `first` holds; commits `first`, then lets `second` finish. Their results (or
    exceptions), each in a list."""
    started, release = threading.Event(), threading.Event()
    holder, held = in_thread(held_until(first, started, release))
    assert started.wait(WAIT)  # `first` holds the row locks, not committed yet
    waiter, waited = in_thread(second)
    waiter.join(0.5)
    assert waiter.is_alive()  # `second` waits for a row lock
    release.set()
    holder.join(WAIT)
    waiter.join(WAIT)
    return held, waited


def test_a_change_committed_first_makes_the_undo_skip_its_row(batch):
    batch_id, ids, original = batch
    target = ids[5]
    # The pause holds the row's lock; the undo waits for it.
    _paused, undone = held_while_waiting(lambda: pause(target), lambda: undo(batch_id))

    plan = undone[0]
    assert [(s.enrollment_id, s.error.code) for s in plan.skips] == [
        (target, "CHANGED_SINCE_BATCH")
    ]
    now = ends()
    assert {pk: now[pk] for pk in ids if pk != target} == {
        pk: end for pk, end in original.items() if pk != target
    }
    assert now[target] == original[target] + timedelta(days=30)
    assert Enrollment.objects.get(pk=target).is_paused
    undo_rows = AccessChange.objects.filter(undoes_batch_id=batch_id)
    assert sorted(undo_rows.values_list("enrollment_id", flat=True)) == [
        pk for pk in ids if pk != target
    ]
    assert AccessChange.objects.filter(enrollment_id=target, action="pause").count() == 1


def test_an_undo_committed_first_lets_the_change_apply_after(batch):
    batch_id, ids, original = batch
    target = ids[5]
    # The undo holds every row's lock; the pause waits for its row's.
    undone, _paused = held_while_waiting(lambda: undo(batch_id), lambda: pause(target))

    assert undone[0].changed_count == 10
    assert ends() == original  # every row restored, the paused one too
    enrollment = Enrollment.objects.get(pk=target)
    assert enrollment.is_paused
    pause_row = AccessChange.objects.get(enrollment_id=target, action="pause")
    assert pause_row.old_ended_at == original[target]  # planned on the restored state
    assert AccessChange.objects.filter(undoes_batch_id=batch_id).count() == 10


def test_undo_and_change_released_together_lose_nothing(batch):
    batch_id, ids, original = batch
    target = ids[3]

    results = run_at_once(2, lambda i: undo(batch_id) if i == 0 else pause(target))

    assert not [r for r in results if isinstance(r, Exception)]
    plan = results[0]
    now = ends()
    enrollment = Enrollment.objects.get(pk=target)
    assert enrollment.is_paused  # the pause is never lost
    if plan.skips:  # the pause committed first
        assert [s.enrollment_id for s in plan.skips] == [target]
        assert now[target] == original[target] + timedelta(days=30)
    else:  # the undo committed first: the pause applied to the restored row
        assert now[target] == original[target]
    assert {pk: now[pk] for pk in ids if pk != target} == {
        pk: end for pk, end in original.items() if pk != target
    }
    undo_rows = AccessChange.objects.filter(undoes_batch_id=batch_id).count()
    assert undo_rows == plan.changed_count == 10 - len(plan.skips)
