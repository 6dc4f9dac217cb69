"""Webhook management over real HTTP, as a Healthie client drives it (`POST /graphql`,
`Authorization: Basic <key>` with `AuthorizationSource: API`): create a webhook and keep its
secret (shown once), list, update, delete; a refused URL in `messages`; FORBIDDEN without
enrollments.manage_webhooks. And a change made over HTTP (Teachify's header) records its
AccessEvent in the live server's request, for the webhooks to send."""

import pytest
from django.contrib.auth.models import Permission

from apikeys.models import APIKey
from enrollments.models import AccessEvent, WebhookEndpoint
from enrollments.permissions import MANAGE_WEBHOOKS
from tests.factories import EnrollmentFactory, StaffFactory
from tests.graphql.conftest import grant

pytestmark = pytest.mark.django_db(transaction=True)

#: A public address written as one: the target check accepts it without asking DNS.
URL = "https://93.184.216.34/hooks/access"
OTHER_URL = "https://93.184.216.35/hooks/other"

WEBHOOK = """
    id url is_enabled should_retry event_type signature_secret signature_scheme
    disabled_at webhook_events { id event_type webhook { id } }
"""

CREATE = f"""
mutation createWebhook($input: createWebhookInput) {{
  createWebhook(input: $input) {{
    webhook {{ {WEBHOOK} }}
    messages {{ field message code }}
  }}
}}
"""

UPDATE = f"""
mutation updateWebhook($input: updateWebhookInput) {{
  updateWebhook(input: $input) {{
    webhook {{ {WEBHOOK} }}
    messages {{ field message code }}
  }}
}}
"""

DELETE = """
mutation deleteWebhook($input: deleteWebhookInput) {
  deleteWebhook(input: $input) {
    webhook { id url }
    messages { field message code }
  }
}
"""

LIST = """
query webhooks($first: Int, $after: String) {
  webhooks(first: $first, after: $after) {
    total_count
    page_info { has_next_page end_cursor }
    edges { cursor node { id url is_enabled signature_secret } }
  }
}
"""

FORBIDDEN = {
    "message": "You do not have permission to perform this action",
    "extensions": {"code": "FORBIDDEN"},
}


@pytest.fixture
def admin_key(transactional_db, fresh_rate_limits) -> str:
    """A key of staff holding enrollments.manage_webhooks."""
    staff = StaffFactory()
    staff.user_permissions.add(
        Permission.objects.get(
            content_type__app_label="enrollments", codename=MANAGE_WEBHOOKS.codename
        )
    )
    _api_key, key = APIKey.objects.create_key(user=staff, name="webhooks")
    return key


def data(response) -> dict:
    """The `data` of a 200 JSON answer without top-level errors."""
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "application/json"
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


def test_a_healthie_client_manages_a_webhook_over_http(live_api, admin_key):
    created = data(
        live_api.post(
            "healthie",
            admin_key,
            CREATE,
            {
                "input": {
                    "url": URL,
                    "is_enabled": True,
                    "webhook_events": [{"event_type": "COURSE_MEMBERSHIP_UPDATED"}],
                    "signature_scheme": "HEALTHIE",
                }
            },
        )
    )["createWebhook"]
    assert created["messages"] == []
    webhook = created["webhook"]
    stored = WebhookEndpoint.objects.get()
    assert webhook["id"] == str(stored.pk)
    assert webhook["signature_secret"] == stored.secret  # shown once: the client stores it
    assert webhook["signature_secret"].startswith("whsec_")
    assert (webhook["url"], webhook["is_enabled"], webhook["should_retry"]) == (URL, True, True)
    assert webhook["event_type"] == "COURSE_MEMBERSHIP_UPDATED"
    assert webhook["signature_scheme"] == "HEALTHIE"
    assert webhook["webhook_events"] == [
        {
            "id": f"{stored.pk}:course_membership.updated",
            "event_type": "COURSE_MEMBERSHIP_UPDATED",
            "webhook": {"id": str(stored.pk)},
        }
    ]

    listed = data(live_api.post("healthie", admin_key, LIST, {"first": 10}))["webhooks"]
    assert listed["total_count"] == 1
    assert listed["page_info"]["has_next_page"] is False
    [edge] = listed["edges"]
    assert edge["cursor"] == listed["page_info"]["end_cursor"]
    assert edge["node"] == {
        "id": webhook["id"],
        "url": URL,
        "is_enabled": True,
        "signature_secret": None,  # never again
    }

    updated = data(
        live_api.post(
            "healthie",
            admin_key,
            UPDATE,
            {"input": {"id": webhook["id"], "url": OTHER_URL, "is_enabled": False}},
        )
    )["updateWebhook"]
    assert updated["messages"] == []
    assert updated["webhook"]["url"] == OTHER_URL
    assert updated["webhook"]["is_enabled"] is False
    assert updated["webhook"]["disabled_at"] is not None
    assert updated["webhook"]["signature_secret"] is None
    assert updated["webhook"]["event_type"] == "COURSE_MEMBERSHIP_UPDATED"  # kept
    stored.refresh_from_db()
    assert (stored.url, stored.is_enabled) == (OTHER_URL, False)

    deleted = data(live_api.post("healthie", admin_key, DELETE, {"input": {"id": webhook["id"]}}))
    assert deleted["deleteWebhook"] == {
        "webhook": {"id": webhook["id"], "url": OTHER_URL},
        "messages": [],
    }
    assert not WebhookEndpoint.objects.exists()
    again = data(live_api.post("healthie", admin_key, DELETE, {"input": {"id": webhook["id"]}}))
    assert again["deleteWebhook"] == {
        "webhook": None,
        "messages": [{"field": "id", "message": "Webhook not found", "code": "NOT_FOUND"}],
    }
    assert data(live_api.post("healthie", admin_key, LIST))["webhooks"]["total_count"] == 0


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://93.184.216.34/hook", "https"),
        ("https://127.0.0.1/hook", "127.0.0.1"),
        ("https://169.254.169.254/latest", "169.254.169.254"),
        ("not a url", "URL"),
    ],
)
def test_a_refused_url_is_answered_in_messages(live_api, admin_key, settings, url, words):
    settings.WEBHOOKS = {
        **settings.WEBHOOKS,
        "REQUIRE_HTTPS": True,
        "ALLOW_PRIVATE_TARGETS": False,
    }
    response = live_api.post("healthie", admin_key, CREATE, {"input": {"url": url}})
    payload = data(response)["createWebhook"]
    assert payload["webhook"] is None
    [message] = payload["messages"]
    assert (message["field"], message["code"]) == ("url", "INVALID_WEBHOOK_URL")
    assert words in message["message"]
    assert not WebhookEndpoint.objects.exists()


