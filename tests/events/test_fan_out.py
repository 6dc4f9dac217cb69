"""The fan-out (enrollments/events/fan_out.py): one delivery per event and enabled endpoint
that receives its type, created once however often it runs; the endpoints that got
deliveries are returned for their delivery jobs."""

from datetime import timedelta

import pytest

from enrollments.events.fan_out import fan_out, unfanned
from enrollments.models import AccessChange, AccessEvent, WebhookDelivery, WebhookEndpoint
from enrollments.operations import Extend, Remove, Selection, apply
from enrollments.operations.audit import Attribution
from tests.factories import EnrollmentFactory

pytestmark = pytest.mark.django_db

BY = Attribution(None, AccessChange.Source.COMMAND, "fan-out")


def endpoint(clock, **fields) -> WebhookEndpoint:
    fields.setdefault("url", "https://hooks.example.com/in")
    return WebhookEndpoint.objects.create(
        secret="whsec_dGVzdA==", created_at=clock.current, updated_at=clock.current, **fields
    )


def test_each_event_gets_one_delivery_per_endpoint_that_receives_it(clock):
    every = endpoint(clock)
    deletions = endpoint(clock, event_types=["course_membership.deleted"])
    endpoint(clock, is_enabled=False)
    rows = EnrollmentFactory.create_batch(3, ended_at=clock.current + timedelta(days=1))
    apply(Extend(days=1), Selection.named([r.pk for r in rows]), BY)
    apply(Remove(), Selection.named([rows[0].pk]), BY)
    assert unfanned() == 4

    assert fan_out(batch=2) == {every.pk, deletions.pk}

    assert unfanned() == 0
    assert WebhookDelivery.objects.filter(endpoint=every).count() == 4
    [deleted] = WebhookDelivery.objects.filter(endpoint=deletions)
    assert deleted.event.event_type == "course_membership.deleted"
    assert set(WebhookDelivery.objects.values_list("state", "attempts")) == {("pending", 0)}


def test_fanning_out_again_creates_nothing_twice(clock):
    hook = endpoint(clock)
    [row] = EnrollmentFactory.create_batch(1, ended_at=clock.current + timedelta(days=1))
    apply(Extend(days=1), Selection.named([row.pk]), BY)
    fan_out()
    AccessEvent.objects.update(fanned_out=False)  # as if a lost job's fan-out ran again
    assert fan_out() == set()
    assert WebhookDelivery.objects.filter(endpoint=hook).count() == 1


def test_without_endpoints_events_are_marked_and_nothing_is_due(clock):
    [row] = EnrollmentFactory.create_batch(1, ended_at=clock.current + timedelta(days=1))
    apply(Extend(days=1), Selection.named([row.pk]), BY)
    assert fan_out() == set()
    assert unfanned() == 0
    assert not WebhookDelivery.objects.exists()
