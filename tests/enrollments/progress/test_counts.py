"""The stored progress (`items_completed`, `course_status`) always equals what the completions
say: kept by enrollment_complete_item, recounted when a course's items change (issue 15)."""

import importlib
from datetime import timedelta

import pytest
from django.apps import apps
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from enrollments.errors import DomainError
from enrollments.models import Enrollment, ItemCompletion
from enrollments.operations import Pause, Resume, apply_to_one
from enrollments.operations.audit import Attribution
from enrollments.progress import course_status
from enrollments.progress.completing import enrollment_complete_item
from enrollments.progress.counts import enrollments_recount_progress
from enrollments.selectors.memberships import enrollments_with_stale_progress
from lms.models import CourseItem
from tests.factories import CourseFactory, CourseItemFactory, EnrollmentFactory

pytestmark = pytest.mark.django_db


def assert_stored_progress_is_true(enrollment: Enrollment) -> None:
    stored = Enrollment.objects.get(pk=enrollment.pk)
    completed = ItemCompletion.objects.filter(enrollment=enrollment).count()
    total = CourseItem.objects.filter(course_id=enrollment.course_id).count()
    assert (stored.items_completed, stored.course_status) == (
        completed,
        course_status(completed=completed, total=total),
    )


def test_completing_counts_once_and_sets_the_status(enrollment):
    first, second = CourseItemFactory.create_batch(2, course=enrollment.course)
    enrollment_complete_item(enrollment=enrollment, item=first)
    assert (enrollment.items_completed, enrollment.course_status) == (1, "in_progress")
    enrollment_complete_item(enrollment=enrollment, item=first)  # again: nothing new
    enrollment_complete_item(enrollment=enrollment, item=second)
    stored = Enrollment.objects.get(pk=enrollment.pk)
    assert (stored.items_completed, stored.course_status) == (2, "completed")


def test_the_count_rolls_back_with_the_completion(enrollment):
    item = CourseItemFactory(course=enrollment.course)
    with pytest.raises(RuntimeError), transaction.atomic():
        enrollment_complete_item(enrollment=enrollment, item=item)
        raise RuntimeError("the caller's transaction fails")
    assert not ItemCompletion.objects.exists()
    assert Enrollment.objects.get(pk=enrollment.pk).items_completed == 0


def test_completing_locks_the_enrollment_and_counts_in_the_same_transaction(enrollment):
    """The item first (a deletion's order: its row, then the enrollments' for the recount),
    then the enrollment, then the completion and its count."""
    item = CourseItemFactory(course=enrollment.course)
    with CaptureQueriesContext(connection) as captured:
        enrollment_complete_item(enrollment=enrollment, item=item)
    statements = [query["sql"] for query in captured.captured_queries]
    # One atomic block: its savepoint (the test's transaction is outside) opens and closes it.
    assert statements[0].startswith("SAVEPOINT") and statements[-1].startswith("RELEASE")
    item_lock, lock = statements[1:3]
    assert 'FROM "lms_courseitem"' in item_lock and '"course_id" = ' in item_lock
    assert lock.startswith('SELECT "enrollments_enrollment"."id"') and "items_completed" in lock
    if connection.features.has_select_for_update:
        assert item_lock.endswith("FOR KEY SHARE")
        assert "FOR UPDATE" in lock
    insert = next(n for n, sql in enumerate(statements) if sql.startswith("INSERT"))
    update = next(n for n, sql in enumerate(statements) if sql.startswith("UPDATE"))
    assert 2 < insert < update < len(statements) - 1
    assert '"items_completed" = 1' in statements[update]


def test_a_new_item_turns_completed_back_to_in_progress(enrollment):
    item = CourseItemFactory(course=enrollment.course)
    enrollment_complete_item(enrollment=enrollment, item=item)
    assert enrollment.course_status == "completed"
    CourseItemFactory(course=enrollment.course)
    assert Enrollment.objects.get(pk=enrollment.pk).course_status == "in_progress"
    assert_stored_progress_is_true(enrollment)


