"""A delivery job's claim (up to 100 deliveries, up to the lease) reads its endpoint again
before each send: a disable, a delete or a rotation made while it sends is seen by the rest of
the claim. It read the endpoint once per claim: a disabled endpoint received the rest of the
claim (logged "cancelled"), a deleted one too (then the job failed on its tries' foreign key),
and after a rotation on Healthie's scheme the rest was signed with the expired secret only. A
real receiver on 127.0.0.1 holds the first request while the endpoint changes."""

import threading

import pytest
from django.db import connection

from enrollments.events import delivery, endpoints, fan_out
from enrollments.models import AccessChange, WebhookDelivery, WebhookEndpoint
from enrollments.operations import Extend, apply_to_one
from enrollments.operations.audit import Attribution
from tests.factories import EnrollmentFactory
from tests.markers import requires_postgres
from tests.webhooks.receiver import HOLD, verify_healthie

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]


def extend_one():
    enrollment = EnrollmentFactory()
    apply_to_one(Extend(days=30), enrollment, Attribution(None, AccessChange.Source.ADMIN, ""))


def job_holding_its_first_send(hook, receiver, events: int):
    """`events` changes fanned out to `hook`, then its delivery job in a thread of its own (its
    own connection, as a worker runs it), the receiver holding its first request: returns the
    thread and the job's result (or error) once joined."""
    for _ in range(events):
        extend_one()
    fan_out.fan_out()
    receiver.answers.append(HOLD)
    result = {}

    def work():
        try:
            result["result"] = delivery.deliver_due(hook.pk)
        except Exception as error:  # noqa: BLE001 - the test reports it
            result["error"] = error
        finally:
            connection.close()

    thread = threading.Thread(target=work)
    thread.start()
    assert receiver.holding.wait(timeout=20)
    return thread, result


def finish(thread, receiver) -> None:
    receiver.release()
    thread.join(timeout=60)


def test_a_disabled_endpoint_receives_nothing_after_the_send_in_flight(endpoint_for, receiver):
    hook = endpoint_for()
    thread, result = job_holding_its_first_send(hook, receiver, 5)
    endpoints.set_enabled(hook.pk, False)  # "cancels the webhook's deliveries not sent yet"
    assert set(WebhookDelivery.objects.values_list("state", flat=True)) == {"cancelled"}
    finish(thread, receiver)
    assert "error" not in result, repr(result.get("error"))
    # The request in flight only; every delivery stays cancelled, none counted delivered.
    assert len(receiver.requests) == 1
    assert set(WebhookDelivery.objects.values_list("state", flat=True)) == {"cancelled"}
    assert result["result"].get("delivered", 0) == 0


def test_a_deleted_endpoint_receives_nothing_more_and_the_job_ends_cleanly(endpoint_for, receiver):
    hook = endpoint_for()
    thread, result = job_holding_its_first_send(hook, receiver, 5)
    endpoints.delete(hook.pk)
    assert not WebhookEndpoint.objects.exists()
    finish(thread, receiver)
    assert "error" not in result, repr(result.get("error"))  # an IntegrityError before
    assert len(receiver.requests) == 1


def test_after_a_rotation_the_rest_of_the_claim_is_signed_with_the_new_secret(
    endpoint_for, receiver
):
    hook = endpoint_for(scheme=WebhookEndpoint.Scheme.HEALTHIE)
    old = hook.secret
    thread, _result = job_holding_its_first_send(hook, receiver, 3)
    # expireWebhookSignature: Healthie's scheme -> no overlap, "a new secret signs from now on"
    new = endpoints.rotate(hook.pk).secret
    finish(thread, receiver)
    later = receiver.requests[1:]
    assert len(later) == 2
    assert new != old
    for request in later:  # Healthie's scheme: no overlap, the new secret from now on
        verify_healthie(new, request)
