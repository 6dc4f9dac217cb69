"""Staff acting on the same enrollment at once: every operation counts (PostgreSQL, threads)."""

from datetime import timedelta

import pytest

from enrollments.errors import AlreadyPaused, NotPaused
from enrollments.models import AccessChange, Enrollment
from enrollments.operations import Extend, Pause, Resume, Selection, apply, apply_to_one
from enrollments.operations.audit import Attribution
from tests.factories import EnrollmentFactory
from tests.markers import requires_postgres
from tests.threads import run_at_once

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]

SOURCE = AccessChange.Source.GRAPHQL


def test_ten_concurrent_one_day_extensions_add_ten_days():
    enrollment = EnrollmentFactory()
    start_end = enrollment.ended_at

    results = run_at_once(
        10,
        lambda i: apply_to_one(
            Extend(days=1), Enrollment(pk=enrollment.pk), Attribution(None, SOURCE)
        ),
    )

    assert not [r for r in results if isinstance(r, Exception)]
    enrollment.refresh_from_db()
    assert enrollment.ended_at == start_end + timedelta(days=10)
    audits = AccessChange.objects.filter(enrollment=enrollment).order_by("new_ended_at")
    assert audits.count() == 10
    # Each audit row starts where the previous one ended: a chain, no lost update.
    ends = [(a.old_ended_at, a.new_ended_at) for a in audits]
    assert all(prev[1] == cur[0] for prev, cur in zip(ends, ends[1:], strict=False))


def test_concurrent_pauses_and_resumes_keep_state_coherent():
    enrollment = EnrollmentFactory()

    def toggle(i):
        target = Enrollment(pk=enrollment.pk)
        if i % 2:
            return apply_to_one(Pause(), target, Attribution(None, SOURCE))
        return apply_to_one(Resume(), target, Attribution(None, SOURCE))

    results = run_at_once(12, toggle)

    unexpected = [
        r
        for r in results
        if isinstance(r, Exception) and not isinstance(r, AlreadyPaused | NotPaused)
    ]
    assert not unexpected
    succeeded = [r for r in results if not isinstance(r, Exception)]
    assert AccessChange.objects.filter(enrollment=enrollment).count() == len(succeeded)
    enrollment.refresh_from_db()
    assert enrollment.total_paused_duration >= 0
    assert enrollment.is_paused == (enrollment.paused_at is not None)
    actions = list(
        AccessChange.objects.filter(enrollment=enrollment)
        .order_by("created_at", "action")
        .values_list("action", flat=True)
    )
    # Successful operations alternate pause, resume, pause, ...: none was double-applied.
    assert actions == ["pause", "resume"] * (len(actions) // 2) + ["pause"] * (len(actions) % 2)


def test_bulk_and_single_extensions_over_overlapping_rows_all_count():
    rows = EnrollmentFactory.create_batch(20)
    original = {e.pk: e.ended_at for e in rows}
    targets = [rows[3], rows[7], rows[15]]

    def work(i):
        if i == 0:
            return apply(
                Extend(days=2),
                Selection.by_filter(Enrollment.objects.all()),
                Attribution(None, SOURCE),
            )
        return apply_to_one(
            Extend(days=1), Enrollment(pk=targets[i % 3].pk), Attribution(None, SOURCE)
        )

    results = run_at_once(7, work)

    assert not [r for r in results if isinstance(r, Exception)]
    singles = {t.pk: 0 for t in targets}
    for i in range(1, 7):
        singles[targets[i % 3].pk] += 1
    for enrollment in Enrollment.objects.all():
        expected = original[enrollment.pk] + timedelta(days=2 + singles.get(enrollment.pk, 0))
        assert enrollment.ended_at == expected
    assert AccessChange.objects.count() == 20 + 6


def test_concurrent_bulk_extensions_filtered_on_the_end_they_move_all_count(clock):
    """Each bulk selection is filtered on ended_at, the column both write: its UPDATE, within
    that WHERE (writing.update_locked), still writes every row it locked after the other
    committed, and no row is extended twice by one call or missed."""
    threshold = clock.current
    rows = EnrollmentFactory.create_batch(30, ended_at=threshold + timedelta(days=5))
    original = {e.pk: e.ended_at for e in rows}

    results = run_at_once(
        4,
        lambda i: apply(
            Extend(days=1),
            Selection.by_filter(Enrollment.objects.filter(ended_at__gt=threshold)),
            Attribution(None, SOURCE),
        ),
    )

    assert not [r for r in results if isinstance(r, Exception)]
    assert [r.changed_count for r in results] == [30] * 4
    for enrollment in Enrollment.objects.all():
        assert enrollment.ended_at == original[enrollment.pk] + timedelta(days=4)
    assert AccessChange.objects.count() == 30 * 4
