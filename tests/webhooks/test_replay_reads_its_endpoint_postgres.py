"""A replay ("Replay every event since ...") chooses its events from the endpoint's row as it
holds it locked: an update of the event types that commits while the replay waits for that lock
is seen. It chose them from the endpoint read before, unlocked (endpoints.replay_since's `get`),
and queued types the endpoint no longer receives. The fan-out reads the endpoints under their
lock for the same reason (fan_out.fan_out)."""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, transaction

from enrollments.events import endpoints
from enrollments.models import WebhookDelivery
from tests.markers import requires_postgres
from tests.webhooks.changes import events

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]


def in_thread(work, errors: list) -> threading.Thread:
    """`work()` in a thread of its own (its own connection, as another request runs it);
    what it raises goes to `errors`."""

    def run():
        try:
            work()
        except BaseException as error:  # noqa: BLE001 - the test reports it
            errors.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_a_replay_waiting_for_an_update_uses_the_event_types_it_committed(endpoint_for, clock):
    made = events(2, clock)  # two course_membership.updated events
    assert {event.event_type for event in made} == {"course_membership.updated"}
    hook = endpoint_for()  # every event type; made after the events: no deliveries yet
    assert not WebhookDelivery.objects.filter(endpoint=hook).exists()
    errors: list = []
    locked, go = threading.Event(), threading.Event()

    def narrow():
        with transaction.atomic():
            endpoints.update(hook.pk, event_types=["course_membership.deleted"])
            locked.set()
            go.wait(timeout=20)

    updating = in_thread(narrow, errors)
    assert locked.wait(timeout=20)
    replaying = in_thread(
        lambda: endpoints.replay_since(hook.pk, clock.current - timedelta(days=1)), errors
    )
    time.sleep(1)
    assert replaying.is_alive()  # it waits for the update's lock on the endpoint
    go.set()
    updating.join(timeout=30)
    replaying.join(timeout=30)
    assert errors == []

    hook.refresh_from_db()
    assert hook.event_types == ["course_membership.deleted"]
    queued = list(
        WebhookDelivery.objects.filter(endpoint=hook).values_list("event__event_type", flat=True)
    )
    assert queued == [], f"replay queued events the endpoint does not receive: {queued}"


def test_a_replay_of_an_endpoint_deleted_meanwhile_says_it_is_not_found(endpoint_for, clock):
    events(1, clock)
    hook = endpoint_for()
    errors: list = []
    locked, go = threading.Event(), threading.Event()

    def delete():
        with transaction.atomic():
            endpoints.delete(hook.pk)
            locked.set()
            go.wait(timeout=20)

    deleting = in_thread(delete, errors)
    assert locked.wait(timeout=20)
    replaying = in_thread(
        lambda: endpoints.replay_since(hook.pk, clock.current - timedelta(days=1)), errors
    )
    time.sleep(1)
    go.set()
    deleting.join(timeout=30)
    replaying.join(timeout=30)
    assert [type(error) for error in errors] == [endpoints.WebhookNotFound]
