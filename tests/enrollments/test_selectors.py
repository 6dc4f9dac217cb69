"""Selectors: progress annotations, access-state filters, look-ups, previews."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from enrollments.errors import (
    CourseItemNotFound,
    MembershipNotFound,
    NotEnrolled,
)
from enrollments.models import Enrollment
from enrollments.progress import course_status
from enrollments.rules import AccessState
from enrollments.selectors.access import access_state_q, enrollment_access_state
from enrollments.selectors.by_id import course_item_get, enrollment_get, enrollment_get_for_student
from enrollments.selectors.memberships import (
    attach_next_items,
    completion_rate,
    memberships_with_progress,
)
from lms.models import CourseItem
from tests.factories import (
    CourseFactory,
    CourseItemFactory,
    EnrollmentFactory,
    ItemCompletionFactory,
)

DAY = timedelta(days=1)
pytestmark = pytest.mark.django_db


def course_with_items(count):
    course = CourseFactory()
    items = [CourseItemFactory(course=course, position=p) for p in (30, 10, 20, 40)[:count]]
    return course, sorted(items, key=lambda item: item.position)


class TestProgress:
    def test_statuses_rates_and_next_items(self, clock):
        course, items = course_with_items(4)
        fresh = EnrollmentFactory(course=course)
        halfway = EnrollmentFactory(course=course)
        done = EnrollmentFactory(course=course)
        for item in (items[0], items[2]):
            ItemCompletionFactory(enrollment=halfway, item=item)
        for item in items:
            ItemCompletionFactory(enrollment=done, item=item)

        rows = {e.pk: e for e in memberships_with_progress()}
        attach_next_items(list(rows.values()))

        assert rows[fresh.pk].course_status == "not_started"
        assert (rows[fresh.pk].next_item, rows[fresh.pk].next_next_item) == (items[0], items[1])
        assert rows[halfway.pk].course_status == "in_progress"
        assert completion_rate(rows[halfway.pk]) == 0.5
        assert (rows[halfway.pk].next_item, rows[halfway.pk].next_next_item) == (items[1], items[3])
        assert rows[done.pk].course_status == "completed" and completion_rate(rows[done.pk]) == 1.0
        assert rows[done.pk].next_item is None and rows[done.pk].next_next_item is None

    def test_next_items_from_json_equal_the_stored_items_field_by_field(self):
        """The items built from the page query's JSON (no query of their own) carry the
        stored values with their Python types: UUIDs, aware UTC datetimes to the microsecond,
        ints and strings."""
        course, items = course_with_items(2)
        CourseItem.objects.filter(pk=items[0].pk).update(
            created_at=datetime(2024, 2, 29, 23, 59, 59, 999999, tzinfo=UTC)
        )
        EnrollmentFactory(course=course)
        fields = [f.attname for f in CourseItem._meta.concrete_fields]
        (row,) = memberships_with_progress(next_item_fields=fields)
        attach_next_items([row])
        for built, stored in ((row.next_item, items[0]), (row.next_next_item, items[1])):
            stored = CourseItem.objects.get(pk=stored.pk)
            for name in fields:
                value = getattr(built, name)
                assert value == getattr(stored, name), name
                assert type(value) is type(getattr(stored, name)), name
            assert built.created_at.tzinfo is UTC and built.updated_at.tzinfo is UTC
        assert row.next_item.created_at.microsecond == 999999

    def test_course_without_items(self):
        empty = EnrollmentFactory()
        row = memberships_with_progress().get(pk=empty.pk)
        assert (row.items_total, row.course_status, completion_rate(row)) == (0, "not_started", 0.0)

    def test_filtering_on_course_status(self):
        course, items = course_with_items(1)
        done = EnrollmentFactory(course=course)
        ItemCompletionFactory(enrollment=done, item=items[0])
        EnrollmentFactory(course=course)
        assert list(
            memberships_with_progress()
            .filter(course_status="completed")
            .values_list("pk", flat=True)
        ) == [done.pk]

    def test_a_page_costs_two_queries_whatever_its_size(self, django_assert_num_queries):
        course, items = course_with_items(3)
        EnrollmentFactory.create_batch(30, course=course)
        for size in (1, 30):
            with django_assert_num_queries(2):
                page = list(memberships_with_progress().select_related("course", "user")[:size])
                attach_next_items(page)


class TestAccessStateFilter:
    def test_matches_the_rule_for_every_state(self, clock):
        now = clock.current
        cases = {
            "active": EnrollmentFactory(start_at=now - DAY, ended_at=now + DAY),
            "active_forever": EnrollmentFactory(start_at=now - DAY, ended_at=None),
            "expired": EnrollmentFactory(start_at=now - 2 * DAY, ended_at=now),
            "not_started": EnrollmentFactory(start_at=now + DAY, ended_at=now + 2 * DAY),
            "paused": EnrollmentFactory(
                start_at=now - DAY, ended_at=now - DAY / 2, is_paused=True, paused_at=now
            ),
        }
        for state in AccessState:
            matched = set(
                Enrollment.objects.filter(access_state_q(state, at=now)).values_list(
                    "pk", flat=True
                )
            )
            expected = {e.pk for e in cases.values() if enrollment_access_state(e, at=now) is state}
            assert matched == expected, state
        assert {e.pk for e in cases.values() if enrollment_access_state(e, at=now) == "active"} == {
            cases["active"].pk,
            cases["active_forever"].pk,
        }

    def test_unknown_state(self):
        with pytest.raises(ValueError):
            access_state_q("sleeping")


class TestLookups:
    def test_for_student(self, enrollment):
        found = enrollment_get_for_student(
            user_id=str(enrollment.user_id), course_id=str(enrollment.course_id)
        )
        assert found == enrollment

    @pytest.mark.parametrize(
        "user_id, course_id",
        [
            ("", ""),
            ("not-a-uuid", "x"),
            ("'; DROP TABLE enrollments_enrollment; --", "<b>x</b>"),
            ("1" * 10_000, "2"),
            (None, 5),
            ("8b5dd708-6272-4d8a-92f3-bf0bc304e2c8", "d99547a9-58b8-4d84-8a63-8d3b91f05256"),
        ],
    )
    def test_unknown_or_malformed_ids_are_not_enrolled(self, enrollment, user_id, course_id):
        with pytest.raises(NotEnrolled, match="^Student is not enrolled in this course$"):
            enrollment_get_for_student(user_id=user_id, course_id=course_id)

    def test_by_id(self, enrollment):
        assert enrollment_get(enrollment_id=str(enrollment.pk)) == enrollment
        for bad in ("nope", str(uuid.uuid4()), "", None):
            with pytest.raises(MembershipNotFound):
                enrollment_get(enrollment_id=bad)


@pytest.mark.parametrize("total", [0, 1, 3])
def test_the_sql_status_agrees_with_the_python_one(total):
    """The status the recount stores (SQL) and progress.course_status (Python) never disagree."""
    course = CourseFactory()
    items = [CourseItemFactory(course=course, position=p) for p in range(1, total + 1)]
    for completed in range(total + 1):
        enrollment = EnrollmentFactory(course=course)
        for item in items[:completed]:
            ItemCompletionFactory(enrollment=enrollment, item=item)
    for row in memberships_with_progress():
        expected = course_status(completed=row.items_completed, total=row.items_total)
        assert row.course_status == expected, (row.items_completed, row.items_total)


def test_a_status_filter_reads_the_stored_column():
    """Filtering by status compares a column (indexable), never recomputes counts per row."""
    sql = str(Enrollment.objects.filter(course_status="completed").query)
    assert "CASE" not in sql.upper() and "COUNT" not in sql.upper()
    assert "CASE" not in str(memberships_with_progress().query).upper()


class TestCourseItemLookup:
    def test_found(self):
        item = CourseItemFactory()
        assert course_item_get(course_item_id=str(item.pk)) == item

    @pytest.mark.parametrize("bad", ["", "nope", "4259e1e5-5d13-4fab-a7a2-28e9b318bbaa", None, 7])
    def test_unknown_or_malformed(self, bad):
        CourseItemFactory()
        with pytest.raises(CourseItemNotFound, match="^Course item not found$"):
            course_item_get(course_item_id=bad)
