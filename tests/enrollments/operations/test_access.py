"""Extend through the operation core: one enrollment (`apply_to_one`) and in bulk (`apply`)."""

import uuid
from datetime import timedelta

import pytest

from enrollments.access_window import MAX_ENDED_AT
from enrollments.errors import (
    InvalidExtensionPeriod,
    InvalidReason,
    MembershipNotFound,
    NoEndDate,
)
from enrollments.models import AccessChange, Enrollment
from enrollments.operations import Extend, Selection, apply, apply_to_one
from enrollments.operations import core as core_module
from enrollments.operations.audit import Attribution
from tests.factories import EnrollmentFactory

DAY = timedelta(days=1)
SOURCE = AccessChange.Source.GRAPHQL

pytestmark = pytest.mark.django_db


def extend(enrollment, actor=None, reason="", **kwargs):
    return apply_to_one(Extend(**kwargs), enrollment, Attribution(actor, SOURCE, reason))


def state_of_everything():
    """Every enrollment's access fields and every audit row: compared before/after a failure."""
    return (
        list(
            Enrollment.objects.order_by("pk").values_list(
                "pk", "ended_at", "is_paused", "updated_at"
            )
        ),
        list(AccessChange.objects.order_by("pk").values_list("pk")),
    )


class TestExtendOne:
    def test_by_days_counts_from_the_current_end_and_is_audited(self, enrollment, operator, clock):
        old_end = enrollment.ended_at
        result = extend(enrollment, operator, days=30, reason="support ticket 42")

        enrollment.refresh_from_db()
        assert enrollment.ended_at == old_end + 30 * DAY == result.ended_at
        assert enrollment.updated_at == clock.current
        change = AccessChange.objects.get(enrollment=enrollment)
        assert change.action == AccessChange.Action.EXTEND
        assert (change.old_ended_at, change.new_ended_at) == (old_end, old_end + 30 * DAY)
        assert (change.actor, change.source, change.reason) == (
            operator,
            SOURCE,
            "support ticket 42",
        )
        # Every apply is one audited batch, a single change too (an undo can name it).
        assert change.created_at == clock.current and change.batch_id is not None

    def test_by_days_from_an_end_in_the_past(self, clock):
        expired = EnrollmentFactory(ended_at=clock.current - 40 * DAY)
        extend(expired, days=30)
        expired.refresh_from_db()
        assert expired.ended_at == clock.current - 10 * DAY

    def test_to_a_new_end(self, enrollment, clock):
        until = clock.current + 100 * DAY
        extend(enrollment, until=until, days=5)
        enrollment.refresh_from_db()
        assert enrollment.ended_at == until
        assert AccessChange.objects.get().action == AccessChange.Action.SET_END

    def test_indefinite_wins(self, enrollment):
        extend(enrollment, indefinite=True, days=-3)
        enrollment.refresh_from_db()
        assert enrollment.ended_at is None
        change = AccessChange.objects.get()
        assert change.action == AccessChange.Action.GRANT_INDEFINITE and change.new_ended_at is None

    def test_indefinite_on_indefinite_succeeds_and_changes_nothing(self, clock):
        forever = EnrollmentFactory(ended_at=None)
        before = state_of_everything()
        assert extend(forever, indefinite=True).ended_at is None
        assert state_of_everything() == before

    @pytest.mark.parametrize(
        "kwargs",
        [{}, {"days": 0}, {"days": -1}, {"days": 2**31 - 1}, {"days": 10**9}],
        ids=str,
    )
    def test_invalid_period_changes_nothing(self, enrollment, kwargs):
        before = state_of_everything()
        with pytest.raises(InvalidExtensionPeriod, match="^Invalid extension period$"):
            extend(enrollment, **kwargs)
        assert state_of_everything() == before

    def test_new_end_not_later_than_now_and_current_end(self, enrollment, clock):
        before = state_of_everything()
        for until in (
            clock.current - DAY,
            clock.current,
            enrollment.ended_at - DAY,
            enrollment.ended_at,
        ):
            with pytest.raises(InvalidExtensionPeriod):
                extend(enrollment, until=until)
        assert state_of_everything() == before

    def test_past_the_2038_limit(self, clock):
        near_limit = EnrollmentFactory(ended_at=MAX_ENDED_AT - DAY)
        with pytest.raises(InvalidExtensionPeriod):
            extend(near_limit, days=2)
        with pytest.raises(InvalidExtensionPeriod):
            extend(near_limit, until=MAX_ENDED_AT + timedelta(seconds=1))
        extend(near_limit, until=MAX_ENDED_AT)
        near_limit.refresh_from_db()
        assert near_limit.ended_at == MAX_ENDED_AT

    @pytest.mark.parametrize("kwargs", [{"days": 1}, {"until": "future"}], ids=str)
    def test_no_end_date(self, clock, kwargs):
        forever = EnrollmentFactory(ended_at=None)
        if kwargs.get("until"):
            kwargs = {"until": clock.current + DAY}
        with pytest.raises(NoEndDate, match="^Current enrollment has no end date$"):
            extend(forever, **kwargs)
        assert not AccessChange.objects.exists()

    def test_a_deleted_enrollment(self, enrollment):
        Enrollment.objects.filter(pk=enrollment.pk).delete()
        with pytest.raises(MembershipNotFound):
            extend(enrollment, days=1)

    def test_extends_from_the_stored_value_not_a_stale_object(self, enrollment):
        original_end = enrollment.ended_at
        stale = Enrollment.objects.get(pk=enrollment.pk)
        extend(enrollment, days=1)
        result = extend(stale, days=1)
        enrollment.refresh_from_db()
        assert enrollment.ended_at == result.ended_at == original_end + 2 * DAY
        assert AccessChange.objects.count() == 2

    def test_query_count(self, enrollment, django_assert_num_queries):
        # savepoint, lock, update, audit insert, event insert, release
        with django_assert_num_queries(6, exact=False):
            extend(enrollment, days=1)


