"""A delivery job marks its 2xx'd deliveries delivered after the endpoint's row, the order a
disable and the fan-out take the two in (endpoint, then its deliveries). It cleared a warned
endpoint's `warned_at` after updating the deliveries: a disable holding the endpoint while it
cancels the deliveries, and the job holding the deliveries while it waits for the endpoint,
could deadlock."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from enrollments.events import delivery
from enrollments.models import WebhookDelivery, WebhookEndpoint
from tests.webhooks.changes import events

pytestmark = pytest.mark.django_db


def test_a_warned_endpoint_is_updated_before_its_deliveries(endpoint_for, receiver, clock):
    hook = endpoint_for()
    WebhookEndpoint.objects.filter(pk=hook.pk).update(warned_at=clock.current)
    events(2, clock)
    with CaptureQueriesContext(connection) as queries:
        assert delivery.deliver_due(hook.pk) == {"delivered": 2}
    endpoint_table = WebhookEndpoint._meta.db_table
    delivery_table = WebhookDelivery._meta.db_table
    statements = [q["sql"] for q in queries.captured_queries]
    cleared = next(
        i for i, sql in enumerate(statements) if sql.startswith(f'UPDATE "{endpoint_table}"')
    )
    delivered = next(
        i
        for i, sql in enumerate(statements)
        if sql.startswith(f'UPDATE "{delivery_table}"') and "delivered" in sql
    )
    assert cleared < delivered
    assert WebhookEndpoint.objects.get(pk=hook.pk).warned_at is None
    assert set(WebhookDelivery.objects.values_list("state", flat=True)) == {"delivered"}
