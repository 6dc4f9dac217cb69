"""Managing webhook endpoints: the one set of core functions the three doors call (the API's
createWebhook / updateWebhook / deleteWebhook / expireWebhookSignature / webhooks, the admin's
endpoint pages, `manage.py webhooks`), so each rule is written once.

- The secret is made here (signing.new_secret, per scheme) and handed back once: `create` and
  `rotate` return it next to the endpoint; nothing else ever shows it (every door renders the
  endpoint without it).
- A rotation keeps the previous secret signing too until `previous_secret_expires_at`
  (ROTATION_OVERLAP, a day, unless the caller says otherwise), so receivers can switch keys
  without losing a delivery.
- Validation: the URL through targets.check_url (https, no loopback, private, link-local or
  metadata address: checked again at every delivery, DNS can change), event types among
  AccessEvent.EventType in either spelling (Healthie's enum `COURSE_MEMBERSHIP_CREATED` or the
  payload's `course_membership.created`), the scheme among WebhookEndpoint.Scheme. Each
  refusal is a DomainError with a message the doors show as it is.
- Disabling cancels the endpoint's pending deliveries (WebhookDelivery's `cancelled`), as
  delivery.disable does for an endpoint that keeps failing (without e-mailing its owner);
  re-enabling clears the failure marks (warned_at, disabled_at, disabled_reason). Events
  recorded while it was disabled are not sent later: "Replay every event since ..." is for that.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.validators import validate_email
from django.db import connections, router, transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_noop

from enrollments import clock
from enrollments.errors import (
    DeliveryNotFound,
    DescriptionTooLong,
    InvalidDescription,
    InvalidOwnerEmail,
    InvalidRotationOverlap,
    InvalidWebhookUrl,
    Phrase,
    UnknownEventType,
    UnknownScheme,
    WebhookDisabled,
    WebhookNotFound,
)
from enrollments.events import signing, targets
from enrollments.models import AccessEvent, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from lms.text import is_valid_text

EventType = AccessEvent.EventType
Scheme = WebhookEndpoint.Scheme

#: How long the previous secret keeps signing after a rotation, unless the caller says
#: (Standard Webhooks; Healthie's scheme: default_overlap).
ROTATION_OVERLAP = signing.DEFAULT_OVERLAP
#: The longest overlap a caller may ask for (a week: a forgotten old key must not live on).
MAX_ROTATION_OVERLAP = timedelta(days=7)
#: Columns' limits (the model's), checked here so a door reports them as errors, not crashes.
MAX_URL_LENGTH = WebhookEndpoint._meta.get_field("url").max_length
MAX_DESCRIPTION_LENGTH = WebhookEndpoint._meta.get_field("description").max_length
MAX_OWNER_EMAIL_LENGTH = WebhookEndpoint._meta.get_field("owner_email").max_length

if MAX_DESCRIPTION_LENGTH != 200 or timedelta(days=7) != MAX_ROTATION_OVERLAP:
    raise ImproperlyConfigured(
        "errors.DescriptionTooLong and InvalidRotationOverlap state these limits: keep them equal"
    )

#: The disabled_reason of an endpoint someone disabled.
DISABLED_BY_HAND = "disabled by hand"
#: Fields `update` may change (the scheme is chosen at creation: its secret's form follows it).
UPDATABLE = ("url", "event_types", "is_enabled", "should_retry", "description", "owner_email")


@dataclass(frozen=True, slots=True)
class WithSecret:
    """An endpoint and its new secret: what `create` and `rotate` return, the only time the
    secret leaves this module."""

    endpoint: WebhookEndpoint
    secret: str


# -- validation ---------------------------------------------------------------------------


def event_type_value(name: str) -> str:
    """The AccessEvent.EventType value `name` spells: `course_membership.created` or Healthie's
    enum name `COURSE_MEMBERSHIP_CREATED` (any case, surrounding spaces ignored). Raises
    UnknownEventType."""
    text = str(name).strip()
    for event_type in EventType:
        if text.lower() in (event_type.value, event_type.value.replace(".", "_")):
            return event_type.value
    raise UnknownEventType(detail=text[:100])


def event_types(names: Iterable[str]) -> list[str]:
    """The event types `names` spell, each once, in EventType's order (empty: every type)."""
    chosen = {event_type_value(name) for name in names}
    return [event_type.value for event_type in EventType if event_type.value in chosen]


