"""On PostgreSQL, with committed data: a real `manage.py db_worker` killed with -9 while a
receiver holds its request open, then the same event delivered again with the same id; a
change that rolls back sends nothing; two jobs of one endpoint at once never send one delivery
twice (SKIP LOCKED)."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from enrollments.events import delivery, fan_out
from enrollments.models import AccessChange, AccessEvent, WebhookDelivery
from enrollments.operations import Extend, apply_to_one
from enrollments.operations.audit import Attribution
from tests.factories import EnrollmentFactory
from tests.markers import requires_postgres
from tests.subprocesses import DB_WORKER, ManageProcess, wait_for
from tests.threads import run_at_once
from tests.webhooks.receiver import HOLD, verify_standard

pytestmark = [requires_postgres, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

State = WebhookDelivery.State


def start_worker(name: str, log_folder: Path) -> ManageProcess:
    """`manage.py db_worker` as the Procfile runs it, on the test database, allowed to deliver
    to the receiver on 127.0.0.1 over http."""
    return ManageProcess(
        name,
        log_folder / f"{name}.log",
        *DB_WORKER,
        WEBHOOK_ALLOW_PRIVATE_TARGETS="true",
        WEBHOOK_REQUIRE_HTTPS="false",
    )


def extend_one():
    enrollment = EnrollmentFactory()
    apply_to_one(Extend(days=30), enrollment, Attribution(None, AccessChange.Source.ADMIN, ""))
    return enrollment


def test_a_worker_killed_mid_delivery_means_a_redelivery_with_the_same_event_id(
    endpoint_for, receiver, tmp_path
):
    hook = endpoint_for()
    receiver.answers.append(HOLD)  # the first request is held open until the test releases it
    extend_one()  # committed: its fan-out job is queued
    event = AccessEvent.objects.get()

    worker = start_worker("webhooks-killed", tmp_path)
    try:
        assert receiver.holding.wait(timeout=60), "the worker never sent the delivery"
        worker.kill()
    finally:
        worker.end()
    row = WebhookDelivery.objects.get()
    assert row.state == State.SENDING  # claimed, never finished: nothing says delivered

    # The lease passes (WEBHOOK_LEASE_SECONDS, not waited for here), the sweep queues the
    # endpoint again, and the next worker sends the same event.
    WebhookDelivery.objects.filter(pk=row.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )
    assert delivery.sweep()["endpoints_queued"] == 1
    second = start_worker("webhooks-again", tmp_path)
    try:
        wait_for(
            lambda: WebhookDelivery.objects.get(pk=row.pk).state == State.DELIVERED,
            "the redelivery",
            second,
        )
    finally:
        second.terminate()
    receiver.release()

    first_try, redelivery = receiver.requests
    assert first_try.headers["webhook-id"] == redelivery.headers["webhook-id"]
    assert redelivery.headers["webhook-id"] == str(event.event_id)
    assert verify_standard(hook.secret, redelivery) == verify_standard(hook.secret, first_try)


def test_a_change_that_rolls_back_sends_nothing(endpoint_for, receiver):
    hook = endpoint_for()
    with pytest.raises(RuntimeError), transaction.atomic():
        extend_one()
        assert AccessEvent.objects.count() == 1  # recorded inside the change's transaction
        raise RuntimeError("the change fails after its event was written")
    assert AccessEvent.objects.count() == 0
    assert not DBTaskResult.objects.exists()  # no fan-out queued either
    assert fan_out.fan_out() == set()
    assert delivery.sweep() == {"events_fanned_out": 0, "endpoints_queued": 0}
    assert delivery.deliver_due(hook.pk) == {}
    assert receiver.requests == []


def test_two_jobs_of_one_endpoint_at_once_send_each_delivery_once(endpoint_for, receiver):
    hook = endpoint_for()
    for _ in range(40):
        extend_one()
    fan_out.fan_out()
    results = run_at_once(2, lambda _: delivery.deliver_due(hook.pk, batch=5))
    assert sum(result.get("delivered", 0) for result in results) == 40, results
    ids = [request.headers["webhook-id"] for request in receiver.requests]
    assert len(ids) == len(set(ids)) == 40
    assert set(WebhookDelivery.objects.values_list("state", flat=True)) == {State.DELIVERED}
