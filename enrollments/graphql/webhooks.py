"""Webhook management through the API, as Healthie's at 2026-01-01: the `webhooks` query and the
createWebhook, updateWebhook, deleteWebhook, sendTestWebhook and expireWebhookSignature
mutations, each with a nullable `input` and a payload with `messages: [FieldError]`.

Thin adapters over enrollments/events/endpoints.py (every rule and message is there) and
events/delivery.py (the test event). Everything needs the MANAGE_WEBHOOKS permission
(FORBIDDEN without it, top-level, as every permission error). Business errors (an unknown id,
a refused URL, ...) come back in `messages` with the object null (payload_errors).
`signature_secret` is filled only in createWebhook's and expireWebhookSignature's answers: the
secret is shown once. expireWebhookSignature is a rotation with the scheme's default overlap
(endpoints.default_overlap): on Standard Webhooks the old secret keeps signing for
endpoints.ROTATION_OVERLAP (a day), so receivers switch keys without losing a delivery; on
Healthie's scheme none (its receivers keep the first signature of the header).
"""

import graphene
from graphql import GraphQLResolveInfo

from enrollments.events import endpoints
from enrollments.graphql.errors import bad_input
from enrollments.graphql.limits import limits
from enrollments.graphql.payload_errors import reports_business_errors
from enrollments.graphql.permissions import require_perm
from enrollments.graphql.webhook_types import (
    ORDER_KEYS,
    CreateWebhookInput,
    CreateWebhookPayload,
    DeleteWebhookInput,
    DeleteWebhookPayload,
    ExpireWebhookSignatureInput,
    ExpireWebhookSignaturePayload,
    SendTestWebhookInput,
    SendTestWebhookPayload,
    ShownWebhook,
    UpdateWebhookInput,
    UpdateWebhookPayload,
    WebhookOrderKeys,
    WebhookPage,
    WebhookPaginationConnection,
)
from enrollments.permissions import MANAGE_WEBHOOKS

#: Arguments at fault, by error (payload_errors' `field`).
AT_FAULT = {
    endpoints.WebhookNotFound: ("id",),
    endpoints.InvalidWebhookUrl: ("url",),
    endpoints.UnknownEventType: ("event_type", "webhook_events"),
    endpoints.UnknownScheme: ("signature_scheme",),
    endpoints.InvalidOwnerEmail: ("owner_email",),
    endpoints.DescriptionTooLong: ("description",),
    endpoints.InvalidDescription: ("description",),
}

NEEDS = f"Needs the {MANAGE_WEBHOOKS} permission."


def _value(value):
    """A graphene enum member's value (arguments arrive as members)."""
    return getattr(value, "value", value)


def _event_types(input) -> list[str] | None:  # noqa: A002 - the reference's argument name
    """The event types `input` names (`event_type` and `webhook_events`), or None when it
    names none (an update then keeps the webhook's)."""
    named = []
    if input.get("event_type") is not None:
        named.append(_value(input["event_type"]))
    events = input.get("webhook_events")
    if events is not None:
        named.extend(_value(event["event_type"]) for event in events if event is not None)
    if input.get("event_type") is None and events is None:
        return None
    return named


def resolve_webhooks(
    root,
    info: GraphQLResolveInfo,
    keywords: str | None = None,
    order_by: str | None = None,
    sort_by: str | None = None,
    after: str | None = None,
    before: str | None = None,
    first: int | None = None,
    last: int | None = None,
) -> WebhookPage:
    require_perm(info, MANAGE_WEBHOOKS)
    order = _value(order_by) or _sort_by(sort_by) or WebhookOrderKeys.CREATED_AT_ASC.value
    current = limits()
    return WebhookPage(
        list(endpoints.search(keywords)),
        order=order,
        first=first,
        after=after,
        last=last,
        before=before,
        max_page_size=current.max_page_size,
        default_page_size=current.default_page_size,
    )


def _sort_by(sort_by: str | None) -> str | None:
    """Healthie's untyped `sort_by`, read as an order key in any case (`created_at_desc`)."""
    if sort_by is None or not sort_by.strip():
        return None
    text = sort_by.strip().upper()
    if text not in ORDER_KEYS:
        raise bad_input(f"`sort_by` must be one of {', '.join(ORDER_KEYS)} (any case)")
    return text


@reports_business_errors("messages", AT_FAULT)
def resolve_create_webhook(root, info: GraphQLResolveInfo, input=None) -> CreateWebhookPayload:  # noqa: A002
    actor = require_perm(info, MANAGE_WEBHOOKS)
    input = input or {}  # noqa: A001
    made = endpoints.create(
        input.get("url") or "",
        scheme=_value(input.get("signature_scheme")) or endpoints.Scheme.STANDARD,
        event_types_=_event_types(input) or (),
        is_enabled=input.get("is_enabled") is not False,
        should_retry=input.get("should_retry") is not False,
        description=input.get("description") or "",
        owner_email=input.get("owner_email") or "",
        created_by=actor,
    )
    return CreateWebhookPayload(webhook=ShownWebhook(made.endpoint, made.secret))


