"""Extending 20,000 enrollments chosen with "Select all" in one admin action (PostgreSQL): more
than RUNS_BACKGROUND_ABOVE, so Confirm queues a run and its job applies it."""

from datetime import timedelta

import pytest
from django.conf import settings

from enrollments.admin import background
from enrollments.models import AccessChange, Enrollment, OperationRun
from lms.models import Course, User
from tests.admin.helpers import confirm, post_action, preview
from tests.jobs.worker import run_jobs
from tests.markers import requires_postgres

pytestmark = [pytest.mark.django_db, pytest.mark.postgres, requires_postgres]

ROWS = 20_000


def build_enrollments(now, *, users: int = 200, courses: int = 100) -> None:
    """users x courses enrollments in three bulk INSERTs."""
    learners = User.objects.bulk_create(
        User(email=f"many{n}@example.com", first_name=f"Many {n}") for n in range(users)
    )
    catalogue = Course.objects.bulk_create(
        Course(slug=f"many-{n}", title=f"Many {n}", access_days=90) for n in range(courses)
    )
    Enrollment.objects.bulk_create(
        (
            Enrollment(
                user=learner,
                course=course,
                start_at=now - timedelta(days=10),
                ended_at=now + timedelta(days=20),
            )
            for learner in learners
            for course in catalogue
        ),
        batch_size=5000,
    )


def test_select_all_20000_enrollments_extends_all_and_writes_20000_audit_rows(
    operator_client, operator, clock, django_capture_on_commit_callbacks
):
    build_enrollments(clock.current)
    assert Enrollment.objects.count() == ROWS > settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
    first_page = Enrollment.objects.values_list("pk", flat=True)[:50]

    page = post_action(operator_client, "extend_access", first_page, select_across=True)
    assert page.status_code == 200
    assert page.context["selected"] == ROWS
    assert len(page.context["scope"].hidden_fields) == 2, "the selection travels as 2 fields"

    shown = preview(operator_client, page, days="30", reason="Platform outage")
    assert shown.context["preview"].changed == ROWS
    assert shown.context["preview"].skipped == 0
    assert "<strong>20,000</strong> enrollments will be extended" in shown.content.decode()
    draft = shown.context["draft"]
    assert draft.total == ROWS

    with django_capture_on_commit_callbacks(execute=True):
        done = confirm(
            operator_client,
            shown,
            days="30",
            reason="Platform outage",
            **{background.RUN: str(draft.pk)},
        )
    assert done.status_code == 302  # the job page, at once
    assert Enrollment.objects.filter(ended_at=clock.current + timedelta(days=50)).count() == 0

    run_jobs()
    draft.refresh_from_db()
    assert (draft.state, draft.changed) == (OperationRun.State.DONE, ROWS)
    new_end = clock.current + timedelta(days=50)
    assert Enrollment.objects.filter(ended_at=new_end).count() == ROWS
    audits = AccessChange.objects.filter(source="admin", actor=operator, reason="Platform outage")
    assert audits.count() == ROWS
    assert set(audits.values_list("batch_id", flat=True).distinct()) == {draft.batch_id}
