"""The webhook management API's types, with Healthie's names at 2026-01-01
(../shared/spec/reference/healthie-webhooks.graphql): `Webhook`, `WebhookEvent`, their
connection, the event-type and order enums.

Only what this service can fill is served (docs/api.md, "Webhooks management", lists the rest):
a `WebhookEvent` is one of the endpoint's event types (this service keeps no per-type
subscription rows, so it has no failure dates or retry count of its own), and
`signature_secret` is null except in the answer that made the secret (createWebhook,
expireWebhookSignature): it is shown once. The additive fields (scheme, description, owner,
dates) are this service's.

Paging: a connection of endpoints (few: an operator's list) read in one query and paged in
memory, with the keyset cursors of the memberships' connection: a cursor names an endpoint's
(created_at, id) place, so `after` a deleted endpoint still works in the created_at orders.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

import graphene

from enrollments import clock
from enrollments.events import signing
from enrollments.events.endpoints import enum_name
from enrollments.graphql.errors import INVALID_CURSOR, ApiError
from enrollments.graphql.pagination import check_page_size, decode_cursor, encode_cursor
from enrollments.graphql.payload_errors import payload_errors_field
from enrollments.graphql.resolving import root_only
from enrollments.graphql.scalars import Cursor, ISO8601DateTime
from enrollments.graphql.types import PageInfo
from enrollments.models import AccessEvent, WebhookEndpoint

WebhookEventType = graphene.Enum(
    "WebhookEventType",
    [(enum_name(value), value) for value in AccessEvent.EventType.values],
    description=(
        "Types of webhook events that can be triggered (this service sends the three "
        "course-membership events)"
    ),
)


#: Healthie's WebhookOrderKeys, in its order.
ORDER_KEYS = (
    "CREATED_AT_ASC",
    "CREATED_AT_DESC",
    "EVENT_TYPE_ASC",
    "EVENT_TYPE_DESC",
    "URL_ASC",
    "URL_DESC",
)
WebhookOrderKeys = graphene.Enum(
    "WebhookOrderKeys", [(key, key) for key in ORDER_KEYS], description="Webhook sorting enum"
)


WebhookSignatureScheme = graphene.Enum(
    "WebhookSignatureScheme",
    [(value.upper(), value) for value in WebhookEndpoint.Scheme.values],
    description=(
        "How deliveries are signed: STANDARD (Standard Webhooks: webhook-id, webhook-timestamp, "
        "webhook-signature) or HEALTHIE (Content-Digest, Signature-Input, Signature)"
    ),
)


@dataclass(frozen=True, slots=True)
class ShownWebhook:
    """What a `Webhook` resolves from: the endpoint, and its new secret in the one answer
    that shows it (None in every other)."""

    endpoint: WebhookEndpoint
    secret: str | None = None


@dataclass(frozen=True, slots=True)
class ShownEvent:
    """One event type of an endpoint, as Healthie's `WebhookEvent`."""

    webhook: ShownWebhook
    event_type: str


class WebhookEvent(graphene.ObjectType):
    """The events that the webhook is subscribed to"""

    created_at = ISO8601DateTime(
        required=True, description="The date and time that the webhook was created"
    )
    event_type = graphene.Field(WebhookEventType, required=True, description="The type of webhook")
    id = graphene.ID(
        required=True,
        description="The unique identifier of this subscription (the webhook's id and the type)",
    )
    updated_at = ISO8601DateTime(
        required=True, description="The date and time that the webhook was last updated"
    )
    webhook = graphene.Field(
        lambda: Webhook, required=True, description="The webhook that the event is associated with"
    )

    @staticmethod
    @root_only
    def resolve_created_at(root: ShownEvent, info) -> datetime:
        return root.webhook.endpoint.created_at

    @staticmethod
    @root_only
    def resolve_event_type(root: ShownEvent, info) -> str:
        return root.event_type

    @staticmethod
    @root_only
    def resolve_id(root: ShownEvent, info) -> str:
        return f"{root.webhook.endpoint.pk}:{root.event_type}"

    @staticmethod
    @root_only
    def resolve_updated_at(root: ShownEvent, info) -> datetime:
        return root.webhook.endpoint.updated_at

    @staticmethod
    @root_only
    def resolve_webhook(root: ShownEvent, info) -> ShownWebhook:
        return ShownWebhook(root.webhook.endpoint)


