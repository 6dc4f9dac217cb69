"""A claim starts no send that could outlast its lease: a send is cut at TOTAL_TIMEOUT
(posting.py), not at CONNECT_TIMEOUT + READ_TIMEOUT, which the claim counted. A send begun with
21 to 30 seconds of a default lease left could end after it, when another job may take the rows
back and send them again while the first send still runs (docs/api.md: the total timeout is
there so a dripped answer cannot hold a delivery past its lease)."""

import dataclasses
import time
from collections import Counter

import pytest

from enrollments.events import delivery, fan_out
from enrollments.events.posting import Answer
from enrollments.models import AccessChange, WebhookDelivery
from enrollments.operations import Extend, apply_to_one
from enrollments.operations.audit import Attribution
from tests.factories import EnrollmentFactory

pytestmark = pytest.mark.django_db


def test_the_next_send_is_left_for_later_when_the_total_timeout_would_pass_the_lease(
    endpoint_for, settings, monkeypatch
):
    settings.WEBHOOKS = {
        **settings.WEBHOOKS,
        "CONNECT_TIMEOUT": 1,
        "READ_TIMEOUT": 2,
        "TOTAL_TIMEOUT": 10,
        "LEASE_SECONDS": 20,
    }
    hook = endpoint_for()
    by = Attribution(None, AccessChange.Source.ADMIN, "")
    for _ in range(2):
        apply_to_one(Extend(days=30), EnrollmentFactory(), by)
    fan_out.fan_out()
    sent = []
    monkeypatch.setattr(
        delivery, "send", lambda endpoint, event: sent.append(event.pk) or Answer(200, 5, "", False)
    )
    claim = delivery.claim(hook)
    # 12 seconds of the lease spent: connect + read (3 s) would fit, the total (10 s) not.
    claim = dataclasses.replace(claim, began=time.monotonic() - 12)
    counts: Counter = Counter()
    delivery._send_claim(hook, claim, counts)
    assert len(sent) == 1
    assert counts["released"] == 1
    assert sorted(WebhookDelivery.objects.values_list("state", flat=True)) == [
        "delivered",
        "pending",
    ]
