"""The admin judges an endpoint's URL by endpoints.checked_url alone, as the API and the command
do (docs/api.md, "Webhooks management": the same code, the same messages). The ModelForm's model
validation ran the model's URLField validator too: a URL that createWebhook and `manage.py
webhooks create` accept (a host name with an underscore, resolving to a public address) was
refused by the add page ("Enter a valid URL."), and an endpoint made through the API with it
could not be saved on its change page at all."""

import socket

import pytest
from django.urls import reverse

from enrollments.events import endpoints
from enrollments.models import WebhookEndpoint
from tests.admin.conftest import grant, logged_in
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db

URL = "https://hooks_in.crm.example/course-access"
PUBLIC = "93.184.216.34"
ADD = "/admin/enrollments/webhookendpoint/add/"


@pytest.fixture(autouse=True)
def public_dns(monkeypatch, settings):
    settings.WEBHOOKS = {**settings.WEBHOOKS, "ALLOW_PRIVATE_TARGETS": False}

    def resolve(host, port, *args, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (PUBLIC, port))]

    monkeypatch.setattr("enrollments.events.targets.socket.getaddrinfo", resolve)


@pytest.fixture
def admin_client(db):
    return logged_in(grant(StaffFactory(), "manage_webhooks"))


def form(**changes):
    return {
        "url": URL,
        "scheme": "standard",
        "is_enabled": "on",
        "should_retry": "on",
        "owner_email": "ops@example.com",
        "description": "CRM",
        **changes,
    }


def refusals(response) -> dict:
    return dict(response.context["adminform"].form.errors) if response.status_code == 200 else {}


def test_an_endpoint_made_through_the_api_can_be_changed_in_the_admin(admin_client):
    made = endpoints.create(URL, description="CRM").endpoint  # what createWebhook does
    assert endpoints.update(made.pk, description="CRM (API)").description == "CRM (API)"
    change = reverse("admin:enrollments_webhookendpoint_change", args=[made.pk])
    assert f'value="{URL}"' in admin_client.get(change).content.decode()  # shown to change

    response = admin_client.post(change, form(description="CRM (admin)"))
    assert response.status_code == 302, f"the admin refused it: {refusals(response)}"
    saved = WebhookEndpoint.objects.get()
    assert (saved.url, saved.description) == (URL, "CRM (admin)")


def test_the_admin_accepts_the_url_the_api_accepts(admin_client):
    assert endpoints.checked_url(URL) == URL
    response = admin_client.post(ADD, form())
    assert WebhookEndpoint.objects.count() == 1, refusals(response)
    assert WebhookEndpoint.objects.get().url == URL


def test_the_admin_still_refuses_what_the_api_refuses_with_its_message(admin_client):
    response = admin_client.post(ADD, form(url="https://hooks.example.com:99999/in"))
    assert not WebhookEndpoint.objects.exists()
    assert "not valid" in " ".join(refusals(response)["url"])
