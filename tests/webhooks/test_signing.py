"""Signing (enrollments/events/signing.py): both schemes verified the receivers' way, the
standardwebhooks package and Healthie's published steps, outside and during a rotation; the
API's `previous_secret_expires_at` answering the overlap while it is in force."""

import base64
import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Permission
from standardwebhooks import Webhook, WebhookVerificationError

from apikeys.models import APIKey
from enrollments.events import endpoints, signing
from enrollments.models import WebhookEndpoint
from enrollments.permissions import MANAGE_WEBHOOKS
from tests.factories import StaffFactory
from tests.graphql.conftest import Api
from tests.webhooks.receiver import Request, verify_healthie, verify_standard

NOW = datetime(2026, 1, 1, tzinfo=UTC)
URL = "https://hooks.example.com/uri/path/here"
#: Healthie's sample body (WEBHOOKS-AND-VERSIONS.md 4.2), compact: 164 characters.
SAMPLE = (
    b'{"resource_id":123123123,"resource_id_type":"Appointment","event_type":'
    b'"appointment.updated","changed_fields":["pm_status_last_changed_by_id",'
    b'"last_updated_by_id"]}'
)


def endpoint(scheme, **fields) -> WebhookEndpoint:
    return WebhookEndpoint(scheme=scheme, secret=signing.new_secret(scheme), url=URL, **fields)


def signed_request(hook: WebhookEndpoint, body: bytes = SAMPLE, *, url: str = URL) -> Request:
    headers = signing.headers(
        hook, url=url, message_id="msg_1", body=body, timestamp=int(time.time()), now=NOW
    )
    parts = url.split("/", 3)
    return Request("/" + parts[3], headers, body)


class TestSecrets:
    @pytest.mark.parametrize("scheme", WebhookEndpoint.Scheme.values)
    def test_a_new_secret_is_whsec_and_32_random_bytes(self, scheme):
        secret = signing.new_secret(scheme)
        assert secret.startswith("whsec_")
        assert len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) == 32
        assert signing.new_secret(scheme) != secret

    def test_an_unknown_scheme_is_refused_with_a_message(self):
        with pytest.raises(ValueError, match="unknown signing scheme 'hmac'"):
            signing.new_secret("hmac")

    def test_rotate_keeps_the_old_secret_for_the_overlap(self):
        hook = endpoint(WebhookEndpoint.Scheme.STANDARD)
        old = hook.secret
        new = signing.rotate(hook, overlap=timedelta(hours=2), now=NOW)
        assert hook.secret == new != old
        assert signing.secrets_in_force(hook, NOW) == [new, old]
        assert signing.secrets_in_force(hook, NOW + timedelta(hours=2)) == [new]

    def test_rotate_without_overlap_drops_the_old_secret(self):
        hook = endpoint(WebhookEndpoint.Scheme.STANDARD)
        signing.rotate(hook, overlap=timedelta(0), now=NOW)
        assert (hook.previous_secret, hook.previous_secret_expires_at) == ("", None)


class TestStandardWebhooks:
    def test_the_reference_library_verifies_it(self):
        hook = endpoint(WebhookEndpoint.Scheme.STANDARD)
        request = signed_request(hook)
        assert verify_standard(hook.secret, request)["resource_id"] == 123123123
        assert request.headers["webhook-id"] == "msg_1"
        assert request.headers["Content-Type"] == "application/json"

    def test_another_secret_or_a_changed_body_does_not_verify(self):
        hook = endpoint(WebhookEndpoint.Scheme.STANDARD)
        request = signed_request(hook)
        with pytest.raises(WebhookVerificationError):
            Webhook(signing.new_secret()).verify(request.body, request.headers)
        with pytest.raises(WebhookVerificationError):
            Webhook(hook.secret).verify(request.body.replace(b"123", b"124"), request.headers)

    def test_during_a_rotation_both_secrets_verify(self):
        hook = endpoint(WebhookEndpoint.Scheme.STANDARD)
        old = hook.secret
        signing.rotate(hook, now=NOW)
        request = signed_request(hook)
        assert len(request.headers["webhook-signature"].split(" ")) == 2
        verify_standard(hook.secret, request)
        verify_standard(old, request)

    def test_after_the_overlap_only_the_new_secret_verifies(self):
        hook = endpoint(WebhookEndpoint.Scheme.STANDARD)
        old = hook.secret
        signing.rotate(hook, overlap=timedelta(hours=1), now=NOW - timedelta(hours=2))
        request = signed_request(hook)
        verify_standard(hook.secret, request)
        with pytest.raises(WebhookVerificationError):
            verify_standard(old, request)


