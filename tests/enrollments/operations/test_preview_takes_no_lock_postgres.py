"""A preview reads without locking (PostgreSQL, threads): staff previewing rows that another
transaction holds locked get their preview at once; only `apply` waits for the locks."""

import threading

import pytest
from django.db import connection, transaction

from enrollments.models import Enrollment
from enrollments.operations import Pause, Selection, preview
from tests.factories import EnrollmentFactory
from tests.markers import requires_postgres

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]


def test_a_preview_of_locked_rows_does_not_wait_for_them():
    rows = EnrollmentFactory.create_batch(2)
    locked, release = threading.Event(), threading.Event()

    def hold_the_locks():
        try:
            with transaction.atomic():
                list(Enrollment.objects.select_for_update().filter(pk__in=[r.pk for r in rows]))
                locked.set()
                release.wait(timeout=20)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_locks)
    holder.start()
    try:
        assert locked.wait(timeout=10)
        with transaction.atomic(), connection.cursor() as cursor:
            # A preview that waited for the row locks would fail after half a second.
            cursor.execute("SET LOCAL lock_timeout = '500ms'")
            plan = preview(Pause(), Selection.named([r.pk for r in rows]))
        assert plan.changed_count == 2
    finally:
        release.set()
        holder.join(timeout=20)
