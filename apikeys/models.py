"""API keys: how machine clients authenticate to the GraphQL API.

A key is shown once, when it is created, and only its SHA-256 hash is stored. The key has two
parts, `<prefix>.<secret>`: the prefix is stored in clear to find the row (and to tell keys apart
in the admin), the hash of the whole key is compared in constant time. A key acts as its user,
with that user's permissions; revoking it, letting it expire or deactivating the user ends it.
"""

import hashlib
import hmac
import secrets
from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone

#: Characters of the clear-text prefix (URL-safe alphabet: 64**8 prefixes).
PREFIX_LENGTH = 8


def hash_key(raw_key: str) -> str:
    """The stored form of a key: hex SHA-256. Keys are 256-bit random, so a slow password hash
    buys nothing here and would cost every request."""
    return hashlib.sha256(raw_key.encode()).hexdigest()


def generate_key() -> tuple[str, str]:
    """A new `(prefix, raw_key)`. The raw key is `<prefix>.<43 URL-safe characters>`."""
    while True:
        prefix = secrets.token_urlsafe(6)[:PREFIX_LENGTH]
        # "." separates the parts; the URL-safe alphabet never contains it.
        if len(prefix) == PREFIX_LENGTH:
            return prefix, f"{prefix}.{secrets.token_urlsafe(32)}"


class APIKeyQuerySet(models.QuerySet["APIKey"]):
    def usable(self, *, at: datetime | None = None) -> "APIKeyQuerySet":
        """Keys that authenticate now: not revoked, not expired, of an active user."""
        at = at or timezone.now()
        return self.filter(revoked_at__isnull=True, user__is_active=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=at)
        )


class APIKeyManager(models.Manager.from_queryset(APIKeyQuerySet)):  # type: ignore[misc]
    def create_key(
        self, *, user, name: str = "", expires_at: datetime | None = None
    ) -> tuple["APIKey", str]:
        """Creates a key for `user`; returns it with the raw key, which is never stored."""
        while True:
            prefix, raw_key = generate_key()
            if not self.filter(prefix=prefix).exists():
                break
        api_key = self.create(
            user=user,
            name=name,
            prefix=prefix,
            hashed_key=hash_key(raw_key),
            expires_at=expires_at,
        )
        return api_key, raw_key


class APIKey(models.Model):
    """One API key of one user. Revoke it rather than deleting it: the row keeps its history."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys"
    )
    name = models.CharField(max_length=100, blank=True, help_text="What the key is for.")
    prefix = models.CharField(
        max_length=PREFIX_LENGTH,
        unique=True,
        editable=False,
        help_text="The key's first characters, to recognise it; the rest is never stored.",
    )
    hashed_key = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    expires_at = models.DateTimeField(
        null=True, blank=True, help_text="Optional: the key stops working at this instant."
    )
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = APIKeyManager()

    class Meta:
        verbose_name = "API key"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name or 'API key'} ({self.prefix}…) of {self.user}"

    def matches(self, raw_key: str) -> bool:
        """Whether `raw_key` is this key, compared in constant time."""
        return hmac.compare_digest(self.hashed_key, hash_key(raw_key))

    def is_usable(self, *, at: datetime | None = None) -> bool:
        at = at or timezone.now()
        if self.revoked_at is not None or not self.user.is_active:
            return False
        return self.expires_at is None or self.expires_at > at

    @property
    def status(self) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= timezone.now():
            return "expired"
        return "active"

    def revoke(self, *, at: datetime | None = None) -> bool:
        """Revokes the key (idempotent); True when this call revoked it."""
        if self.revoked_at is not None:
            return False
        self.revoked_at = at or timezone.now()
        updated = APIKey.objects.filter(pk=self.pk, revoked_at__isnull=True).update(
            revoked_at=self.revoked_at
        )
        return bool(updated)
