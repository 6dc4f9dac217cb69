"""API keys: how machine clients authenticate to the GraphQL API.

A key is shown once, when it is created, and only its SHA-256 hash is stored. The key has two
parts, `<prefix>.<secret>`: the prefix is stored in clear to find the row (and to tell keys apart
in the admin), the hash of the whole key is compared in constant time. A key acts as its user,
with that user's permissions; revoking it, letting it expire or deactivating the user ends it.
"""

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

#: Characters of the clear-text prefix (URL-safe alphabet: 64**8 prefixes).
PREFIX_LENGTH = 8


def hash_key(raw_key: str) -> str:
    """The stored form of a key: hex SHA-256. Keys are 256-bit random, so a slow password hash
    buys nothing here and would cost every request."""
    return hashlib.sha256(raw_key.encode()).hexdigest()


def generate_key() -> tuple[str, str]:
    """A new `(prefix, raw_key)`. The raw key is `<prefix>.<43 URL-safe characters>`; 6 random
    bytes are exactly 8 URL-safe characters, none of them the "." that separates the parts."""
    prefix = secrets.token_urlsafe(6)
    return prefix, f"{prefix}.{secrets.token_urlsafe(32)}"


#: The longest validity a new key may be given.
MAX_VALIDITY = timedelta(days=3650)


class InvalidKeyRequest(ValueError):
    """A key that must not be created: for an inactive user (it would never work), or expiring
    in the past or more than MAX_VALIDITY ahead. `message` is for the operator."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        #: The create_key argument at fault ("user" or "expires_at"), for forms and options.
        self.field = field
        self.message = message


class APIKeyQuerySet(models.QuerySet["APIKey"]):
    def revoke(self, *, at: datetime | None = None) -> int:
        """Revokes the keys not revoked yet (the others keep their first instant); how many."""
        return self.filter(revoked_at__isnull=True).update(revoked_at=at or timezone.now())


class APIKeyManager(models.Manager.from_queryset(APIKeyQuerySet)):  # type: ignore[misc]
    """Every write of a key's validity goes through here: create_key for new keys,
    update_key for existing ones, so the expiry rules hold on every door (admin add and
    change pages, create_api_key)."""

    def check_request(self, *, user, expires_at: datetime | None) -> None:
        """Whether a key may be created for `user` expiring at `expires_at`: an active user,
        and no expiry or one in (now, now + MAX_VALIDITY]. Raises InvalidKeyRequest. Forms
        call it to report the error on the form before create_key would raise it."""
        if not user.is_active:
            raise InvalidKeyRequest(
                "user",
                gettext("User %(user)s is inactive: a key of theirs would not work.")
                % {"user": user},
            )
        self.check_expiry(expires_at=expires_at)

    def check_expiry(self, *, expires_at: datetime | None, current: "APIKey | None" = None) -> None:
        """Whether a key (a new one, or `current` as stored) may be given `expires_at`: no
        expiry or one in (now, now + MAX_VALIDITY]. Keeping an existing key's expiry as it
        is always passes. An expired or revoked key cannot be given a new one: it would work
        again, outliving the rules it was created under; create a new key instead. Raises
        InvalidKeyRequest."""
        if current is not None:
            if expires_at == current.expires_at:
                return
            status = current.status_at(timezone.now())
            if status in (Status.EXPIRED, Status.REVOKED):
                raise InvalidKeyRequest(
                    "expires_at",
                    gettext("This key is %(status)s: its expiry cannot change. Create a new key.")
                    % {"status": status.label},
                )
        if expires_at is None:
            return
        now = timezone.now()
        if expires_at <= now:
            raise InvalidKeyRequest("expires_at", gettext("The expiry must be in the future."))
        if expires_at > now + MAX_VALIDITY:
            raise InvalidKeyRequest(
                "expires_at",
                gettext("The expiry must be at most %(days)d days ahead.")
                % {"days": MAX_VALIDITY.days},
            )

    @transaction.atomic
    def update_key(self, api_key: "APIKey", *, name: str, expires_at: datetime | None) -> "APIKey":
        """Renames `api_key` and sets its expiry, checked against the row as stored (locked,
        so a concurrent revocation or change is seen). Writes those two fields only: the
        key's use and revocation are never overwritten by a stale copy. Raises
        InvalidKeyRequest."""
        stored = self.select_for_update().get(pk=api_key.pk)
        self.check_expiry(expires_at=expires_at, current=stored)
        stored.name, stored.expires_at = name, expires_at
        stored.save(update_fields=["name", "expires_at"])
        return stored

    def create_key(
        self, *, user, name: str = "", expires_at: datetime | None = None
    ) -> tuple["APIKey", str]:
        """Creates a key for `user`; returns it with the raw key, which is never stored.
        Raises InvalidKeyRequest (see check_request; a name longer than its column)."""
        self.check_request(user=user, expires_at=expires_at)
        longest = self.model._meta.get_field("name").max_length
        if len(name) > longest:
            raise InvalidKeyRequest(
                "name",
                gettext("A key's name is at most %(count)d characters.") % {"count": longest},
            )
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


class Status(models.TextChoices):
    """A key's status (APIKey.status_at). Labels: the values, for people to read (the admin's
    status column and the messages about a key), marked for translation."""

    ACTIVE = "active", pgettext_lazy("API key status", "active")
    EXPIRED = "expired", pgettext_lazy("API key status", "expired")
    REVOKED = "revoked", pgettext_lazy("API key status", "revoked")
    USER_INACTIVE = "user inactive", pgettext_lazy("API key status", "user inactive")


class APIKey(models.Model):
    """One API key of one user. Revoke it rather than deleting it: the row keeps its history."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="api_keys",
        verbose_name=_("user"),
    )
    name = models.CharField(
        max_length=100, blank=True, help_text=_("What the key is for."), verbose_name=_("name")
    )
    prefix = models.CharField(
        max_length=PREFIX_LENGTH,
        unique=True,
        editable=False,
        help_text=_("The key's first characters, to recognise it; the rest is never stored."),
        verbose_name=_("prefix"),
    )
    hashed_key = models.CharField(max_length=64, editable=False, verbose_name=_("hashed key"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    last_used_at = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name=_("last used at")
    )
    expires_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_("Optional: the key stops working at this instant."),
        verbose_name=_("expires at"),
    )
    revoked_at = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name=_("revoked at")
    )

    objects = APIKeyManager()

    class Meta:
        verbose_name_plural = _("API keys")
        verbose_name = _("API key")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        # Translators: "Reporting (AbCdEfGh…) of ann@example.com"; a key without a name is
        # called "API key".
        return gettext("%(name)s (%(prefix)s…) of %(user)s") % {
            "name": self.name or gettext("API key"),
            "prefix": self.prefix,
            "user": self.user,
        }

    def matches(self, raw_key: str) -> bool:
        """Whether `raw_key` is this key, compared in constant time."""
        return hmac.compare_digest(self.hashed_key, hash_key(raw_key))

    def status_at(self, at: datetime) -> Status:
        """Why the key does or does not authenticate at `at`: the one rule for both."""
        if self.revoked_at is not None:
            return Status.REVOKED
        if self.expires_at is not None and self.expires_at <= at:
            return Status.EXPIRED
        if not self.user.is_active:
            return Status.USER_INACTIVE
        return Status.ACTIVE

    def is_usable(self, *, at: datetime | None = None) -> bool:
        return self.status_at(at or timezone.now()) is Status.ACTIVE

    @property
    def status(self) -> str:
        return self.status_at(timezone.now())

    def revoke(self, *, at: datetime | None = None) -> bool:
        """Revokes the key (idempotent); True when this call revoked it."""
        if self.revoked_at is not None:
            return False
        at = at or timezone.now()
        revoked = APIKey.objects.filter(pk=self.pk).revoke(at=at)
        if revoked:
            self.revoked_at = at
        return bool(revoked)


