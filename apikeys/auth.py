"""API-key authentication for the GraphQL endpoint, in the three header styles real clients send.

Clients of the two APIs this project implements present a key in different headers (the
contract's reference, tests/reference/README.md):

- `Authorization: Bearer <key>`: this API's own style;
- `Authorization: Basic <key>`: Healthie's (the key itself, not base64 of `user:password`),
  sent with `AuthorizationSource: API`, which is accepted and needs nothing more: every key
  in an Authorization header here is an API key;
- `X-Teachify-API-Key: <key>`: Teachify's.

Whatever the header, the key goes through the one path below (`authenticate_key`): the same
shape check, hashing, revocation, expiry and user-active rules, so a key is accepted or refused
the same way in all three. The key's prefix names its rate-limit counter (apikeys.ratelimit),
so one key has one budget whichever header carries it.

Only the API view calls this: the admin and the rest of the site keep session log-in alone. A
request that presents a key is authenticated by the key and by nothing else (its session
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

#: Authorization schemes that carry an API key (compared case-insensitively, as RFC 9110 says).
KEY_SCHEMES = frozenset({"bearer", "basic"})

#: Teachify's header, as Django's request.META names it.
TEACHIFY_HEADER = "HTTP_X_TEACHIFY_API_KEY"


class InvalidAPIKey(Exception):
    """The request presents an API key that does not authenticate (unknown, revoked, expired,
    malformed, or its user is inactive). The message is the same for all, and for every
    header style: it tells an attacker nothing."""

    message = "Invalid, expired or revoked API key"


def _authorization_key(request: HttpRequest) -> str | None:
    """The key in `Authorization: Bearer|Basic <key>`; None for another scheme or no header."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() not in KEY_SCHEMES:
        return None
    return value.strip()


def presented_key(request: HttpRequest) -> str | None:
    """The API key the request presents, in whichever of the three styles; None when it
    presents none (the caller then uses the session).

    Raises InvalidAPIKey for an empty key (`Bearer` alone, a blank X-Teachify-API-Key) and for
    two different keys in two headers: which one acts is not a guess to make.
    """
    from_authorization = _authorization_key(request)
    from_teachify = request.META.get(TEACHIFY_HEADER)
    if from_teachify is not None:
        from_teachify = from_teachify.strip()
        if from_authorization is not None and from_authorization != from_teachify:
            raise InvalidAPIKey()
    key = from_teachify if from_teachify is not None else from_authorization
    if key == "":
        raise InvalidAPIKey()
    return key


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


def authenticate_api_key(request: HttpRequest) -> APIKey | None:
    """Authenticates the request by the API key it presents, if any: sets `request.user` to
    the key's user and `request.api_key`, and returns the key. None when it presents no key.
    Raises InvalidAPIKey."""
    raw_key = presented_key(request)
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