def _endpoint_attribute(name: str):
    @root_only
    def resolve(root: ShownWebhook, info):
        return getattr(root.endpoint, name)

    return staticmethod(resolve)


class Webhook(graphene.ObjectType):
    """A configured webhook"""

    event_type = graphene.Field(
        WebhookEventType,
        description=(
            "The type of webhook: its one event type, null when it receives several or every one "
            "(webhook_events lists them)"
        ),
    )
    id = graphene.ID(required=True, description="The unique identifier of the webhook")
    is_enabled = graphene.Boolean(
        required=True, description="Whether the webhook is enabled or not"
    )
    should_retry = graphene.Boolean(
        required=True, description="Whether the webhook should retry on failure"
    )
    signature_secret = graphene.String(
        description=(
            "The secret key used to sign the webhook: only in the answer of createWebhook and "
            "expireWebhookSignature (shown once), null everywhere else"
        )
    )
    url = graphene.String(description="The URL that the webhook will be sent to")
    warned_at = ISO8601DateTime(
        description="The date and time that the owner was warned about the webhook failing"
    )
    webhook_events = graphene.List(
        graphene.NonNull(WebhookEvent),
        description=(
            "The events that the webhook is subscribed to; empty when it receives every event type"
        ),
    )
    # This service's additions.
    signature_scheme = graphene.Field(
        WebhookSignatureScheme, required=True, description="How its deliveries are signed"
    )
    description = graphene.String(required=True, description="What the webhook is for")
    owner_email = graphene.String(
        required=True, description="Who is e-mailed when its deliveries keep failing"
    )
    previous_secret_expires_at = ISO8601DateTime(
        description="Until when the secret before the last rotation signs too (null: it does not)"
    )
    disabled_at = ISO8601DateTime(description="When it was disabled (null while enabled)")
    disabled_reason = graphene.String(
        required=True, description="Why it was disabled (empty while enabled)"
    )
    created_at = ISO8601DateTime(required=True, description="When the webhook was created")
    updated_at = ISO8601DateTime(required=True, description="When the webhook was last changed")

    resolve_url = _endpoint_attribute("url")
    resolve_is_enabled = _endpoint_attribute("is_enabled")
    resolve_should_retry = _endpoint_attribute("should_retry")
    resolve_warned_at = _endpoint_attribute("warned_at")
    resolve_signature_scheme = _endpoint_attribute("scheme")
    resolve_description = _endpoint_attribute("description")
    resolve_owner_email = _endpoint_attribute("owner_email")
    resolve_disabled_at = _endpoint_attribute("disabled_at")
    resolve_disabled_reason = _endpoint_attribute("disabled_reason")
    resolve_created_at = _endpoint_attribute("created_at")
    resolve_updated_at = _endpoint_attribute("updated_at")

    @staticmethod
    @root_only
    def resolve_id(root: ShownWebhook, info) -> str:
        return str(root.endpoint.pk)

    @staticmethod
    @root_only
    def resolve_event_type(root: ShownWebhook, info) -> str | None:
        types = root.endpoint.event_types
        return types[0] if len(types) == 1 else None

    @staticmethod
    @root_only
    def resolve_webhook_events(root: ShownWebhook, info) -> list[ShownEvent]:
        return [ShownEvent(root, event_type) for event_type in root.endpoint.event_types]

    @staticmethod
    @root_only
    def resolve_signature_secret(root: ShownWebhook, info) -> str | None:
        return root.secret

    @staticmethod
    def resolve_previous_secret_expires_at(root: ShownWebhook, info) -> datetime | None:
        """The overlap's end while it is in force, by signing's own test (the previous secret
        signs too: secrets_in_force); null once it is over, though the stored instant stays
        (nothing empties it): the old secret signs nothing any more. Read at the request's one
        instant (clock.request_now), as every webhook of the answer is: so not root_only."""
        endpoint = root.endpoint
        at = clock.now() if info.context is None else clock.request_now(info.context)
        overlapping = len(signing.secrets_in_force(endpoint, at)) > 1
        return endpoint.previous_secret_expires_at if overlapping else None


