"""Webhook management through the API (Healthie's createWebhook, updateWebhook, deleteWebhook,
sendTestWebhook, expireWebhookSignature and webhooks): the reference's shapes, business errors
in `messages`, the permission, and a secret shown once."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission

from enrollments.events import endpoints, signing
from enrollments.models import WebhookEndpoint
from enrollments.permissions import MANAGE_WEBHOOKS
from tests.factories import StaffFactory, UserFactory
from tests.graphql.conftest import error_codes

pytestmark = pytest.mark.django_db

#: A public address written as one: check_url resolves it without asking DNS.
URL = "https://93.184.216.34/hooks/access"

WEBHOOK_FIELDS = """
    id url is_enabled should_retry event_type signature_secret warned_at signature_scheme
    description owner_email previous_secret_expires_at disabled_at disabled_reason
    created_at updated_at webhook_events { id event_type created_at updated_at webhook { id } }
"""

CREATE = f"""
mutation Create($input: createWebhookInput) {{
  createWebhook(input: $input) {{
    webhook {{ {WEBHOOK_FIELDS} }}
    messages {{ field message code }}
  }}
}}
"""

UPDATE = f"""
mutation Update($input: updateWebhookInput) {{
  updateWebhook(input: $input) {{
    webhook {{ {WEBHOOK_FIELDS} }}
    messages {{ field message code }}
  }}
}}
"""

DELETE = """
mutation Delete($input: deleteWebhookInput) {
  deleteWebhook(input: $input) { webhook { id url } messages { field message code } }
}
"""

EXPIRE = """
mutation Expire($input: expireWebhookSignatureInput) {
  expireWebhookSignature(input: $input) {
    webhook { id signature_secret previous_secret_expires_at }
    messages { field message code }
  }
}
"""

LIST = """
query List($first: Int, $after: String, $last: Int, $before: String,
           $order_by: WebhookOrderKeys, $keywords: String, $sort_by: String) {
  webhooks(first: $first, after: $after, last: $last, before: $before, order_by: $order_by,
           keywords: $keywords, sort_by: $sort_by) {
    total_count
    page_info { has_next_page has_previous_page start_cursor end_cursor }
    edges { cursor node { id url signature_secret } }
    nodes { id url event_type webhook_events { event_type } }
  }
}
"""


def with_manage_webhooks(user):
    user.user_permissions.add(
        Permission.objects.get(
            content_type__app_label="enrollments", codename=MANAGE_WEBHOOKS.codename
        )
    )
    return user


@pytest.fixture
def admin_key(make_key):
    """An API key of staff holding enrollments.manage_webhooks."""
    return make_key(with_manage_webhooks(StaffFactory()))


def endpoint(url: str = URL, **kwargs) -> WebhookEndpoint:
    return endpoints.create(url, **kwargs).endpoint


def test_create_answers_the_webhook_with_its_secret_once(api, admin_key):
    body = api.post(
        CREATE,
        {
            "input": {
                "url": URL,
                "is_enabled": True,
                "webhook_events": [{"event_type": "COURSE_MEMBERSHIP_UPDATED"}],
                "description": "CRM",
                "owner_email": "ops@example.com",
            }
        },
        key=admin_key,
    )
    payload = body["data"]["createWebhook"]
    assert payload["messages"] == []
    webhook = payload["webhook"]
    stored = WebhookEndpoint.objects.get()
    assert webhook["id"] == str(stored.pk)
    assert webhook["signature_secret"] == stored.secret
    assert webhook["signature_secret"].startswith("whsec_")
    assert webhook["url"] == URL
    assert webhook["is_enabled"] is True and webhook["should_retry"] is True
    assert webhook["event_type"] == "COURSE_MEMBERSHIP_UPDATED"
    assert [e["event_type"] for e in webhook["webhook_events"]] == ["COURSE_MEMBERSHIP_UPDATED"]
    assert webhook["webhook_events"][0]["webhook"] == {"id": str(stored.pk)}
    assert webhook["signature_scheme"] == "STANDARD"
    assert (webhook["description"], webhook["owner_email"]) == ("CRM", "ops@example.com")
    assert stored.event_types == ["course_membership.updated"]
    assert stored.created_by is not None

    # Never again: not in the list, not in an update's answer.
    listed = api.post(LIST, key=admin_key)["data"]["webhooks"]
    assert listed["edges"][0]["node"]["signature_secret"] is None
    updated = api.post(UPDATE, {"input": {"id": webhook["id"]}}, key=admin_key)
    assert updated["data"]["updateWebhook"]["webhook"]["signature_secret"] is None


def test_create_with_healthie_signing_and_every_event_type(api, admin_key):
    body = api.post(CREATE, {"input": {"url": URL, "signature_scheme": "HEALTHIE"}}, key=admin_key)
    webhook = body["data"]["createWebhook"]["webhook"]
    assert webhook["signature_scheme"] == "HEALTHIE"
    assert webhook["event_type"] is None and webhook["webhook_events"] == []
    assert WebhookEndpoint.objects.get().event_types == []


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://93.184.216.34/hook", "https"),
        ("https://127.0.0.1/hook", "127.0.0.1"),
        ("https://10.0.0.8/hook", "10.0.0.8"),
        ("https://169.254.169.254/latest", "169.254.169.254"),
        ("not a url", "URL"),
        ("", "URL is required"),
    ],
)
def test_create_refuses_a_bad_url_in_messages(api, admin_key, settings, url, words):
    settings.WEBHOOKS = {**settings.WEBHOOKS, "REQUIRE_HTTPS": True}
    body = api.post(CREATE, {"input": {"url": url}}, key=admin_key)
    payload = body["data"]["createWebhook"]
    assert payload["webhook"] is None
    [message] = payload["messages"]
    assert message["code"] == "INVALID_WEBHOOK_URL"
    assert words in message["message"]
    assert message["field"] == "url"
    assert not WebhookEndpoint.objects.exists()


def test_create_without_input_is_a_missing_url(api, admin_key):
    body = api.post(
        "mutation { createWebhook { webhook { id } messages { code message } } }", key=admin_key
    )
    assert body["data"]["createWebhook"]["messages"] == [
        {"code": "INVALID_WEBHOOK_URL", "message": "A URL is required"}
    ]


def test_an_unknown_event_type_is_refused_by_the_schema(api, admin_key):
    body = api.post(
        CREATE,
        {"input": {"url": URL, "webhook_events": [{"event_type": "APPOINTMENT_CREATED"}]}},
        key=admin_key,
    )
    assert "APPOINTMENT_CREATED" in body["errors"][0]["message"]
    assert not WebhookEndpoint.objects.exists()


def test_a_bad_owner_email_is_a_message_naming_the_field(api, admin_key):
    body = api.post(CREATE, {"input": {"url": URL, "owner_email": "nope"}}, key=admin_key)
    assert body["data"]["createWebhook"]["messages"] == [
        {"field": "owner_email", "message": "Enter a valid email address", "code": "INVALID_EMAIL"}
    ]


@pytest.mark.parametrize(
    ("field", "value", "message", "code"),
    [
        # Text PostgreSQL cannot store (lms.text) was a server error: a NUL, an unpaired
        # surrogate (JSON's "\ud800"), in a description, an address or a URL's host.
        (
            "description",
            "bad\x00text",
            "A description must be valid text (no NUL character)",
            "INVALID_DESCRIPTION",
        ),
        (
            "description",
            "bad\ud800text",
            "A description must be valid text (no NUL character)",
            "INVALID_DESCRIPTION",
        ),
        ("owner_email", "a\ud800@example.com", "Enter a valid email address", "INVALID_EMAIL"),
        # validate_email admits 320 characters; the column holds 254.
        ("owner_email", "a" * 250 + "@example.com", "Enter a valid email address", "INVALID_EMAIL"),
        (
            "url",
            "https://a\ud800.example.com/hook",
            "Enter a valid https URL whose host is publicly reachable",
            "INVALID_WEBHOOK_URL",
        ),
    ],
)
def test_text_a_column_cannot_hold_is_a_message_naming_the_field(
    api, admin_key, field, value, message, code
):
    body = api.post(CREATE, {"input": {"url": URL, field: value}}, key=admin_key)
    assert body["data"]["createWebhook"]["messages"] == [
        {"field": field, "message": message, "code": code}
    ]
    assert not WebhookEndpoint.objects.exists()


def test_keywords_no_stored_text_can_hold_find_nothing(api, admin_key):
    endpoint(description="x")
    body = api.post(LIST, {"keywords": "x\ud800"}, key=admin_key)
    assert "errors" not in body
    assert body["data"]["webhooks"]["nodes"] == []


def test_update_changes_what_it_is_given_and_keeps_the_rest(api, admin_key):
    made = endpoint(event_types_=["course_membership.created"], description="kept")
    body = api.post(
        UPDATE,
        {
            "input": {
                "id": str(made.pk),
                "url": "https://93.184.216.35/other",
                "should_retry": False,
                "event_type": "COURSE_MEMBERSHIP_DELETED",
                "webhook_events": [{"event_type": "COURSE_MEMBERSHIP_CREATED"}],
            }
        },
        key=admin_key,
    )
    webhook = body["data"]["updateWebhook"]["webhook"]
    assert body["data"]["updateWebhook"]["messages"] == []
    assert webhook["url"] == "https://93.184.216.35/other"
    assert webhook["should_retry"] is False
    assert webhook["description"] == "kept"
    assert webhook["event_type"] is None  # two types now
    made.refresh_from_db()
    assert made.event_types == ["course_membership.created", "course_membership.deleted"]
    assert made.should_retry is False and made.description == "kept"


def test_disabling_by_update_marks_it_and_enabling_clears_the_marks(api, admin_key):
    made = endpoint()
    body = api.post(UPDATE, {"input": {"id": str(made.pk), "is_enabled": False}}, key=admin_key)
    webhook = body["data"]["updateWebhook"]["webhook"]
    assert webhook["is_enabled"] is False and webhook["disabled_at"] is not None
    body = api.post(UPDATE, {"input": {"id": str(made.pk), "is_enabled": True}}, key=admin_key)
    webhook = body["data"]["updateWebhook"]["webhook"]
    assert webhook["is_enabled"] is True
    assert (webhook["disabled_at"], webhook["disabled_reason"]) == (None, "")


@pytest.mark.parametrize("document", [UPDATE, DELETE, EXPIRE])
@pytest.mark.parametrize("given", ["999999", "abc", None])
def test_an_unknown_id_is_not_found_in_messages(api, admin_key, document, given):
    endpoint()
    body = api.post(document, {"input": {"id": given}}, key=admin_key)
    if document is EXPIRE and given is None:  # its input's id is ID!, as the reference's
        assert error_codes(body) == ["GRAPHQL_VALIDATION_FAILED"]
        return
    [payload] = body["data"].values()
    assert payload["webhook"] is None
    assert [(m["code"], m["message"]) for m in payload["messages"]] == [
        ("NOT_FOUND", "Webhook not found")
    ]
    assert payload["messages"][0]["field"] == ("id" if given else None)


def test_an_update_refusing_a_url_changes_nothing(api, admin_key):
    made = endpoint()
    body = api.post(
        UPDATE,
        {"input": {"id": str(made.pk), "url": "https://127.0.0.1/", "should_retry": False}},
        key=admin_key,
    )
    assert body["data"]["updateWebhook"]["messages"][0]["field"] == "url"
    made.refresh_from_db()
    assert made.url == URL and made.should_retry is True


def test_delete_answers_what_was_deleted(api, admin_key):
    made = endpoint()
    body = api.post(DELETE, {"input": {"id": str(made.pk)}}, key=admin_key)
    assert body["data"]["deleteWebhook"] == {
        "webhook": {"id": str(made.pk), "url": URL},
        "messages": [],
    }
    assert not WebhookEndpoint.objects.exists()


def test_expire_signature_rotates_with_an_overlap_and_shows_the_new_secret_once(
    api, admin_key, clock
):
    made = endpoint()
    old = made.secret
    body = api.post(EXPIRE, {"input": {"id": str(made.pk)}}, key=admin_key)
    webhook = body["data"]["expireWebhookSignature"]["webhook"]
    made.refresh_from_db()
    assert webhook["signature_secret"] == made.secret != old
    assert made.previous_secret == old
    assert made.previous_secret_expires_at == clock.current + timedelta(hours=24)
    assert webhook["previous_secret_expires_at"] is not None
    listed = api.post(LIST, key=admin_key)["data"]["webhooks"]["edges"]
    assert [edge["node"]["signature_secret"] for edge in listed] == [None]


def test_expire_signature_of_a_healthie_endpoint_stops_the_old_secret_at_once(
    api, admin_key, clock
):
    """Healthie's sample verifier reads what follows the first `=` of the whole Signature
    header: with `sig1=<new>, sig2=<old>` during an overlap it verified nothing for 24 hours,
    and this mutation gives no way to ask for another overlap. As its name says, the current
    signature expires: one signature, the new secret's, from now on."""
    made = endpoint(scheme="healthie")
    old = made.secret
    body = api.post(EXPIRE, {"input": {"id": str(made.pk)}}, key=admin_key)
    made.refresh_from_db()
    assert body["data"]["expireWebhookSignature"]["webhook"]["signature_secret"] == made.secret
    assert made.secret != old
    assert (made.previous_secret, made.previous_secret_expires_at) == ("", None)
    assert signing.secrets_in_force(made) == [made.secret]
    sent = signing.headers(made, url=made.url, message_id="m", body=b"{}", timestamp=0)
    assert sent["Signature"].count("=") == 1  # sig1=<hex>: what the sample reads


