"""A membership's `updated_at` ("date membership was updated", contract 000) moves when its
progress does: completing an item (course_status, the next items) and its course gaining or
losing an item. The progress writes left it where it was, so a client comparing it after a
webhook, or syncing what changed since, missed the change. Progress has a column of its own
(`progress_updated_at`): the API shows the later of the two, while a background run bound to its
preview still compares the access's own `updated_at` and does not skip a learner who merely
progressed."""

from datetime import timedelta

import pytest

from enrollments.models import AccessChange, Enrollment
from enrollments.operations import Extend, Selection, runs
from enrollments.operations.audit import Attribution
from tests.factories import CourseFactory, CourseItemFactory, EnrollmentFactory

pytestmark = pytest.mark.django_db

READ = """query($id: ID) { courseMembership(id: $id) { updated_at course_status } }"""
COMPLETE = """mutation($item: ID!) { completeCourseItem(input: {course_item_id: $item}) {
  courseMembership { updated_at } messages { code } } }"""


@pytest.fixture
def learner(clock):
    course = CourseFactory()
    items = [CourseItemFactory(course=course, position=p) for p in (1, 2)]
    enrollment = EnrollmentFactory(course=course, ended_at=clock.current + timedelta(days=30))
    # Written now by the frozen clock, as the core writes it (auto_now read the real one).
    Enrollment.objects.filter(pk=enrollment.pk).update(updated_at=clock.current)
    return Enrollment.objects.get(pk=enrollment.pk), items


def read(api, key, enrollment):
    return api.post(READ, {"id": str(enrollment.pk)}, key=key)["data"]["courseMembership"]


def test_completing_an_item_moves_it(api, make_key, learner, clock):
    enrollment, items = learner
    key = make_key(enrollment.user)
    before = read(api, key, enrollment)
    clock.advance(minutes=5)
    done = api.post(COMPLETE, {"item": str(items[0].pk)}, key=key)["data"]["completeCourseItem"]
    after = read(api, key, enrollment)
    assert after["course_status"] == "in_progress"
    assert after["updated_at"] == done["courseMembership"]["updated_at"] != before["updated_at"]
    assert after["updated_at"].startswith(clock.current.strftime("%Y-%m-%dT%H:%M"))


@pytest.mark.parametrize("change", ["add", "delete"])
def test_the_courses_items_changing_moves_it(api, make_key, learner, clock, change):
    enrollment, items = learner
    key = make_key(enrollment.user)
    before = read(api, key, enrollment)
    clock.advance(minutes=5)
    if change == "add":
        CourseItemFactory(course=enrollment.course, position=3)
    else:
        items[1].delete()
    assert read(api, key, enrollment)["updated_at"] != before["updated_at"]


def test_a_run_bound_to_its_preview_still_changes_a_learner_who_progressed(
    api, make_key, learner, clock
):
    enrollment, items = learner
    selection = Selection.by_filter(Enrollment.objects.filter(pk=enrollment.pk))
    by = Attribution(None, AccessChange.Source.ADMIN, "")
    job = runs.start([(Extend(days=3), selection)], by, bound_to_preview=True)
    clock.advance(minutes=1)
    api.post(COMPLETE, {"item": str(items[0].pk)}, key=make_key(enrollment.user))
    done = runs.advance(job.pk)
    assert (done.changed, done.skipped) == (1, 0)