# -- the connection -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CursorPlace:
    """An endpoint's place as the memberships' cursors encode one: (created_at, id), the id
    carried in a UUID's integer."""

    created_at: datetime
    pk: uuid.UUID

    @classmethod
    def of(cls, endpoint: WebhookEndpoint) -> "CursorPlace":
        return cls(endpoint.created_at, uuid.UUID(int=endpoint.pk))


def webhook_cursor(endpoint: WebhookEndpoint) -> str:
    return encode_cursor(CursorPlace.of(endpoint))


def _sort_key(order: str):
    if order.startswith("URL"):
        return lambda e: (e.url, e.pk)
    if order.startswith("EVENT_TYPE"):
        # Healthie's single event_type; several (or every) type sort after any single one.
        return lambda e: (
            (0, e.event_types[0]) if len(e.event_types) == 1 else (1, ",".join(e.event_types)),
            e.pk,
        )
    return lambda e: (e.created_at, e.pk)


class WebhookPage:
    """One page of `endpoints` (every matching one, in no particular order) in `order`;
    what PageInfo and the connection resolve from (`rows` are the cursor places PageInfo's
    cursors encode)."""

    def __init__(
        self,
        endpoints: Sequence[WebhookEndpoint],
        *,
        order: str,
        first: int | None,
        after: str | None,
        last: int | None,
        before: str | None,
        max_page_size: int,
        default_page_size: int,
    ) -> None:
        check_page_size(first=first, last=last, max_page_size=max_page_size)
        key = _sort_key(order)
        ordered = sorted(endpoints, key=key, reverse=order.endswith("_DESC"))
        start, end = 0, len(ordered)
        if after is not None:
            start = self._index_after(ordered, after, order, key)
        if before is not None:
            end = max(start, self._index_before(ordered, before, order, key))
        if last is not None:
            start = max(start, end - last)
        else:
            end = min(end, start + (first if first is not None else default_page_size))
        self.endpoints = ordered[start:end]
        self.has_previous_page = start > 0
        self.has_next_page = end < len(ordered)
        self.total_count = len(ordered)

    @cached_property
    def rows(self) -> list[CursorPlace]:
        return [CursorPlace.of(endpoint) for endpoint in self.endpoints]

    @staticmethod
    def _position(ordered, cursor: str, order: str, key) -> tuple[int, bool]:
        """The index of the cursor's endpoint in `ordered`, and whether it is still there;
        when it is gone, the index of the first endpoint after its place (created_at orders
        only: the cursor carries no URL or event type)."""
        place = decode_cursor(cursor)
        pk = place.id.int
        for index, endpoint in enumerate(ordered):
            if endpoint.pk == pk:
                return index, True
        if not order.startswith("CREATED_AT"):
            raise ApiError(
                INVALID_CURSOR,
                "The webhook of this cursor was deleted: start again from the first page",
            )
        descending = order.endswith("_DESC")
        mark = (place.created_at, pk)
        for index, endpoint in enumerate(ordered):
            if (key(endpoint) < mark) if descending else (key(endpoint) > mark):
                return index, False
        return len(ordered), False

    def _index_after(self, ordered, cursor, order, key) -> int:
        index, found = self._position(ordered, cursor, order, key)
        return index + 1 if found else index

    def _index_before(self, ordered, cursor, order, key) -> int:
        index, _found = self._position(ordered, cursor, order, key)
        return index


class WebhookEdge(graphene.ObjectType):
    """An edge in a connection."""

    cursor = Cursor(required=True, description="A cursor for use in pagination")
    node = graphene.Field(Webhook, description="The item at the end of the edge.")

    @staticmethod
    @root_only
    def resolve_cursor(root: WebhookEndpoint, info) -> str:
        return webhook_cursor(root)

    @staticmethod
    @root_only
    def resolve_node(root: WebhookEndpoint, info) -> ShownWebhook:
        return ShownWebhook(root)


