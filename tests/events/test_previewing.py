"""Previews say what confirming sends (enrollments/events/previewing.py): the admin's preview
and a command's dry run name how many events go to how many enabled webhook endpoints."""

from datetime import timedelta

import pytest

from enrollments.events.previewing import PlannedDeliveries, planned_deliveries
from enrollments.models import Enrollment, WebhookEndpoint
from enrollments.operations import Extend, Remove, Selection, preview
from tests.commands.conftest import run_command
from tests.factories import CourseFactory, EnrollmentFactory

pytestmark = pytest.mark.django_db


def endpoint(clock, **fields) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(
        url="https://hooks.example.com/in",
        secret="whsec_dGVzdA==",
        created_at=clock.current,
        updated_at=clock.current,
        **fields,
    )


def test_the_endpoints_that_receive_the_changes_types_are_counted(clock):
    course = CourseFactory(slug="c")
    EnrollmentFactory.create_batch(3, course=course, ended_at=clock.current + timedelta(days=2))
    endpoint(clock)
    endpoint(clock, event_types=["course_membership.deleted"])
    endpoint(clock, is_enabled=False)
    selection = Selection.by_filter(Enrollment.objects.filter(course=course))

    assert planned_deliveries(preview(Extend(days=1), selection).changes) == PlannedDeliveries(3, 1)
    assert planned_deliveries(preview(Remove(), selection).changes) == PlannedDeliveries(3, 2)
    assert planned_deliveries([]) == PlannedDeliveries(0, 0)


def test_the_sentences():
    assert PlannedDeliveries(3, 2).sentence("Confirming") == (
        "Confirming sends 3 events to 2 webhook endpoints."
    )
    assert PlannedDeliveries(1, 1).sentence("Confirming") == (
        "Confirming sends 1 event to 1 webhook endpoint."
    )
    assert PlannedDeliveries(2, 0).sentence("Confirming") == (
        "No enabled webhook endpoint receives these 2 events: nothing is sent."
    )


def test_a_dry_run_says_what_applying_sends(clock):
    course = CourseFactory(slug="c")
    EnrollmentFactory.create_batch(2, course=course, ended_at=clock.current + timedelta(days=2))
    endpoint(clock)
    dry = run_command("extend_access", "--course", "c", "--days", "1", "--dry-run")
    assert "Applying this plan sends 2 events to 1 webhook endpoint." in dry.stdout.splitlines()
    assert dry.stdout.splitlines()[-1].startswith("Dry run, nothing was changed.")