def test_send_test_webhook_answers_sent(api, admin_key, monkeypatch):
    from enrollments.events import delivery
    from enrollments.events.posting import Answer

    made = endpoint()
    calls = []
    monkeypatch.setattr(delivery, "send_test", lambda e: calls.append(e.pk) or Answer(204, 3))
    document = (
        "mutation($id: ID!) { sendTestWebhook(input: {id: $id}) "
        "{ sent messages { code message field } } }"
    )
    body = api.post(document, {"id": str(made.pk)}, key=admin_key)
    assert body["data"]["sendTestWebhook"] == {"sent": True, "messages": []}
    assert calls == [made.pk]
    body = api.post(document, {"id": "404"}, key=admin_key)
    assert body["data"]["sendTestWebhook"] == {
        "sent": False,
        "messages": [{"code": "NOT_FOUND", "message": "Webhook not found", "field": "id"}],
    }


def test_send_test_webhook_ignores_an_idempotency_key(api, admin_key, monkeypatch):
    """A keyed mutation runs in one transaction holding its key's row lock; a test event calls
    the webhook's URL, which that lock must not wait for: the key is ignored (sending twice is
    harmless), nothing is stored for it."""
    from apikeys.models import IdempotencyKey
    from enrollments.events import delivery
    from enrollments.events.posting import Answer

    made = endpoint()
    calls = []
    monkeypatch.setattr(delivery, "send_test", lambda e: calls.append(e.pk) or Answer(204, 3))
    document = "mutation($id: ID!) { sendTestWebhook(input: {id: $id}) { sent } }"
    for _ in range(2):
        body = api.post(document, {"id": str(made.pk)}, key=admin_key, HTTP_IDEMPOTENCY_KEY="k1")
        assert body["data"]["sendTestWebhook"] == {"sent": True}
    assert calls == [made.pk, made.pk]
    assert not IdempotencyKey.objects.exists()


