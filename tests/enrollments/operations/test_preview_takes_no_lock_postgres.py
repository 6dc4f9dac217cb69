"""A preview reads without locking (PostgreSQL, threads): staff previewing rows that another
transaction holds locked get their preview at once; only `apply` waits for the locks."""

import pytest
from django.db import connection, transaction

from enrollments.models import Enrollment
from enrollments.operations import Pause, Selection, preview
from tests.factories import EnrollmentFactory
from tests.markers import requires_postgres
from tests.threads import RowsHeld

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]


def test_a_preview_of_locked_rows_does_not_wait_for_them():
    rows = EnrollmentFactory.create_batch(2)
    with RowsHeld(Enrollment.objects.filter(pk__in=[r.pk for r in rows])):
        with transaction.atomic(), connection.cursor() as cursor:
            # A preview that waited for the row locks would fail after half a second.
            cursor.execute("SET LOCAL lock_timeout = '500ms'")
            plan = preview(Pause(), Selection.named([r.pk for r in rows]))
        assert plan.changed_count == 2
