"""How each delivery is signed, per endpoint (WebhookEndpoint.scheme); docs/webhooks.md shows
receivers how to verify both.

- **Standard Webhooks v1** (`standard`): `webhook-id` (the event's `event_id`, the same on every
  redelivery), `webhook-timestamp` (Unix seconds of this attempt) and `webhook-signature`:
  `v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`, keyed with the bytes the base64 after
  `whsec_` decodes to. Verifiable with that specification's libraries (`standardwebhooks`).
- **Healthie's** (`healthie`, WEBHOOKS-AND-VERSIONS.md section 4): `Content-Digest:
  SHA-256=<hex SHA-256 of the body>` (hex: a base64 digest ends in `=`, which the published
  sample's `split('=')[1]` would cut off), `Signature-Input` naming the six parts signed, and
  `Signature: sig1=<lowercase hex HMAC-SHA256>` of
  `"post <path> <query> <digest> application/json <content length>"` (one space each; the query
  without its `?`, empty if none), keyed with the UTF-8 bytes of the whole secret string,
  `whsec_` included, exactly as the sample does.

**Rotation**: `rotate` makes a new secret and keeps the previous one until
`previous_secret_expires_at`. Until then both sign: Standard Webhooks lists both signatures,
space-separated (its own rule; its libraries accept either); Healthie's scheme sends
`Signature: sig1=<new>, sig2=<previous>` with the matching `Signature-Input` entries
(`keyid="current"` / `keyid="previous"`), an RFC 9421 dictionary; outside a rotation only
`sig1` is sent, the form Healthie's sample reads.
"""

import base64
import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from enrollments import clock
from enrollments.models import WebhookEndpoint

Scheme = WebhookEndpoint.Scheme

SECRET_PREFIX = "whsec_"
#: Random bytes of a new secret (Standard Webhooks asks for 24 to 64).
SECRET_BYTES = 32
#: How long the previous secret signs too after a rotation, unless the caller says.
DEFAULT_OVERLAP = timedelta(hours=24)

#: The parts Healthie's signature covers, as RFC 9421 component names, in signing order.
HEALTHIE_COMPONENTS = (
    '("@method" "@path" "@query" "content-digest" "content-type" "content-length")'
)
CONTENT_TYPE = "application/json"


def new_secret(scheme: str = Scheme.STANDARD) -> str:
    """A new signing secret for an endpoint of `scheme`: `whsec_` + base64 of 32 random bytes
    (both schemes: Healthie's sample keys its HMAC with such a string as it is, Standard
    Webhooks with the bytes it decodes to). Raises ValueError for an unknown scheme."""
    if scheme not in Scheme.values:
        raise ValueError(f"unknown signing scheme {scheme!r}: one of {', '.join(Scheme.values)}")
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def rotate(
    endpoint: WebhookEndpoint,
    *,
    overlap: timedelta = DEFAULT_OVERLAP,
    now: datetime | None = None,
) -> str:
    """Gives `endpoint` a new secret (returned: shown once) and keeps its current one signing
    too for `overlap`; the caller saves the endpoint (fields `secret`, `previous_secret`,
    `previous_secret_expires_at`). A zero overlap drops the old secret at once."""
    now = now or clock.now()
    fresh = new_secret(endpoint.scheme)
    if overlap > timedelta(0):
        endpoint.previous_secret = endpoint.secret
        endpoint.previous_secret_expires_at = now + overlap
    else:
        endpoint.previous_secret = ""
        endpoint.previous_secret_expires_at = None
    endpoint.secret = fresh
    return fresh


def secrets_in_force(endpoint: WebhookEndpoint, now: datetime | None = None) -> list[str]:
    """The secrets that sign now: the current one, then the previous one while its overlap
    lasts."""
    now = now or clock.now()
    signing = [endpoint.secret]
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret and expires is not None and expires > now:
        signing.append(endpoint.previous_secret)
    return signing


def headers(
    endpoint: WebhookEndpoint,
    *,
    url: str,
    message_id: str,
    body: bytes,
    timestamp: int,
    now: datetime | None = None,
) -> dict[str, str]:
    """The signature headers of one delivery of `body` to `url` (Content-Type included)."""
    keys = secrets_in_force(endpoint, now)
    if endpoint.scheme == Scheme.HEALTHIE:
        return healthie_headers(keys, url=url, body=body)
    return standard_headers(keys, message_id=message_id, timestamp=timestamp, body=body)


# -- Standard Webhooks ---------------------------------------------------------------------


def standard_key(secret: str) -> bytes:
    """The HMAC key of a `whsec_` secret: the bytes its base64 decodes to."""
    encoded = secret.removeprefix(SECRET_PREFIX)
    return base64.b64decode(encoded + "=" * (-len(encoded) % 4))


def standard_signature(secret: str, *, message_id: str, timestamp: int, body: bytes) -> str:
    """`v1,<base64>` of one secret."""
    signed = message_id.encode() + b"." + str(timestamp).encode() + b"." + body
    digest = hmac.new(standard_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def standard_headers(
    keys: list[str], *, message_id: str, timestamp: int, body: bytes
) -> dict[str, str]:
    return {
        "Content-Type": CONTENT_TYPE,
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(
            standard_signature(key, message_id=message_id, timestamp=timestamp, body=body)
            for key in keys
        ),
    }


# -- Healthie's ----------------------------------------------------------------------------


def content_digest(body: bytes) -> str:
    """The digest text signed and sent after `SHA-256=`: lowercase hex (no `=` inside)."""
    return hashlib.sha256(body).hexdigest()


def healthie_signed_string(url: str, body: bytes) -> str:
    """`post <path> <query> <digest> application/json <length>`: the sample's
    constructDataToSign for a delivery of `body` (compact ASCII JSON: its length in characters
    is its length in bytes) to `url`."""
    parts = urlsplit(url)
    return " ".join(
        ("post", parts.path or "/", parts.query, content_digest(body), CONTENT_TYPE, str(len(body)))
    )


def healthie_signature(secret: str, *, url: str, body: bytes) -> str:
    """The lowercase hex HMAC-SHA256 of the signed string, keyed with the secret's UTF-8."""
    signed = healthie_signed_string(url, body).encode("utf-8")
    return hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()


def healthie_headers(keys: list[str], *, url: str, body: bytes) -> dict[str, str]:
    labels = [f"sig{number}" for number in range(1, len(keys) + 1)]
    key_ids = ["current", "previous"]
    if len(keys) == 1:
        signature_input = f'sig1={HEALTHIE_COMPONENTS};alg="hmac-sha256"'
    else:
        signature_input = ", ".join(
            f'{label}={HEALTHIE_COMPONENTS};alg="hmac-sha256";keyid="{key_id}"'
            for label, key_id in zip(labels, key_ids, strict=False)
        )
    return {
        "Content-Type": CONTENT_TYPE,
        "Content-Digest": f"SHA-256={content_digest(body)}",
        "Signature-Input": signature_input,
        "Signature": ", ".join(
            f"{label}={healthie_signature(key, url=url, body=body)}"
            for label, key in zip(labels, keys, strict=True)
        ),
    }