@pytest.fixture
def sent_tests(monkeypatch) -> list:
    """The endpoints a test event was sent to (delivery.send_test, answered 204)."""
    from enrollments.events import delivery
    from enrollments.events.posting import Answer

    calls = []
    monkeypatch.setattr(delivery, "send_test", lambda e: calls.append(e.pk) or Answer(204, 3))
    return calls


def test_a_test_event_in_a_fragment_is_seen_and_the_key_ignored(api, admin_key, sent_tests):
    """The key's check looked at the top-level fields only: through a fragment, the test
    event was sent with the key's row lock held, waiting on the webhook's URL."""
    from apikeys.models import IdempotencyKey

    made = endpoint()
    document = (
        "mutation($id: ID!) { ...Send } "
        "fragment Send on Mutation { sendTestWebhook(input: {id: $id}) { sent } }"
    )
    body = api.post(document, {"id": str(made.pk)}, key=admin_key, HTTP_IDEMPOTENCY_KEY="k1")
    assert body["data"]["sendTestWebhook"] == {"sent": True}
    assert sent_tests == [made.pk]
    assert not IdempotencyKey.objects.exists()


def test_a_keyed_test_event_beside_another_mutation_is_refused(api, admin_key, sent_tests):
    """Ignoring the key would run the other mutation unkeyed: a retry would apply it twice."""
    made = endpoint(description="before")
    document = (
        "mutation($id: ID!) { sendTestWebhook(input: {id: $id}) { sent } "
        'updateWebhook(input: {id: $id, description: "after"}) { webhook { id } } }'
    )
    body = api.post(document, {"id": str(made.pk)}, key=admin_key, HTTP_IDEMPOTENCY_KEY="k1")
    assert api.last_response.status_code == 422
    assert error_codes(body) == ["IDEMPOTENCY_KEY_NOT_APPLICABLE"]
    assert sent_tests == []
    made.refresh_from_db()
    assert made.description == "before"
    # Without a key the same document runs (nothing to apply twice is promised).
    body = api.post(document, {"id": str(made.pk)}, key=admin_key)
    assert body["data"]["sendTestWebhook"] == {"sent": True}