class TestExtendBulk:
    def test_changes_and_skips_with_one_batch_id(self, clock, operator):
        ok = EnrollmentFactory.create_batch(3, ended_at=clock.current + DAY)
        forever = EnrollmentFactory(ended_at=None)
        long_expired = EnrollmentFactory(ended_at=clock.current - 100 * DAY)

        result = apply(
            Extend(days=30),
            Selection.by_filter(Enrollment.objects.all()),
            Attribution(operator, SOURCE, "outage"),
        )

        assert {c.enrollment_id for c in result.changes} == {e.pk for e in ok}
        assert {(s.enrollment_id, s.error.code) for s in result.skips} == {
            (forever.pk, "NO_END_DATE"),
            (long_expired.pk, "STILL_EXPIRED"),
        }
        for e in ok:
            e.refresh_from_db()
            assert e.ended_at == clock.current + 31 * DAY and e.updated_at == clock.current
        audits = AccessChange.objects.all()
        assert audits.count() == 3
        assert {a.batch_id for a in audits} == {result.batch_id}
        assert {(a.actor_id, a.source, a.reason, a.action) for a in audits} == {
            (operator.pk, SOURCE, "outage", AccessChange.Action.EXTEND)
        }
        forever.refresh_from_db()
        long_expired.refresh_from_db()
        assert forever.ended_at is None and long_expired.ended_at == clock.current - 100 * DAY

    def test_set_end_and_indefinite(self, clock):
        a, b = EnrollmentFactory.create_batch(2, ended_at=clock.current + DAY)
        until = clock.current + 50 * DAY
        result = apply(
            Extend(until=until),
            Selection.by_filter(Enrollment.objects.filter(pk=a.pk)),
            Attribution(None, SOURCE),
        )
        assert [c.new_ended_at for c in result.changes] == [until]
        apply(
            Extend(indefinite=True),
            Selection.by_filter(Enrollment.objects.all()),
            Attribution(None, SOURCE),
        )
        assert set(Enrollment.objects.values_list("ended_at", flat=True)) == {None}
        assert AccessChange.objects.filter(action="grant_indefinite").count() == 2

    def test_a_queryset_with_joins_and_distinct(self, clock):
        EnrollmentFactory.create_batch(2, ended_at=clock.current + DAY)
        queryset = (
            Enrollment.objects.select_related("course", "user")
            .filter(course__slug__startswith="course")
            .distinct()
        )
        result = apply(Extend(days=1), Selection.by_filter(queryset), Attribution(None, SOURCE))
        assert result.changed_count == 2

    def test_invalid_request_raises_before_reading(self, enrollment, django_assert_num_queries):
        with django_assert_num_queries(0), pytest.raises(InvalidExtensionPeriod):
            apply(
                Extend(days=0),
                Selection.by_filter(Enrollment.objects.all()),
                Attribution(None, SOURCE),
            )

    def test_failure_half_way_changes_nothing(self, clock, monkeypatch):
        EnrollmentFactory.create_batch(5, ended_at=clock.current + DAY)
        before = state_of_everything()
        # One row per chunk, and the third chunk's audit insert fails: two chunks were already
        # updated and audited inside the transaction when it breaks. (A selection with a join
        # is written in chunks by id on every database; one on the enrollment table alone is
        # one UPDATE on PostgreSQL.)
        monkeypatch.setattr(core_module, "CHUNK_SIZE", 1)
        original_save = core_module.save_audit_rows
        calls = []

        def save_then_fail(rows):
            calls.append(1)
            if len(calls) == 3:
                raise RuntimeError("database went away")
            original_save(rows)

        monkeypatch.setattr(core_module, "save_audit_rows", save_then_fail)
        with pytest.raises(RuntimeError):
            apply(
                Extend(days=7),
                Selection.by_filter(Enrollment.objects.filter(user__is_active=True)),
                Attribution(None, SOURCE),
            )
        assert len(calls) == 3
        assert state_of_everything() == before

    def test_query_count_does_not_grow_with_rows(self, clock, django_assert_max_num_queries):
        EnrollmentFactory.create_batch(50, ended_at=clock.current + DAY)
        # savepoint, lock+read, one UPDATE, the audit and event INSERTs, release: per 2,000
        # rows, not per row
        with django_assert_max_num_queries(7):
            result = apply(
                Extend(days=1),
                Selection.by_filter(Enrollment.objects.all()),
                Attribution(None, SOURCE),
            )
        assert result.changed_count == 50


