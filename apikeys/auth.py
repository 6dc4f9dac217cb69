"""`Authorization: Bearer <key>` authentication for the GraphQL endpoint.

Only the API view calls this: the admin and the rest of the site keep session log-in alone. A
request that carries a bearer key is authenticated by the key and by nothing else (its session
cookie, if any, is ignored), and a wrong, revoked or expired key is refused outright rather than
falling back to the session. See docs/api.md, "Authentication".
"""

import re
from datetime import timedelta

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone

from apikeys.models import PREFIX_LENGTH, APIKey

#: `last_used_at` is written at most once per this interval per key, so a busy client does not
#: turn every read into a write. The admin shows the last use to this resolution.
DEFAULT_LAST_USED_RESOLUTION = timedelta(minutes=1)


#: What models.generate_key makes: an 8-character prefix, a dot, a URL-safe secret. Anything
#: else is refused before the database sees it (a NUL byte would be a database error).
KEY_SHAPE = re.compile(rf"[A-Za-z0-9_-]{{{PREFIX_LENGTH}}}\.[A-Za-z0-9_-]{{1,190}}")


class InvalidAPIKey(Exception):
    """The request carries a bearer key that does not authenticate (unknown, revoked, expired,
    malformed, or its user is inactive). The message is the same for all: it tells an attacker
    nothing."""

    message = "Invalid, expired or revoked API key"


def bearer_key(request: HttpRequest) -> str | None:
    """The bearer key in the Authorization header, None when the header has another scheme or is
    absent. `Bearer` with no key is an InvalidAPIKey."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    value = value.strip()
    if not value:
        raise InvalidAPIKey()
    return value


def authenticate_key(raw_key: str) -> APIKey:
    """The usable key matching `raw_key`, with its user loaded (one query). Raises
    InvalidAPIKey. Records the use (throttled, see DEFAULT_LAST_USED_RESOLUTION)."""
    if not KEY_SHAPE.fullmatch(raw_key):
        raise InvalidAPIKey()
    prefix = raw_key.partition(".")[0]
    try:
        api_key = APIKey.objects.select_related("user").get(prefix=prefix)
    except APIKey.DoesNotExist:
        api_key = None
    now = timezone.now()
    if api_key is None or not api_key.matches(raw_key) or not api_key.is_usable(at=now):
        raise InvalidAPIKey()
    _record_use(api_key, now=now)
    return api_key


def authenticate_bearer(request: HttpRequest) -> APIKey | None:
    """Authenticates the request by its bearer key, if it carries one: sets `request.user` to
    the key's user and `request.api_key`, and returns the key. None when there is no bearer
    key (the caller then uses the session). Raises InvalidAPIKey."""
    raw_key = bearer_key(request)
    if raw_key is None:
        return None
    api_key = authenticate_key(raw_key)
    request.user = api_key.user
    request.api_key = api_key
    return api_key


def _record_use(api_key: APIKey, *, now) -> None:
    resolution = getattr(settings, "API_KEY_LAST_USED_RESOLUTION", DEFAULT_LAST_USED_RESOLUTION)
    if api_key.last_used_at is None or now - api_key.last_used_at >= resolution:
        APIKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now