def test_webhooks_pages_with_cursors_and_counts(api, admin_key, clock):
    made = []
    for n in range(5):
        made.append(endpoint(f"https://93.184.216.{30 + n}/hook"))
        clock.advance(seconds=1)
    first = api.post(LIST, {"first": 2}, key=admin_key)["data"]["webhooks"]
    assert first["total_count"] == 5
    assert [n["id"] for n in first["nodes"]] == [str(e.pk) for e in made[:2]]
    assert first["page_info"]["has_next_page"] is True
    assert first["page_info"]["has_previous_page"] is False
    assert first["page_info"]["end_cursor"] == first["edges"][-1]["cursor"]
    second = api.post(LIST, {"first": 2, "after": first["page_info"]["end_cursor"]}, key=admin_key)[
        "data"
    ]["webhooks"]
    assert [n["id"] for n in second["nodes"]] == [str(e.pk) for e in made[2:4]]
    assert second["page_info"]["has_previous_page"] is True
    # A cursor of a deleted webhook still continues in the created_at order.
    made[3].delete()
    third = api.post(LIST, {"first": 2, "after": second["page_info"]["end_cursor"]}, key=admin_key)[
        "data"
    ]["webhooks"]
    assert [n["id"] for n in third["nodes"]] == [str(made[4].pk)]
    assert third["page_info"]["has_next_page"] is False
    back = api.post(LIST, {"last": 2, "before": second["edges"][0]["cursor"]}, key=admin_key)[
        "data"
    ]["webhooks"]
    assert [n["id"] for n in back["nodes"]] == [str(e.pk) for e in made[:2]]


