"""What `apply` locks (PostgreSQL, threads): the enrollment rows it changes, never the course
rows it reads with them (`pause_freezes_access`), so staff changing two learners of one course
at once do not queue behind each other, and editing the course is not blocked."""

import threading

import pytest
from django.db import DatabaseError, connection, transaction

from enrollments.models import AccessChange, Enrollment
from enrollments.operations import Pause, Selection, apply
from enrollments.operations.audit import Attribution
from lms.models import Course
from tests.factories import CourseFactory, EnrollmentFactory
from tests.markers import requires_postgres

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]

SYSTEM = Attribution(None, AccessChange.Source.SYSTEM)


def test_apply_locks_the_enrollment_rows_and_not_their_course(monkeypatch):
    course = CourseFactory()
    enrollment = EnrollmentFactory(course=course)
    locked, release = threading.Event(), threading.Event()
    original_write = Pause.write

    def write_and_hold(self, changes, *, now, scope=None):
        original_write(self, changes, now=now, scope=scope)
        locked.set()
        release.wait(timeout=20)

    monkeypatch.setattr(Pause, "write", write_and_hold)

    def pause():
        try:
            apply(Pause(), Selection.named([enrollment.pk]), SYSTEM)
        finally:
            connection.close()

    worker = threading.Thread(target=pause)
    worker.start()
    try:
        assert locked.wait(timeout=10)
        with transaction.atomic():
            # The course row is free: taken at once.
            assert Course.objects.select_for_update(nowait=True).get(pk=course.pk)
        with pytest.raises(DatabaseError), transaction.atomic():
            # The enrollment row is held until the pause commits.
            Enrollment.objects.select_for_update(nowait=True).get(pk=enrollment.pk)
    finally:
        release.set()
        worker.join(timeout=20)
    assert Enrollment.objects.get(pk=enrollment.pk).is_paused