class WebhookPaginationConnection(graphene.ObjectType):
    """The connection type for Webhook."""

    edges = graphene.List(WebhookEdge, description="A list of edges.")
    nodes = graphene.List(Webhook, description="A list of nodes.")
    page_info = graphene.Field(
        PageInfo, required=True, description="Information to aid in pagination."
    )
    total_count = graphene.Int(required=True, description="Total count of items.")

    @staticmethod
    @root_only
    def resolve_edges(root: WebhookPage, info) -> list[WebhookEndpoint]:
        return list(root.endpoints)

    @staticmethod
    @root_only
    def resolve_nodes(root: WebhookPage, info) -> list[ShownWebhook]:
        return [ShownWebhook(endpoint) for endpoint in root.endpoints]

    @staticmethod
    @root_only
    def resolve_page_info(root: WebhookPage, info) -> WebhookPage:
        return root

    @staticmethod
    @root_only
    def resolve_total_count(root: WebhookPage, info) -> int:
        return root.total_count


# -- inputs and payloads ------------------------------------------------------------------


class WebhookEventInput(graphene.InputObjectType):
    """Payload for a webhook event"""

    id = graphene.ID(description="The ID of the webhook event")
    event_type = WebhookEventType(required=True, description="The type of webhook event")


URL_DESCRIPTION = "A valid URL per the WHATWG specification"


class CreateWebhookInput(graphene.InputObjectType):
    """Autogenerated input type of createWebhook"""

    class Meta:
        name = "createWebhookInput"

    event_type = WebhookEventType()
    is_enabled = graphene.Boolean()
    should_retry = graphene.Boolean(default_value=True)
    url = graphene.String(description=URL_DESCRIPTION)
    webhook_events = graphene.List(WebhookEventInput, description="Webhook events to create")
    signature_scheme = WebhookSignatureScheme(
        description="How deliveries are signed (this service's; default STANDARD)"
    )
    description = graphene.String(description="What the webhook is for (this service's)")
    owner_email = graphene.String(
        description="Who is e-mailed when deliveries keep failing (this service's)"
    )


class UpdateWebhookInput(graphene.InputObjectType):
    """Autogenerated input type of updateWebhook"""

    class Meta:
        name = "updateWebhookInput"

    event_type = WebhookEventType()
    id = graphene.ID()
    is_enabled = graphene.Boolean()
    should_retry = graphene.Boolean()
    url = graphene.String(description=URL_DESCRIPTION)
    webhook_events = graphene.List(
        WebhookEventInput,
        description=(
            "Webhook events to update or delete: the list replaces the webhook's event types "
            "(with event_type, if given too); an empty list means every type"
        ),
    )
    description = graphene.String(description="What the webhook is for (this service's)")
    owner_email = graphene.String(
        description="Who is e-mailed when deliveries keep failing (this service's)"
    )


class DeleteWebhookInput(graphene.InputObjectType):
    """Autogenerated input type of deleteWebhook"""

    class Meta:
        name = "deleteWebhookInput"

    id = graphene.ID()


class SendTestWebhookInput(graphene.InputObjectType):
    """Autogenerated input type of sendTestWebhook"""

    class Meta:
        name = "sendTestWebhookInput"

    id = graphene.ID(required=True, description="The ID of the webhook")


class ExpireWebhookSignatureInput(graphene.InputObjectType):
    """Autogenerated input type of expireWebhookSignature"""

    class Meta:
        name = "expireWebhookSignatureInput"

    id = graphene.ID(required=True, description="The ID of the webhook")


def _webhook_payload(name: str) -> type[graphene.ObjectType]:
    return type(
        f"{name}Payload",
        (graphene.ObjectType,),
        {
            "__doc__": f"Autogenerated return type of {name}.",
            "Meta": type("Meta", (), {"name": f"{name}Payload"}),
            "messages": payload_errors_field(),
            "webhook": graphene.Field(Webhook),
        },
    )


CreateWebhookPayload = _webhook_payload("createWebhook")
UpdateWebhookPayload = _webhook_payload("updateWebhook")
DeleteWebhookPayload = _webhook_payload("deleteWebhook")
ExpireWebhookSignaturePayload = _webhook_payload("expireWebhookSignature")


class SendTestWebhookPayload(graphene.ObjectType):
    """Autogenerated return type of sendTestWebhook."""

    class Meta:
        name = "sendTestWebhookPayload"

    messages = payload_errors_field()
    sent = graphene.Boolean(
        required=True, description="Whether the test event was sent and answered with a 2xx"
    )

    @staticmethod
    @root_only
    def resolve_sent(root, info) -> bool:
        return bool(getattr(root, "sent", False))