def test_bulk_calls_of_one_operation_can_share_a_batch_id(clock):
    first, second = EnrollmentFactory.create_batch(2, ended_at=clock.current + DAY)
    batch_id = uuid.uuid4()
    for enrollment in (first, second):
        result = apply(
            Extend(days=1),
            Selection.by_filter(Enrollment.objects.filter(pk=enrollment.pk)),
            Attribution(None, SOURCE, batch_id=batch_id),
        )
        assert result.batch_id == batch_id
    assert set(AccessChange.objects.values_list("batch_id", flat=True)) == {batch_id}


@pytest.mark.parametrize("reason", ["x" * 1001, "bad\x00reason"])
def test_a_bad_reason_is_refused_before_anything_is_written(enrollment, reason):
    before = state_of_everything()
    with pytest.raises(InvalidReason):
        extend(enrollment, days=1, reason=reason)
    with pytest.raises(InvalidReason):
        apply(
            Extend(days=1),
            Selection.by_filter(Enrollment.objects.all()),
            Attribution(None, SOURCE, reason),
        )
    assert state_of_everything() == before


def test_the_reason_is_stored_stripped(enrollment):
    extend(enrollment, days=1, reason="  " + "y" * 1000 + "\n")
    assert AccessChange.objects.get().reason == "y" * 1000