def test_an_update_to_a_refused_url_changes_nothing(live_api, admin_key, settings):
    settings.WEBHOOKS = {**settings.WEBHOOKS, "ALLOW_PRIVATE_TARGETS": False}
    made = data(live_api.post("healthie", admin_key, CREATE, {"input": {"url": URL}}))
    webhook_id = made["createWebhook"]["webhook"]["id"]
    response = live_api.post(
        "healthie", admin_key, UPDATE, {"input": {"id": webhook_id, "url": "https://10.0.0.8/"}}
    )
    payload = data(response)["updateWebhook"]
    assert payload["webhook"] is None
    assert [(m["field"], m["code"]) for m in payload["messages"]] == [
        ("url", "INVALID_WEBHOOK_URL")
    ]
    assert WebhookEndpoint.objects.get().url == URL


def test_the_live_server_reads_the_target_settings(live_api, admin_key, settings):
    """Development settings (http allowed, private targets allowed) let a local receiver in."""
    settings.WEBHOOKS = {
        **settings.WEBHOOKS,
        "REQUIRE_HTTPS": False,
        "ALLOW_PRIVATE_TARGETS": True,
    }
    local = "http://127.0.0.1:9/hook"
    payload = data(live_api.post("healthie", admin_key, CREATE, {"input": {"url": local}}))
    assert payload["createWebhook"]["messages"] == []
    assert payload["createWebhook"]["webhook"]["url"] == local
    assert WebhookEndpoint.objects.get().url == local


DOCUMENTS = {
    "webhooks": (LIST, {}),
    "createWebhook": (CREATE, {"input": {"url": URL}}),
    "updateWebhook": (UPDATE, {"input": {"id": "1", "url": URL}}),
    "deleteWebhook": (DELETE, {"input": {"id": "1"}}),
}


@pytest.mark.parametrize("name", DOCUMENTS)
def test_a_key_without_manage_webhooks_is_forbidden(
    live_api, transactional_db, fresh_rate_limits, name
):
    staff = StaffFactory(is_superuser=False)
    grant(staff, "view", "extend", "pause", "remove", "enroll")  # everything but webhooks
    _api_key, key = APIKey.objects.create_key(user=staff)
    document, variables = DOCUMENTS[name]
    response = live_api.post("healthie", key, document, variables)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["data"] == {name: None}
    assert [{k: e[k] for k in ("message", "extensions")} for e in body["errors"]] == [FORBIDDEN]
    assert body["errors"][0]["path"] == [name]
    assert not WebhookEndpoint.objects.exists()


EXTEND = """mutation ($u: String!, $c: String!) {
  extendStudentCourseAccess(userId: $u, courseId: $c, extensionDays: 3) { enrollment { id } }
}"""


def test_a_change_over_http_records_its_access_event(live_api, transactional_db, fresh_rate_limits):
    """Teachify's header on this API's path: the live server's request records the event in
    the change's transaction (what the webhooks then send)."""
    staff = StaffFactory()
    grant(staff, "view", "extend")
    _api_key, key = APIKey.objects.create_key(user=staff)
    enrollment = EnrollmentFactory()
    assert not AccessEvent.objects.exists()
    variables = {"u": str(enrollment.user_id), "c": str(enrollment.course_id)}
    body = data(live_api.post("teachify", key, EXTEND, variables))
    assert body == {"extendStudentCourseAccess": {"enrollment": {"id": str(enrollment.pk)}}}
    assert list(
        AccessEvent.objects.values_list("enrollment_id", "event_type", "action", "changed_fields")
    ) == [(enrollment.pk, "course_membership.updated", "extend", ["ended_at"])]
