"""Webhook endpoints in the admin: add (the secret shown once), change, enable/disable, rotate,
test, the delivery log with its attempts, resend and replay; all under manage_webhooks."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from enrollments.events import delivery, endpoints
from enrollments.events.posting import Answer
from enrollments.models import AccessEvent, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from tests.admin.conftest import grant, logged_in
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db

URL = "https://93.184.216.34/hooks"
LIST = "/admin/enrollments/webhookendpoint/"


def page(endpoint: WebhookEndpoint, name: str = "change", *args) -> str:
    return reverse(f"admin:enrollments_webhookendpoint_{name}", args=[endpoint.pk, *args])


@pytest.fixture
def admin_client(db):
    return logged_in(grant(StaffFactory(), "manage_webhooks"))


@pytest.fixture
def endpoint(db) -> WebhookEndpoint:
    return endpoints.create(URL, description="CRM").endpoint


FORM = {
    "url": URL,
    "scheme": "standard",
    "event_types": ["course_membership.updated"],
    "is_enabled": "on",
    "should_retry": "on",
    "owner_email": "ops@example.com",
    "description": "video host",
}


def test_add_shows_the_secret_once_and_never_again(admin_client):
    response = admin_client.post(LIST + "add/", FORM)
    assert response.status_code == 200
    made = WebhookEndpoint.objects.get()
    assert made.secret in response.content.decode()
    assert "it is not shown again" in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    assert made.event_types == ["course_membership.updated"]
    assert made.created_by is not None
    for url in (LIST, page(made), page(made, "deliveries")):
        shown = admin_client.get(url)
        assert shown.status_code == 200
        assert made.secret not in shown.content.decode()


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("url", "https://127.0.0.1/hook", "127.0.0.1"),
        ("url", "https://10.1.2.3/hook", "10.1.2.3"),
        ("owner_email", "nope", "valid email"),
    ],
)
def test_add_shows_the_refusal_on_its_field(admin_client, field, value, words):
    response = admin_client.post(LIST + "add/", {**FORM, field: value})
    assert response.status_code == 200
    assert words in str(response.context["adminform"].form.errors[field])
    assert not WebhookEndpoint.objects.exists()


def test_change_updates_through_the_core_and_keeps_the_scheme(admin_client, endpoint):
    data = {**FORM, "url": URL + "/v2", "should_retry": "", "scheme": "healthie"}
    data.pop("should_retry")
    response = admin_client.post(page(endpoint), data)
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.url == URL + "/v2" and not endpoint.should_retry
    assert endpoint.scheme == "standard"  # read-only after creation
    assert endpoint.secret not in admin_client.get(page(endpoint)).content.decode()


def test_disable_and_enable_actions(admin_client, endpoint):
    action = {"action": "disable_selected", "_selected_action": [endpoint.pk]}
    assert admin_client.post(LIST, action).status_code == 302
    endpoint.refresh_from_db()
    assert not endpoint.is_enabled and endpoint.disabled_reason == "disabled by hand"
    admin_client.post(LIST, {**action, "action": "enable_selected"})
    endpoint.refresh_from_db()
    assert endpoint.is_enabled and endpoint.disabled_at is None


def test_rotate_shows_the_new_secret_once_with_the_overlap(admin_client, endpoint, clock):
    old = endpoint.secret
    assert admin_client.get(page(endpoint, "rotate")).status_code == 200
    response = admin_client.post(page(endpoint, "rotate"), {"overlap_hours": "6"})
    endpoint.refresh_from_db()
    assert endpoint.secret != old and endpoint.previous_secret == old
    assert endpoint.previous_secret_expires_at == clock.current + timedelta(hours=6)
    body = response.content.decode()
    assert endpoint.secret in body and old not in body


@pytest.mark.parametrize(("scheme", "hours"), [("standard", 24.0), ("healthie", 0.0)])
def test_the_rotate_page_offers_the_schemes_default_overlap(admin_client, scheme, hours):
    made = endpoints.create(URL, scheme=scheme).endpoint
    form = admin_client.get(page(made, "rotate")).context["form"]
    assert form["overlap_hours"].value() == hours


def test_rotate_refuses_an_overlap_over_a_week(admin_client, endpoint):
    old = endpoint.secret
    response = admin_client.post(page(endpoint, "rotate"), {"overlap_hours": "500"})
    assert response.status_code == 200 and response.context["form"].errors
    endpoint.refresh_from_db()
    assert endpoint.secret == old


@pytest.mark.parametrize(
    ("answer", "words"),
    [(Answer(200, 8), "200 in 8 ms: delivered"), (Answer(503, 9, "HTTP 503"), "not delivered")],
)
def test_send_a_test_event(admin_client, endpoint, monkeypatch, answer, words):
    monkeypatch.setattr(delivery, "send_test", lambda e: answer)
    assert admin_client.get(page(endpoint, "test")).status_code == 200
    response = admin_client.post(page(endpoint, "test"), follow=True)
    assert words in response.content.decode()


@pytest.fixture
def failed(clock, enrollment, endpoint) -> WebhookDelivery:
    event = AccessEvent.objects.create(
        enrollment=enrollment,
        event_type=AccessEvent.EventType.UPDATED,
        action="extend",
        occurred_at=clock.current,
        fanned_out=True,
    )
    row = WebhookDelivery.objects.create(
        endpoint=endpoint,
        event=event,
        state=WebhookDelivery.State.FAILED,
        attempts=2,
        created_at=clock.current,
        next_attempt_at=clock.current,
        last_status=500,
    )
    WebhookAttempt.objects.create(
        delivery=row, attempted_at=clock.current, status=500, latency_ms=41, error="HTTP 500"
    )
    WebhookAttempt.objects.create(
        delivery=row, attempted_at=clock.current, status=None, latency_ms=5003, error="timed out"
    )
    return row


def test_the_delivery_log_shows_each_attempt(admin_client, failed, django_assert_max_num_queries):
    with django_assert_max_num_queries(9):  # course roles: admin/scoping.py
        response = admin_client.get(page(failed.endpoint, "deliveries"))
    body = response.content.decode()
    assert "failed for good" in body and "course_membership.updated (extend)" in body
    assert "status 500, 41 ms, error: HTTP 500" in body
    assert "status no answer, 5003 ms, error: timed out" in body


def test_resend_from_the_log(admin_client, failed):
    response = admin_client.post(page(failed.endpoint, "resend", failed.pk), follow=True)
    assert f"Delivery {failed.pk} queued again." in response.content.decode()
    failed.refresh_from_db()
    assert failed.state == WebhookDelivery.State.PENDING and failed.attempts == 0


def test_resend_of_a_delivery_being_sent_says_it_is_left_to_that_send(admin_client, failed, clock):
    """A job holds it (sending, its lease running): Resend leaves it, and says so rather than
    "queued again"."""
    lease = clock.current + timedelta(minutes=5)
    WebhookDelivery.objects.filter(pk=failed.pk).update(
        state=WebhookDelivery.State.SENDING, next_attempt_at=lease
    )
    response = admin_client.post(page(failed.endpoint, "resend", failed.pk), follow=True)
    assert f"Delivery {failed.pk} is being sent now: left to that send" in response.content.decode()
    failed.refresh_from_db()
    assert (failed.state, failed.next_attempt_at) == (WebhookDelivery.State.SENDING, lease)


def test_resend_to_a_disabled_endpoint_says_why(admin_client, failed):
    endpoints.set_enabled(failed.endpoint_id, False)
    response = admin_client.post(page(failed.endpoint, "resend", failed.pk), follow=True)
    assert endpoints.WebhookDisabled.message in response.content.decode()


def test_resend_of_another_endpoints_delivery_is_not_found(admin_client, failed):
    other = endpoints.create(URL + "/other").endpoint
    response = admin_client.post(page(other, "resend", failed.pk), follow=True)
    assert "Webhook delivery not found" in response.content.decode()
    failed.refresh_from_db()
    assert failed.state == WebhookDelivery.State.FAILED


def test_replay_since_a_date_time(admin_client, failed, clock):
    since = (clock.current - timedelta(hours=1)).strftime("%Y-%m-%d %H:%M")
    response = admin_client.post(page(failed.endpoint, "replay"), {"since": since}, follow=True)
    assert "Queued 1 deliveries" in response.content.decode()
    failed.refresh_from_db()
    assert failed.state == WebhookDelivery.State.PENDING


def test_replay_since_is_read_in_the_staff_members_zone(failed, clock):
    """An hour and a half ago as a wall time in Tokyo replays the hour-old event; read as UTC,
    the same wall time would lie 7.5 hours ahead and replay nothing."""
    client = logged_in(grant(StaffFactory(time_zone="Asia/Tokyo"), "manage_webhooks"))
    since = (clock.current - timedelta(minutes=90)).astimezone(ZoneInfo("Asia/Tokyo"))
    response = client.post(
        page(failed.endpoint, "replay"), {"since": since.strftime("%Y-%m-%d %H:%M")}, follow=True
    )
    assert "Queued 1 deliveries" in response.content.decode()


def test_a_replay_since_no_storable_instant_is_a_form_error(failed):
    """9999-12-31 23:00 in New York is in year 10000 in UTC: it was a server error."""
    client = logged_in(grant(StaffFactory(time_zone="America/New_York"), "manage_webhooks"))
    response = client.post(page(failed.endpoint, "replay"), {"since": "9999-12-31 23:00"})
    assert response.status_code == 200
    assert "outside the range of dates that can be stored" in response.content.decode()
    failed.refresh_from_db()
    assert failed.state == WebhookDelivery.State.FAILED


def test_delete_goes_through_the_core(admin_client, failed):
    endpoint = failed.endpoint
    response = admin_client.post(page(endpoint, "delete"), {"post": "yes"})
    assert response.status_code == 302
    assert not WebhookEndpoint.objects.exists() and not WebhookDelivery.objects.exists()


def test_the_delete_page_counts_the_deliveries_instead_of_listing_them(
    admin_client, failed, django_assert_max_num_queries
):
    """Django's default page lists every related delivery and attempt (one object each):
    unbounded for an endpoint with a long log. Here they are counted."""
    endpoint = failed.endpoint
    with django_assert_max_num_queries(9):  # course roles: admin/scoping.py
        response = admin_client.get(page(endpoint, "delete"))
    assert response.status_code == 200
    assert dict(response.context["model_count"]) == {
        "webhook endpoints": 1,
        "webhook deliveries": 1,
    }
    assert WebhookEndpoint.objects.exists()  # a GET deletes nothing


def test_an_unknown_endpoint_leads_back_to_the_list(admin_client):
    response = admin_client.get(LIST + "424242/deliveries/", follow=True)
    assert "Webhook not found" in response.content.decode()


@pytest.mark.parametrize("name", ["changelist", "add", "change", "rotate", "test", "deliveries"])
def test_staff_without_the_permission_get_403(endpoint, name):
    client = logged_in(grant(StaffFactory(), "view_enrollment", "change_enrollment"))
    url = (
        reverse(f"admin:enrollments_webhookendpoint_{name}")
        if name in ("changelist", "add")
        else page(endpoint, name)
    )
    assert client.get(url).status_code == 403
    assert client.post(page(endpoint, "rotate"), {"overlap_hours": "1"}).status_code == 403
    endpoint.refresh_from_db()
    assert endpoint.previous_secret == ""


@pytest.mark.parametrize("rows", [1, 20])
def test_the_endpoint_list_query_count_does_not_grow_with_its_rows(
    admin_client, rows, django_assert_num_queries
):
    """Session, user, permissions (user and group), their course roles (read once: they do
    not see enrollments globally, admin/scoping.py), the count, the filter's total and the page
    of endpoints: the same for 1 endpoint and for 20."""
    for number in range(rows):
        endpoints.create(URL, description=f"CRM {number}")
    with django_assert_num_queries(8):
        page = admin_client.get(reverse("admin:enrollments_webhookendpoint_changelist"))
    assert len(page.context["cl"].result_list) == rows


@pytest.mark.parametrize("rows", [1, 20])
def test_the_delivery_log_query_count_does_not_grow_with_its_rows(
    admin_client, clock, enrollment, endpoint, rows, django_assert_num_queries
):
    """Session, user, permissions (user and group), their course roles (read once: they do
    not see enrollments globally, admin/scoping.py), the endpoint, the page of deliveries with
    their events, their tries and the total: the same for 1 delivery and for 20."""
    for _ in range(rows):
        event = AccessEvent.objects.create(
            enrollment=enrollment,
            event_type=AccessEvent.EventType.UPDATED,
            action="extend",
            occurred_at=clock.current,
            fanned_out=True,
        )
        row = WebhookDelivery.objects.create(
            endpoint=endpoint,
            event=event,
            state=WebhookDelivery.State.FAILED,
            attempts=1,
            created_at=clock.current,
            next_attempt_at=clock.current,
            last_status=500,
        )
        WebhookAttempt.objects.create(
            delivery=row, attempted_at=clock.current, status=500, latency_ms=41, error="HTTP 500"
        )
    with django_assert_num_queries(9):
        response = admin_client.get(page(endpoint, "deliveries"))
    assert len(response.context["rows"]) == rows
    assert response.content.decode().count("status 500, 41 ms, error: HTTP 500") == rows