@reports_business_errors("messages", AT_FAULT)
def resolve_update_webhook(root, info: GraphQLResolveInfo, input=None) -> UpdateWebhookPayload:  # noqa: A002
    require_perm(info, MANAGE_WEBHOOKS)
    input = input or {}  # noqa: A001
    changes = {
        name: input[name]
        for name in ("url", "is_enabled", "should_retry", "description", "owner_email")
        if input.get(name) is not None
    }
    types = _event_types(input)
    if types is not None:
        changes["event_types"] = types
    endpoint = endpoints.update(input.get("id"), **changes)
    return UpdateWebhookPayload(webhook=ShownWebhook(endpoint))


@reports_business_errors("messages", AT_FAULT)
def resolve_delete_webhook(root, info: GraphQLResolveInfo, input=None) -> DeleteWebhookPayload:  # noqa: A002
    require_perm(info, MANAGE_WEBHOOKS)
    endpoint = endpoints.delete((input or {}).get("id"))
    return DeleteWebhookPayload(webhook=ShownWebhook(endpoint))


@reports_business_errors("messages", AT_FAULT)
def resolve_send_test_webhook(
    root,
    info: GraphQLResolveInfo,
    input=None,  # noqa: A002
) -> SendTestWebhookPayload:
    require_perm(info, MANAGE_WEBHOOKS)
    answer = endpoints.send_test((input or {}).get("id"))
    return SendTestWebhookPayload(sent=answer.delivered)


@reports_business_errors("messages", AT_FAULT)
def resolve_expire_webhook_signature(
    root,
    info: GraphQLResolveInfo,
    input=None,  # noqa: A002
) -> ExpireWebhookSignaturePayload:
    require_perm(info, MANAGE_WEBHOOKS)
    rotated = endpoints.rotate((input or {}).get("id"))
    return ExpireWebhookSignaturePayload(webhook=ShownWebhook(rotated.endpoint, rotated.secret))


def webhooks_field() -> graphene.Field:
    """The Query's `webhooks` field (made where the Query lists it: graphene orders fields by
    when they were made)."""
    return graphene.Field(
        WebhookPaginationConnection,
        name="webhooks",
        description=f"Fetch paginated Webhooks collection. {NEEDS}",
        resolver=resolve_webhooks,
        keywords=graphene.String(
            description="Only webhooks whose URL or description has each word"
        ),
        order_by=WebhookOrderKeys(description="Order of the webhooks (default CREATED_AT_ASC)"),
        sort_by=graphene.String(description="An order key as text, in any case (as order_by)"),
        after=graphene.String(
            description="Returns the elements in the list that come after the specified cursor."
        ),
        before=graphene.String(
            description="Returns the elements in the list that come before the specified cursor."
        ),
        first=graphene.Int(description="Returns the first _n_ elements from the list."),
        last=graphene.Int(description="Returns the last _n_ elements from the list."),
    )


def _mutation(payload, name: str, description: str, resolver, input_type) -> graphene.Field:
    return graphene.Field(
        payload,
        name=name,
        description=f"{description} {NEEDS}",
        resolver=resolver,
        input=input_type(description=f"Parameters for {name}"),
    )


def create_webhook_field() -> graphene.Field:
    return _mutation(
        CreateWebhookPayload,
        "createWebhook",
        "Create Webhook (its signature_secret is in this answer only).",
        resolve_create_webhook,
        CreateWebhookInput,
    )


def update_webhook_field() -> graphene.Field:
    return _mutation(
        UpdateWebhookPayload,
        "updateWebhook",
        "Update Webhook.",
        resolve_update_webhook,
        UpdateWebhookInput,
    )


def delete_webhook_field() -> graphene.Field:
    return _mutation(
        DeleteWebhookPayload,
        "deleteWebhook",
        "Destroy Webhook (with its delivery log).",
        resolve_delete_webhook,
        DeleteWebhookInput,
    )


def send_test_webhook_field() -> graphene.Field:
    return _mutation(
        SendTestWebhookPayload,
        "sendTestWebhook",
        "Sends a test webhook to the specified URL (signed as every delivery).",
        resolve_send_test_webhook,
        SendTestWebhookInput,
    )


def expire_webhook_signature_field() -> graphene.Field:
    return _mutation(
        ExpireWebhookSignaturePayload,
        "expireWebhookSignature",
        "Expires the webhook signature: a new secret (in this answer only). On a Standard "
        "Webhooks endpoint the old one keeps signing for "
        f"{endpoints.ROTATION_OVERLAP.total_seconds() / 3600:g} hours "
        "(previous_secret_expires_at); on a Healthie-scheme endpoint it stops at once (Healthie's "
        "receivers read one signature).",
        resolve_expire_webhook_signature,
        ExpireWebhookSignatureInput,
    )