def test_webhooks_orders_and_keywords(api, admin_key, clock):
    b = endpoint("https://93.184.216.34/b", description="billing")
    clock.advance(seconds=1)
    a = endpoint("https://93.184.216.34/a", event_types_=["COURSE_MEMBERSHIP_DELETED"])
    by_url = api.post(LIST, {"order_by": "URL_ASC"}, key=admin_key)["data"]["webhooks"]
    assert [n["id"] for n in by_url["nodes"]] == [str(a.pk), str(b.pk)]
    newest = api.post(LIST, {"sort_by": "created_at_desc"}, key=admin_key)["data"]["webhooks"]
    assert [n["id"] for n in newest["nodes"]] == [str(a.pk), str(b.pk)]
    found = api.post(LIST, {"keywords": "BILL"}, key=admin_key)["data"]["webhooks"]
    assert [n["id"] for n in found["nodes"]] == [str(b.pk)] and found["total_count"] == 1
    assert found["nodes"][0]["webhook_events"] == []
    assert by_url["nodes"][0]["event_type"] == "COURSE_MEMBERSHIP_DELETED"


@pytest.mark.parametrize(
    ("variables", "code"),
    [
        ({"first": 1, "last": 1}, "BAD_USER_INPUT"),
        ({"first": 10_000}, "BAD_USER_INPUT"),
        ({"sort_by": "sideways"}, "BAD_USER_INPUT"),
        ({"after": "nonsense"}, "INVALID_CURSOR"),
    ],
)
def test_webhooks_refuses_bad_paging(api, admin_key, variables, code):
    body = api.post(LIST, variables, key=admin_key)
    assert error_codes(body) == [code]