class TestHealthie:
    def test_the_published_steps_verify_it(self):
        hook = endpoint(WebhookEndpoint.Scheme.HEALTHIE)
        request = signed_request(hook, url="https://hooks.example.com/uri/path/here?a=1&b=2")
        assert verify_healthie(hook.secret, request)["event_type"] == "appointment.updated"
        headers = request.headers
        assert headers["Content-Digest"].startswith("SHA-256=") and "=" not in headers[
            "Content-Digest"
        ].removeprefix("SHA-256=")
        assert headers["Signature"].startswith("sig1=") and "," not in headers["Signature"]
        assert headers["Signature-Input"] == (
            'sig1=("@method" "@path" "@query" "content-digest" "content-type" '
            '"content-length");alg="hmac-sha256"'
        )

    def test_the_signed_string_is_the_samples_six_parts(self):
        digest = signing.content_digest(SAMPLE)
        assert signing.healthie_signed_string(URL, SAMPLE) == (
            f"post /uri/path/here  {digest} application/json 164"
        )
        assert len(SAMPLE) == len(json.dumps(json.loads(SAMPLE), separators=(",", ":"))) == 164

    def test_the_key_is_the_whole_secret_string_whsec_included(self):
        hook = WebhookEndpoint(
            scheme=WebhookEndpoint.Scheme.HEALTHIE, secret="whsec_my-secret-key", url=URL
        )
        verify_healthie("whsec_my-secret-key", signed_request(hook))
        with pytest.raises(AssertionError):
            verify_healthie("my-secret-key", signed_request(hook))

    def test_during_a_rotation_each_secret_verifies_its_entry(self):
        hook = endpoint(WebhookEndpoint.Scheme.HEALTHIE)
        old = hook.secret
        signing.rotate(hook, now=NOW)
        request = signed_request(hook)
        assert request.headers["Signature"].count("sig") == 2
        assert 'keyid="current"' in request.headers["Signature-Input"]
        assert 'sig2=("@method"' in request.headers["Signature-Input"]
        verify_healthie(hook.secret, request, signature_item=0)
        verify_healthie(old, request, signature_item=1)
        with pytest.raises(AssertionError):
            verify_healthie(old, request, signature_item=0)


@pytest.mark.django_db
class TestOverlapInTheApi:
    """`Webhook.previous_secret_expires_at`: "Until when the secret before the last rotation
    signs too (null: it does not)". It answered the stored instant whenever a previous secret
    was kept, which nothing empties when the overlap ends: a past instant a day later."""

    EXPIRE = """
    mutation Expire($input: expireWebhookSignatureInput) {
      expireWebhookSignature(input: $input) { webhook { previous_secret_expires_at } }
    }
    """
    LIST = "{ webhooks { nodes { id previous_secret_expires_at } } }"

    def test_an_overlap_that_ended_is_answered_as_null(self, client, clock):
        staff = StaffFactory()
        staff.user_permissions.add(
            Permission.objects.get(
                content_type__app_label="enrollments", codename=MANAGE_WEBHOOKS.codename
            )
        )
        _key, raw = APIKey.objects.create_key(user=staff)
        api = Api(client)
        made = endpoints.create("https://93.184.216.34/hooks/access").endpoint  # a 24 h overlap
        rotated = api.post(self.EXPIRE, {"input": {"id": str(made.pk)}}, key=raw)
        ends = clock.current + timedelta(hours=24)
        answered = rotated["data"]["expireWebhookSignature"]["webhook"]
        assert answered["previous_secret_expires_at"] == ends.isoformat()

        clock.advance(hours=23)
        (node,) = api.post(self.LIST, key=raw)["data"]["webhooks"]["nodes"]
        assert node["previous_secret_expires_at"] == answered["previous_secret_expires_at"]

        clock.advance(hours=1)  # the overlap's end: the old secret signs no more
        made.refresh_from_db()
        assert made.previous_secret and signing.secrets_in_force(made) == [made.secret]
        (node,) = api.post(self.LIST, key=raw)["data"]["webhooks"]["nodes"]
        assert node["previous_secret_expires_at"] is None