def enum_name(value: str) -> str:
    """Healthie's enum name of an event type value: course_membership.created ->
    COURSE_MEMBERSHIP_CREATED."""
    return value.replace(".", "_").upper()


def scheme_value(scheme: str) -> str:
    text = str(scheme).strip().lower()
    if text not in Scheme.values:
        raise UnknownScheme(detail=text[:100])
    return text


def checked_url(url: str) -> str:
    """`url` without surrounding spaces, if deliveries may go there (targets.check_url).
    Raises InvalidWebhookUrl with its reason."""
    text = (url or "").strip()
    if not text:
        raise InvalidWebhookUrl(reason=Phrase(gettext_noop("A URL is required")))
    if not is_valid_text(text):  # lms.text: a NUL or an unpaired surrogate names no host
        raise InvalidWebhookUrl()
    if len(text) > MAX_URL_LENGTH:
        raise InvalidWebhookUrl(
            reason=Phrase(
                gettext_noop("A URL is at most %(count)s characters"), count=MAX_URL_LENGTH
            )
        )
    try:
        targets.check_url(text)
    except targets.TargetError as error:
        raise InvalidWebhookUrl(detail=text[:200], reason=error.phrase) from error
    return text


def checked_owner_email(email: str) -> str:
    text = (email or "").strip()
    if text:
        # validate_email admits 320 characters; the column holds 254 (RFC 5321's path).
        if len(text) > MAX_OWNER_EMAIL_LENGTH or not is_valid_text(text):
            raise InvalidOwnerEmail(detail=repr(text[:100]))
        try:
            validate_email(text)
        except ValidationError:
            raise InvalidOwnerEmail(detail=text[:100]) from None
    return text


def checked_description(description: str) -> str:
    text = (description or "").strip()
    if len(text) > MAX_DESCRIPTION_LENGTH:
        raise DescriptionTooLong()
    if not is_valid_text(text):  # lms.text: PostgreSQL stores neither a NUL nor a surrogate
        raise InvalidDescription()
    return text


def checked_overlap(overlap: timedelta) -> timedelta:
    if not timedelta(0) <= overlap <= MAX_ROTATION_OVERLAP:
        raise InvalidRotationOverlap(detail=str(overlap))
    return overlap


# -- reading ------------------------------------------------------------------------------


def get(endpoint_id: object) -> WebhookEndpoint:
    """The endpoint with this id (an int or its text). Raises WebhookNotFound."""
    pk = parse_id(endpoint_id)
    endpoint = WebhookEndpoint.objects.filter(pk=pk).first() if pk is not None else None
    if endpoint is None:
        raise WebhookNotFound(detail=str(endpoint_id)[:100])
    return endpoint