def test_deleting_an_item_takes_its_completion_out_of_the_count(enrollment):
    kept, dropped = CourseItemFactory.create_batch(2, course=enrollment.course)
    enrollment_complete_item(enrollment=enrollment, item=dropped)
    dropped.delete()
    stored = Enrollment.objects.get(pk=enrollment.pk)
    assert (stored.items_completed, stored.course_status) == (0, "not_started")
    enrollment_complete_item(enrollment=enrollment, item=kept)
    assert Enrollment.objects.get(pk=enrollment.pk).course_status == "completed"


def test_the_recount_repairs_only_what_differs(enrollment):
    items = CourseItemFactory.create_batch(3, course=enrollment.course)
    for item in items[:2]:
        enrollment_complete_item(enrollment=enrollment, item=item)
    untouched = EnrollmentFactory(course=enrollment.course)
    Enrollment.objects.filter(pk=enrollment.pk).update(items_completed=9, course_status="completed")
    assert list(enrollments_with_stale_progress(Enrollment.objects.all())) == [enrollment]
    assert enrollments_recount_progress(queryset=Enrollment.objects.filter(pk=enrollment.pk)) == 1
    assert not enrollments_with_stale_progress(Enrollment.objects.all()).exists()
    assert_stored_progress_is_true(enrollment)
    assert_stored_progress_is_true(untouched)


def test_the_data_migration_backfills_the_counts(enrollment):
    items = CourseItemFactory.create_batch(2, course=enrollment.course)
    ItemCompletion.objects.create(
        enrollment=enrollment, item=items[0], completed_at=enrollment.start_at
    )
    other = EnrollmentFactory(course=enrollment.course)
    for item in items:
        ItemCompletion.objects.create(enrollment=other, item=item, completed_at=other.start_at)
    Enrollment.objects.update(items_completed=0, course_status="not_started")
    migration = importlib.import_module("enrollments.migrations.0003_stored_progress")
    migration.backfill(apps, None)
    assert_stored_progress_is_true(enrollment)
    assert_stored_progress_is_true(other)
    assert Enrollment.objects.get(pk=other.pk).course_status == "completed"


# One step of a learner's history: complete item n (of the course, or of another course), add
# an item, delete item n, pause, resume.
steps = st.lists(
    st.tuples(
        st.sampled_from(["complete", "complete", "complete", "foreign", "add", "delete", "pause"]),
        st.integers(min_value=0, max_value=5),
    ),
    max_size=25,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(history=steps, initial_items=st.integers(min_value=0, max_value=4))
def test_the_stored_count_always_equals_the_completions(clock, history, initial_items):
    course = CourseFactory()
    for _ in range(initial_items):
        CourseItemFactory(course=course)
    enrollment = EnrollmentFactory(
        course=course,
        start_at=clock.current - timedelta(days=1),
        ended_at=clock.current + timedelta(days=30),
    )
    for action, n in history:
        items = list(CourseItem.objects.filter(course=course).order_by("position"))
        try:
            if action == "complete" and items:
                enrollment_complete_item(enrollment=enrollment, item=items[n % len(items)])
            elif action == "foreign":
                enrollment_complete_item(enrollment=enrollment, item=CourseItemFactory())
            elif action == "add":
                CourseItemFactory(course=course)
            elif action == "delete" and items:
                items[n % len(items)].delete()
            elif action == "pause":
                current = Enrollment.objects.get(pk=enrollment.pk)
                toggle = Resume() if current.is_paused else Pause()
                apply_to_one(toggle, current, Attribution(None, "system"))
                enrollment = Enrollment.objects.get(pk=enrollment.pk)
        except DomainError:
            pass  # refused (no access, item of another course): must change nothing
        assert_stored_progress_is_true(enrollment)
