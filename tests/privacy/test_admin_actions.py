"""The user admin's learner-data actions (enrollments/admin/privacy.py): "Export learner data"
downloads the document; "Erase learner…" shows its preview, and only its Confirm (POST, CSRF)
erases; both refused without their permission; the erasures' records, read-only."""

import json

import jsonschema_rs
import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from enrollments.admin.privacy import LearnerDataActions
from enrollments.models import Erasure
from enrollments.permissions import EXPORT_LEARNER_DATA, Permission
from lms.admin import UserAdmin
from lms.models import User
from tests.factories import StaffFactory, UserFactory
from tests.privacy.helpers import EMAIL, NAMES, SCHEMA, grant, naming

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:lms_user_changelist"
VIEW_USER = Permission("view_user", "", app_label="lms")


def client_of(user: User, **options) -> Client:
    client = Client(**options)
    client.force_login(user)
    return client


def post_action(client: Client, action: str, *users: User, follow: bool = False, **extra):
    """Submits the user list's action form for `users`, as its "Go" button does."""
    data = {"action": action, "index": "0", "_selected_action": [str(u.pk) for u in users]}
    return client.post(reverse(CHANGELIST), {**data, **extra}, follow=follow)


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


@pytest.fixture
def staff(history):
    return grant(history.staff, VIEW_USER)


@pytest.fixture
def bare(db):
    """Staff who may see users, without the learner-data permissions."""
    return grant(StaffFactory(), VIEW_USER)


def test_the_user_admin_carries_the_actions():
    # The wiring in lms/admin.py: UserAdmin(LearnerDataActions, ...).
    assert issubclass(UserAdmin, LearnerDataActions)


def test_the_actions_are_offered_to_holders_only(staff, bare):
    def offered(user) -> set[str]:
        form = client_of(user).get(reverse(CHANGELIST)).context["action_form"]
        return {name for name, _label in form.fields["action"].choices} if form else set()

    assert {"export_learner_data", "erase_learner"} <= offered(staff)
    assert {"export_learner_data", "erase_learner"}.isdisjoint(offered(bare))
    exporter = grant(StaffFactory(), VIEW_USER, EXPORT_LEARNER_DATA)
    assert "export_learner_data" in offered(exporter) and "erase_learner" not in offered(exporter)


def test_export_downloads_the_document(staff, history):
    response = post_action(client_of(staff), "export_learner_data", history.learner)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="learner-{history.learner.pk}.json"'
    )
    assert "no-store" in response["Cache-Control"]
    document = json.loads(response.content)
    validator = jsonschema_rs.validator_for(json.loads(SCHEMA.read_text()), validate_formats=True)
    assert validator.is_valid(document)
    assert document["learner"]["email"] == EMAIL


def test_export_takes_one_learner(staff, history):
    response = post_action(
        client_of(staff), "export_learner_data", history.learner, history.other, follow=True
    )
    assert response.status_code == 200
    assert "Select exactly one learner to export." in messages_of(response)
    assert "Content-Disposition" not in response


def test_export_is_refused_without_the_permission(bare, history):
    response = post_action(client_of(bare), "export_learner_data", history.learner, follow=True)
    assert response.status_code == 200  # the list again: no action of that name for them
    assert "Content-Disposition" not in response
    assert response["Content-Type"].startswith("text/html")


def test_erase_shows_the_preview_and_writes_nothing(staff, history):
    response = post_action(client_of(staff), "erase_learner", history.learner)
    assert response.status_code == 200
    assert response.templates[0].name == "admin/enrollments/privacy/erase_learner.html"
    page = response.content.decode()
    assert EMAIL in page and "This cannot be undone." in page
    assert (
        dict(response.context["kept"])[
            "audit rows about them kept (actions, dates, values, actors)"
        ]
        == 6
    )
    assert dict(response.context["erased"])["reasons of the audit rows about them blanked"] == 5
    assert 'name="post" value="yes"' in page and "csrfmiddlewaretoken" in page
    assert f'name="_selected_action" value="{history.learner.pk}"' in page
    assert User.objects.get(pk=history.learner.pk).email == EMAIL
    assert not Erasure.objects.exists()


def test_confirm_erases_and_returns_to_the_list(staff, history):
    client = client_of(staff)
    preview = post_action(client, "erase_learner", history.learner)
    counts = dict(preview.context["erased"]) | dict(preview.context["kept"])
    response = post_action(client, "erase_learner", history.learner, post="yes")
    assert response.status_code == 302
    assert response["Location"] == reverse(CHANGELIST)
    record = Erasure.objects.get()
    assert (record.learner_id, record.actor_id, record.source) == (
        history.learner.pk,
        staff.pk,
        "admin",
    )
    assert sum(counts.values()) == sum(record.counts.values())
    assert naming(*NAMES) == []
    listed = client.get(response["Location"])
    [message] = messages_of(listed)
    assert message.startswith(f"Erased learner {history.learner.pk}: ")
    assert f"Erasure record {record.pk}." in message and EMAIL not in message


def test_confirm_needs_the_csrf_token(staff, history):
    client = client_of(staff, enforce_csrf_checks=True)
    response = post_action(client, "erase_learner", history.learner, post="yes")
    assert response.status_code == 403
    assert User.objects.get(pk=history.learner.pk).email == EMAIL


def test_a_crafted_confirm_without_the_permission_erases_nothing(bare, history):
    response = post_action(client_of(bare), "erase_learner", history.learner, post="yes")
    assert response.status_code in (200, 302)
    assert User.objects.get(pk=history.learner.pk).email == EMAIL
    assert not Erasure.objects.exists()


def test_a_refusal_is_a_message_and_nothing_else(staff, history):
    client = client_of(staff)
    themselves = post_action(client, "erase_learner", staff, post="yes", follow=True)
    assert "You cannot erase your own account." in messages_of(themselves)
    boss = UserFactory(is_superuser=True)
    over = post_action(client, "erase_learner", boss, follow=True)
    assert any("can do more than you" in m for m in messages_of(over))
    several = post_action(client, "erase_learner", history.learner, history.other, follow=True)
    assert "Select exactly one learner to erase." in messages_of(several)
    assert not Erasure.objects.exists()


def test_the_records_are_listed_read_only(staff, history):
    post_action(client_of(staff), "erase_learner", history.learner, post="yes")
    superuser = StaffFactory(is_superuser=True)
    client = client_of(superuser)
    listing = client.get(reverse("admin:enrollments_erasure_changelist"))
    assert listing.status_code == 200
    page = listing.content.decode()
    assert str(history.learner.pk) in page
    assert "5 of 6 audit reasons blanked, 1 API keys revoked" in page
    assert EMAIL not in page
    assert client.get(reverse("admin:enrollments_erasure_add")).status_code == 403
