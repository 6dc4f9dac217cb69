"""`apply_together` (a command's CSV run with --expect) locks every part's rows before it plans
the first part (PostgreSQL, threads). Locked part by part, two such runs naming the same
enrollments in parts of opposite order each held its first part's row and waited for the
other's: PostgreSQL aborted one as a deadlock (40P01), which nothing retried."""

import threading
import time

import pytest
from django.db import OperationalError, connection, transaction

from enrollments import clock as clock_module
from enrollments.errors import ChangedSincePreview
from enrollments.models import AccessChange, Enrollment
from enrollments.operations import Extend, Selection, preview
from enrollments.operations.audit import Attribution
from enrollments.operations.core import apply_together, fingerprint_of
from tests.factories import CourseFactory, EnrollmentFactory
from tests.markers import requires_postgres
from tests.threads import run_at_once

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]

BY = Attribution(None, AccessChange.Source.COMMAND)


def _parts(first, second):
    return [
        (Extend(days=1), Selection.named([first.pk])),
        (Extend(days=2), Selection.named([second.pk])),
    ]


def test_two_runs_with_parts_in_opposite_orders_do_not_deadlock(monkeypatch):
    x, y = EnrollmentFactory.create_batch(2, course=CourseFactory())
    ends = {x.pk: x.ended_at, y.pk: y.ended_at}
    parts = [_parts(x, y), _parts(y, x)]
    expected = [fingerprint_of([preview(op, sel) for op, sel in p]) for p in parts]
    real_now = clock_module.now

    def slow_now():
        # The core reads the clock right after each lock: both runs hold their first lock
        # before either asks for its second, every time.
        time.sleep(0.3)
        return real_now()

    monkeypatch.setattr(clock_module, "now", slow_now)

    results = run_at_once(2, lambda i: apply_together(parts[i], BY, expected=expected[i]))

    # The second gets the documented answer: the rows changed since its dry run.
    assert sum(isinstance(r, ChangedSincePreview) for r in results) == 1, results
    (won,) = [i for i, r in enumerate(results) if isinstance(r, list)]
    first, second = (x, y) if won == 0 else (y, x)
    moved = {pk: Enrollment.objects.get(pk=pk).ended_at - ends[pk] for pk in ends}
    assert (moved[first.pk].days, moved[second.pk].days) == (1, 2)
    assert AccessChange.objects.count() == 2


def test_the_last_parts_rows_are_locked_before_the_first_part_is_planned(monkeypatch):
    x, y = EnrollmentFactory.create_batch(2, course=CourseFactory())
    parts = _parts(x, y)
    expected = fingerprint_of([preview(op, sel) for op, sel in parts])
    real_now = clock_module.now
    seen = []

    def probe():
        """From a connection of its own: can y's row be locked right now?"""
        try:
            with transaction.atomic():
                Enrollment.objects.select_for_update(nowait=True).get(pk=y.pk)
            seen.append("free")
        except OperationalError:
            seen.append("locked")
        finally:
            connection.close()

    def probing_now():
        # The first read inside the transaction is the first part's, right after its lock.
        if connection.in_atomic_block and not seen:
            prober = threading.Thread(target=probe)
            prober.start()
            prober.join(10)
        return real_now()

    monkeypatch.setattr(clock_module, "now", probing_now)

    plans = apply_together(parts, BY, expected=expected)

    assert [plan.changed_count for plan in plans] == [1, 1]
    assert seen == ["locked"]