def test_webhooks_reads_in_one_query_after_the_key(api, admin_key, django_assert_max_num_queries):
    for n in range(3):
        endpoint(f"https://93.184.216.{40 + n}/hook", event_types_=["COURSE_MEMBERSHIP_CREATED"])
    api.post(LIST, key=admin_key)  # warms the key's permission cache
    with django_assert_max_num_queries(3):
        body = api.post(LIST, key=admin_key)
    assert body["data"]["webhooks"]["total_count"] == 3


DOCUMENTS = {
    "webhooks": ("{ webhooks { total_count } }", {}),
    "createWebhook": (CREATE, {"input": {"url": URL}}),
    "updateWebhook": (UPDATE, {"input": {"id": "1"}}),
    "deleteWebhook": (DELETE, {"input": {"id": "1"}}),
    "expireWebhookSignature": (EXPIRE, {"input": {"id": "1"}}),
    "sendTestWebhook": (
        'mutation { sendTestWebhook(input: {id: "1"}) { sent messages { code } } }',
        {},
    ),
}


@pytest.mark.parametrize("name", DOCUMENTS)
@pytest.mark.parametrize(
    ("who", "code"),
    [("anonymous", "UNAUTHENTICATED"), ("student", "FORBIDDEN"), ("staff", "FORBIDDEN")],
)
def test_without_the_permission_nothing_is_served(api, make_key, name, who, code):
    key = (
        None
        if who == "anonymous"
        else make_key(UserFactory() if who == "student" else StaffFactory(is_superuser=False))
    )
    document, variables = DOCUMENTS[name]
    body = api.post(document, variables, key=key)
    assert code in error_codes(body)
    assert not WebhookEndpoint.objects.exists()


def test_a_signed_in_staff_member_with_the_permission_may(api, client):
    staff = with_manage_webhooks(StaffFactory())
    client.force_login(staff)
    body = api.post(CREATE, {"input": {"url": URL}})
    assert body["data"]["createWebhook"]["messages"] == []


@pytest.mark.parametrize("rows", [1, 20])
def test_the_webhooks_query_count_does_not_grow_with_its_rows(
    api, admin_key, rows, django_assert_num_queries
):
    """The key with its user, the key's last use, the user's permissions and the endpoints:
    the same for 1 webhook and for 20, every field of each asked."""
    for number in range(rows):
        endpoint(f"https://93.184.216.{number + 1}/hooks/access", description=f"CRM {number}")
    document = f"query {{ webhooks(first: 50) {{ total_count nodes {{ {WEBHOOK_FIELDS} }} }} }}"
    with django_assert_num_queries(4):
        listed = api.post(document, key=admin_key)["data"]["webhooks"]
    assert listed["total_count"] == rows and len(listed["nodes"]) == rows
