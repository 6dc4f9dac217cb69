"""A fan-out and a disable of the same endpoint at once: the fan-out locks the enabled endpoints
it inserts deliveries for, so the disable waits and then cancels them (docs/api.md: disabling
cancels the deliveries not sent yet). Read without a lock, a fan-out that listed the endpoint
just before the disable committed inserted pending deliveries after the disable's cancel,
sent when the endpoint was enabled again."""

import threading
import time

import pytest

from enrollments.events import endpoints
from enrollments.events import fan_out as fanning
from enrollments.models import AccessChange, WebhookDelivery
from enrollments.operations import Extend, apply_to_one
from enrollments.operations.audit import Attribution
from tests.factories import EnrollmentFactory
from tests.markers import requires_postgres
from tests.threads import in_thread

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]


def test_a_disable_during_a_fan_out_cancels_what_it_inserted(endpoint_for, monkeypatch):
    hook = endpoint_for()
    by = Attribution(None, AccessChange.Source.ADMIN, "")
    apply_to_one(Extend(days=30), EnrollmentFactory(), by)
    reached, go = threading.Event(), threading.Event()
    insert = fanning._insert_deliveries

    def held_before_inserting(endpoint, ids):
        reached.set()
        go.wait(timeout=20)
        return insert(endpoint, ids)

    monkeypatch.setattr(fanning, "_insert_deliveries", held_before_inserting)
    fanning_out = in_thread(fanning.fan_out)
    assert reached.wait(timeout=20)
    disabling = in_thread(lambda: endpoints.set_enabled(hook.pk, False))
    time.sleep(0.5)
    assert disabling.is_alive()  # it waits for the fan-out's lock on the endpoint
    go.set()
    fanning_out.join(timeout=30)
    disabling.join(timeout=30)
    assert list(WebhookDelivery.objects.values_list("state", flat=True)) == ["cancelled"]