class IdempotencyKey(models.Model):
    """One `Idempotency-Key` of one client (apikeys.idempotency has the design): reserved by
    the request that first sends it, then holding that request's answer, written in the same
    transaction as the mutation's own writes. Rows older than the key lifetime are ignored and
    purged as new keys are reserved."""

    #: Whose key: ratelimit.client_id's name of the API key (`key:<prefix>`) or signed-in user
    #: (`user:<pk>`); keys of different clients never meet.
    client = models.CharField(max_length=64, verbose_name=_("client"))
    key = models.CharField(max_length=255, verbose_name=_("key"))
    #: SHA-256 of what the request asks (document, variables, operation name, client).
    fingerprint = models.CharField(max_length=64, verbose_name=_("fingerprint"))
    #: The reservation's owner: a request stores its answer only while it holds the token.
    token = models.UUIDField(verbose_name=_("token"))
    created_at = models.DateTimeField(verbose_name=_("created at"))
    reserved_at = models.DateTimeField(verbose_name=_("reserved at"))
    #: The stored answer (null while the first request is in flight).
    response_status = models.PositiveSmallIntegerField(null=True, verbose_name=_("response status"))
    response_body = models.TextField(null=True, verbose_name=_("response body"))

    class Meta:
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")
        constraints = [
            models.UniqueConstraint(fields=["client", "key"], name="idempotency_key_per_client")
        ]
        indexes = [models.Index(fields=["created_at"], name="idempotency_key_created")]

    def __str__(self) -> str:
        return f"{self.key} of {self.client}"