def parse_id(value: object) -> int | None:
    """An endpoint or delivery id from a door's text, or None when it cannot be one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 < value < 2**63 else None
    text = str(value).strip()
    if not text.isascii() or not text.isdigit() or len(text) > 19:
        return None
    number = int(text)
    return number if 0 < number < 2**63 else None


def search(keywords: str | None = None) -> QuerySet[WebhookEndpoint]:
    """Every endpoint, or those whose URL or description contains each of the words."""
    found = WebhookEndpoint.objects.all()
    if not is_valid_text(keywords or ""):
        return found.none()  # no stored URL or description holds such text (lms.text)
    for word in (keywords or "").split():
        found = found.filter(Q(url__icontains=word) | Q(description__icontains=word))
    return found


# -- changing -----------------------------------------------------------------------------


def create(
    url: str,
    *,
    scheme: str = Scheme.STANDARD,
    event_types_: Iterable[str] = (),
    is_enabled: bool = True,
    should_retry: bool = True,
    description: str = "",
    owner_email: str = "",
    created_by: Any = None,
) -> WithSecret:
    """A new endpoint and its secret (shown this once). `event_types_` empty: every type."""
    scheme = scheme_value(scheme)
    endpoint = WebhookEndpoint(
        url=checked_url(url),
        scheme=scheme,
        event_types=event_types(event_types_),
        is_enabled=bool(is_enabled),
        should_retry=bool(should_retry),
        description=checked_description(description),
        owner_email=checked_owner_email(owner_email),
        created_by=created_by if getattr(created_by, "pk", None) else None,
    )
    secret = signing.new_secret(scheme)
    endpoint.secret = secret
    endpoint.created_at = endpoint.updated_at = clock.now()
    endpoint.save(force_insert=True)
    return WithSecret(endpoint, secret)


def update(endpoint_id: object, **changes: Any) -> WebhookEndpoint:
    """Changes the fields named in `changes` (UPDATABLE; `event_types` in either spelling)
    and returns the endpoint. Enabling or disabling does what `set_enabled` does."""
    unknown = set(changes) - set(UPDATABLE)
    if unknown:
        raise TypeError(f"update() cannot change {', '.join(sorted(unknown))}")
    cleaned: dict[str, Any] = {}
    if "url" in changes:
        cleaned["url"] = checked_url(changes["url"])
    if "event_types" in changes:
        cleaned["event_types"] = event_types(changes["event_types"] or ())
    if "should_retry" in changes:
        cleaned["should_retry"] = bool(changes["should_retry"])
    if "description" in changes:
        cleaned["description"] = checked_description(changes["description"])
    if "owner_email" in changes:
        cleaned["owner_email"] = checked_owner_email(changes["owner_email"])
    with transaction.atomic():
        endpoint = _locked(endpoint_id)
        for name, value in cleaned.items():
            setattr(endpoint, name, value)
        if "is_enabled" in changes:
            _switch(endpoint, bool(changes["is_enabled"]))
        endpoint.updated_at = clock.now()
        endpoint.save()
    return endpoint


def set_enabled(endpoint_id: object, enabled: bool) -> WebhookEndpoint:
    """Enables or disables the endpoint (disabling cancels its pending deliveries)."""
    return update(endpoint_id, is_enabled=enabled)


def default_overlap(scheme: str) -> timedelta:
    """How long the previous secret keeps signing after a rotation nobody gave an overlap for.

    Standard Webhooks: ROTATION_OVERLAP; its libraries read every signature of the header, so
    receivers switch secrets without losing a delivery. Healthie's scheme: none. Healthie's
    sample verifier (and metriport's) keeps what follows the first `=` of the whole
    `Signature` header, so with a second signature (`sig1=<new>, sig2=<old>`) it verifies
    nothing until the overlap ends; and `expireWebhookSignature`, which gives no overlap, says
    the current signature expires. An operator may still ask for one (the admin, the command)."""
    return timedelta(0) if scheme == Scheme.HEALTHIE else ROTATION_OVERLAP


def rotate(
    endpoint_id: object, *, overlap: timedelta | None = None, now: datetime | None = None
) -> WithSecret:
    """A new secret for the endpoint (shown this once); the current one keeps signing for
    `overlap` (default: default_overlap of its scheme; previous_secret until
    previous_secret_expires_at; 0: it stops at once). A rotation during an overlap replaces the
    older previous secret (signing.rotate)."""
    if overlap is not None:
        overlap = checked_overlap(overlap)
    now = now or clock.now()
    with transaction.atomic():
        endpoint = _locked(endpoint_id)
        if overlap is None:
            overlap = default_overlap(endpoint.scheme)
        secret = signing.rotate(endpoint, overlap=overlap, now=now)
        endpoint.updated_at = now
        endpoint.save()
    return WithSecret(endpoint, secret)


def delete(endpoint_id: object) -> WebhookEndpoint:
    """Deletes the endpoint with its deliveries and their attempts; returns it as it was (its
    id kept, for the answer that names what was deleted). The delivery log goes in two
    set-based DELETEs first: Django's cascade would load every delivery (they have tries) into
    memory, a million of them for a busy endpoint."""
    with transaction.atomic():
        endpoint = _locked(endpoint_id)
        pk = endpoint.pk
        WebhookAttempt.objects.filter(delivery__endpoint_id=pk).delete()  # no cascade: one DELETE
        connection = connections[router.db_for_write(WebhookDelivery)]
        table = connection.ops.quote_name(WebhookDelivery._meta.db_table)
        with connection.cursor() as cursor:  # its tries are gone: nothing cascades from it
            cursor.execute(f"DELETE FROM {table} WHERE endpoint_id = %s", [pk])  # noqa: S608
        endpoint.delete()
    endpoint.pk = pk
    return endpoint


def _locked(endpoint_id: object) -> WebhookEndpoint:
    pk = parse_id(endpoint_id)
    endpoint = (
        WebhookEndpoint.objects.select_for_update().filter(pk=pk).first()
        if pk is not None
        else None
    )
    if endpoint is None:
        raise WebhookNotFound(detail=str(endpoint_id)[:100])
    return endpoint


def _switch(endpoint: WebhookEndpoint, enabled: bool) -> None:
    if enabled == endpoint.is_enabled:
        return
    endpoint.is_enabled = enabled
    if enabled:
        endpoint.warned_at = endpoint.disabled_at = None
        endpoint.disabled_reason = ""
        return
    endpoint.disabled_at = clock.now()
    endpoint.disabled_reason = DISABLED_BY_HAND
    from enrollments.events import delivery

    # As delivery.disable does for an endpoint that keeps failing, without its e-mail.
    delivery.cancel_undelivered(endpoint.pk, DISABLED_BY_HAND)


# -- sending (events/delivery.py), with this module's errors --------------------------------


def send_test(endpoint_id: object):
    """Sends the test event to the endpoint now (delivery.send_test: to a disabled one too);
    returns its posting.Answer (`delivered`, `status`, `latency_ms`, `error`)."""
    from enrollments.events import delivery  # sends over HTTP: loaded where it is used

    return delivery.send_test(get(endpoint_id))


#: What a door says after `resend` (translated there): queued again, or left to the send in
#: flight (delivery.resend leaves a delivery a job is sending).
RESENT = gettext_noop("Delivery %(delivery)s queued again.")
LEFT_TO_ITS_SEND = gettext_noop(
    "Delivery %(delivery)s is being sent now: left to that send (delivered, or retried as usual)."
)


def resent_message(resent: WebhookDelivery) -> str:
    """RESENT, or LEFT_TO_ITS_SEND for a delivery `resend` left to a job sending it."""
    return LEFT_TO_ITS_SEND if resent.state == WebhookDelivery.State.SENDING else RESENT


def resend(delivery_id: object) -> WebhookDelivery:
    """Puts one delivery back to pending now (delivery.resend; one being sent under a live
    lease is left to that send). Raises DeliveryNotFound or WebhookDisabled."""
    from enrollments.events import delivery

    pk = parse_id(delivery_id)
    if pk is None:
        raise DeliveryNotFound(detail=str(delivery_id)[:100])
    try:
        return delivery.resend(pk)
    except WebhookDelivery.DoesNotExist:
        raise DeliveryNotFound(detail=str(pk)) from None
    except delivery.EndpointDisabled:
        raise WebhookDisabled(detail=str(pk)) from None


def replay_since(endpoint_id: object, instant: datetime) -> int:
    """Sends again every event since `instant` that the endpoint receives
    (delivery.replay_since, which locks the endpoint's row and reads its event types from it);
    returns how many deliveries were queued. Raises WebhookNotFound or WebhookDisabled."""
    from enrollments.events import delivery

    endpoint = get(endpoint_id)
    try:
        return delivery.replay_since(endpoint, instant)
    except WebhookEndpoint.DoesNotExist:  # deleted since `get`
        raise WebhookNotFound(detail=str(endpoint.pk)) from None
    except delivery.EndpointDisabled:
        raise WebhookDisabled(detail=str(endpoint.pk)) from None
