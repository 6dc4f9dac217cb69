"""A replay ("Replay every event since ...") chooses its events from the endpoint's row as it
holds it locked: an update of the event types that commits while the replay waits for that lock
is seen. It chose them from the endpoint read before, unlocked (endpoints.replay_since's `get`),
and queued types the endpoint no longer receives. The fan-out reads the endpoints under their
lock for the same reason (fan_out.fan_out)."""

import threading
import time
from datetime import timedelta

import pytest
from django.db import transaction

from enrollments.events import endpoints
from enrollments.models import WebhookDelivery
from tests.markers import requires_postgres
from tests.threads import in_thread
from tests.webhooks.changes import events

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]


def replay_behind(change, hook, clock) -> dict:
    """A replay of the last day's events started while `change` (a transaction on the
    endpoint) holds the endpoint's row; the change commits once the replay waits on it. What
    each returned or raised, by name ("change", "replay")."""
    outcome: dict = {}
    locked, go = threading.Event(), threading.Event()

    def hold():
        with transaction.atomic():
            change()
            locked.set()
            go.wait(timeout=20)

    changing = in_thread(hold, outcome, "change")
    assert locked.wait(timeout=20)
    replaying = in_thread(
        lambda: endpoints.replay_since(hook.pk, clock.current - timedelta(days=1)),
        outcome,
        "replay",
    )
    time.sleep(1)
    assert replaying.is_alive()  # it waits for the change's lock on the endpoint
    go.set()
    changing.join(timeout=30)
    replaying.join(timeout=30)
    return outcome


def test_a_replay_waiting_for_an_update_uses_the_event_types_it_committed(endpoint_for, clock):
    made = events(2, clock)  # two course_membership.updated events
    assert {event.event_type for event in made} == {"course_membership.updated"}
    hook = endpoint_for()  # every event type; made after the events: no deliveries yet
    assert not WebhookDelivery.objects.filter(endpoint=hook).exists()

    narrow = lambda: endpoints.update(hook.pk, event_types=["course_membership.deleted"])  # noqa: E731
    outcome = replay_behind(narrow, hook, clock)

    assert not any(isinstance(value, Exception) for value in outcome.values()), outcome
    hook.refresh_from_db()
    assert hook.event_types == ["course_membership.deleted"]
    queued = list(
        WebhookDelivery.objects.filter(endpoint=hook).values_list("event__event_type", flat=True)
    )
    assert queued == [], f"replay queued events the endpoint does not receive: {queued}"


def test_a_replay_of_an_endpoint_deleted_meanwhile_says_it_is_not_found(endpoint_for, clock):
    events(1, clock)
    hook = endpoint_for()
    outcome = replay_behind(lambda: endpoints.delete(hook.pk), hook, clock)
    assert not isinstance(outcome["change"], Exception), outcome
    assert isinstance(outcome["replay"], endpoints.WebhookNotFound), outcome
