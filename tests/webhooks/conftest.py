"""Fixtures of the webhook tests: a receiver on 127.0.0.1 (receiver.py), the settings that let
webhooks reach it (a private target over plain http, as in development), and endpoints."""

import pytest

from enrollments import clock
from enrollments.events import signing
from enrollments.models import WebhookEndpoint


@pytest.fixture
def local_targets(settings):
    """Loopback targets over http allowed (WEBHOOK_ALLOW_PRIVATE_TARGETS, REQUIRE_HTTPS off)."""
    settings.WEBHOOKS = {
        **settings.WEBHOOKS,
        "ALLOW_PRIVATE_TARGETS": True,
        "REQUIRE_HTTPS": False,
    }
    return settings


@pytest.fixture
def receiver():
    from tests.webhooks.receiver import Receiver

    with Receiver() as running:
        yield running


@pytest.fixture
def endpoint_for(db, receiver, local_targets):
    """`endpoint_for(path, **fields)`: an endpoint that sends to the receiver."""

    def build(path: str = "/hooks/course-access", **fields) -> WebhookEndpoint:
        scheme = fields.pop("scheme", WebhookEndpoint.Scheme.STANDARD)
        now = clock.now()
        return WebhookEndpoint.objects.create(
            url=receiver.url(path),
            scheme=scheme,
            secret=signing.new_secret(scheme),
            owner_email=fields.pop("owner_email", "owner@example.com"),
            created_at=now,
            updated_at=now,
            **fields,
        )

    return build
