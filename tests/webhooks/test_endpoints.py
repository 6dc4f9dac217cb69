"""The endpoints' core (enrollments/events/endpoints.py) where no door's test reaches it: deleting
an endpoint with a long delivery log."""

import pytest
from django.db.models.signals import pre_init

from enrollments.events import endpoints
from enrollments.models import WebhookAttempt, WebhookDelivery
from tests.webhooks.changes import events

pytestmark = pytest.mark.django_db


def test_delete_removes_the_delivery_log_without_loading_it(endpoint_for, clock):
    """A million deliveries must not become a million model instances in the request that
    deletes their endpoint (Django's cascade collects them one by one: deliveries have tries)."""
    hook = endpoint_for()
    other = endpoint_for("/other")
    made = events(3, clock)
    for endpoint in (hook, other):
        for event in made:
            sent = WebhookDelivery.objects.get(endpoint=endpoint, event=event)
            WebhookAttempt.objects.create(delivery=sent, attempted_at=clock.current, status=500)
    loaded = []

    def count(sender, **kwargs):
        loaded.append(sender)

    pre_init.connect(count, sender=WebhookDelivery)
    pre_init.connect(count, sender=WebhookAttempt)
    try:
        endpoints.delete(hook.pk)
    finally:
        pre_init.disconnect(count, sender=WebhookDelivery)
        pre_init.disconnect(count, sender=WebhookAttempt)

    assert loaded == []
    assert not WebhookDelivery.objects.filter(endpoint_id=hook.pk).exists()
    assert not WebhookAttempt.objects.filter(delivery__endpoint_id=hook.pk).exists()
    assert WebhookDelivery.objects.filter(endpoint=other).count() == 3
    assert WebhookAttempt.objects.filter(delivery__endpoint=other).count() == 3
