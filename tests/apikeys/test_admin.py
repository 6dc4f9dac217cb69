"""The API key admin: list with last use, create (the key shown once), revoke."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from apikeys.auth import authenticate_key
from apikeys.models import APIKey
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, django_user_model):
    superuser = django_user_model.objects.create_superuser("root@example.com", "pass-word-123")
    client.force_login(superuser)
    return client


def test_changelist_shows_keys_and_their_last_use(admin_client, user):
    api_key, raw_key = APIKey.objects.create_key(user=user, name="reporting")
    authenticate_key(raw_key)
    response = admin_client.get(reverse("admin:apikeys_apikey_changelist"))
    assert response.status_code == 200
    content = response.content.decode()
    assert "reporting" in content
    assert api_key.prefix in content
    assert "active" in content
    assert raw_key not in content
    assert api_key.hashed_key not in content


def test_adding_a_key_shows_it_once(admin_client):
    owner = UserFactory()
    response = admin_client.post(
        reverse("admin:apikeys_apikey_add"), {"user": str(owner.pk), "name": "etl"}, follow=True
    )
    assert response.status_code == 200
    messages = [str(m) for m in get_messages(response.wsgi_request)]
    shown = [m for m in messages if "The new API key is" in m]
    assert len(shown) == 1
    raw_key = re.search(r"The new API key is (\S+) ", shown[0]).group(1)
    api_key = authenticate_key(raw_key)
    assert (api_key.user, api_key.name) == (owner, "etl")
    # Never again: the change page does not show it (nor its hash).
    change = admin_client.get(reverse("admin:apikeys_apikey_change", args=[api_key.pk]))
    assert raw_key not in change.content.decode()
    assert api_key.hashed_key not in change.content.decode()
    assert APIKey.objects.count() == 1


def test_revoke_action(admin_client, user):
    keep, keep_raw = APIKey.objects.create_key(user=user, name="keep")
    drop, drop_raw = APIKey.objects.create_key(user=user, name="drop")
    response = admin_client.post(
        reverse("admin:apikeys_apikey_changelist"),
        {"action": "revoke_keys", "_selected_action": [drop.pk]},
        follow=True,
    )
    assert "Revoked 1 API key(s)." in response.content.decode()
    assert APIKey.objects.get(pk=drop.pk).revoked_at is not None
    assert APIKey.objects.get(pk=keep.pk).revoked_at is None
    assert authenticate_key(keep_raw) == keep


def test_staff_who_are_not_superusers_manage_only_their_own_keys(client):
    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="apikeys"),
    )
    boss = UserFactory(is_staff=True, is_superuser=True)
    boss_key, _ = APIKey.objects.create_key(user=boss, name="boss key")
    client.force_login(staff)

    # A key for someone else would let the staff member act as them: refused.
    response = client.post(reverse("admin:apikeys_apikey_add"), {"user": str(boss.pk)})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not APIKey.objects.filter(user=staff).exists()
    assert APIKey.objects.count() == 1

    response = client.post(
        reverse("admin:apikeys_apikey_add"), {"user": str(staff.pk), "name": "mine"}
    )
    assert response.status_code == 302
    assert APIKey.objects.filter(user=staff, name="mine").exists()

    listing = client.get(reverse("admin:apikeys_apikey_changelist")).content.decode()
    assert "mine" in listing
    assert "boss key" not in listing
    client.post(
        reverse("admin:apikeys_apikey_changelist"),
        {"action": "revoke_keys", "_selected_action": [boss_key.pk]},
    )
    assert APIKey.objects.get(pk=boss_key.pk).revoked_at is None


def test_the_status_column_shows_a_key_of_an_inactive_user_as_such(admin_client, user):
    APIKey.objects.create_key(user=user, name="orphan")
    user.is_active = False
    user.save()
    response = admin_client.get(reverse("admin:apikeys_apikey_changelist"))
    assert '<td class="field-status">user inactive</td>' in response.content.decode()


@pytest.mark.parametrize(
    ("active", "expires", "error"),
    [
        (False, None, "is inactive: a key of theirs would not work."),
        (True, timedelta(hours=-1), "The expiry must be in the future."),
        (True, timedelta(days=3651), "The expiry must be at most 3650 days ahead."),
    ],
)
def test_adding_a_key_that_could_not_work_is_refused_on_the_form(
    admin_client, active, expires, error
):
    owner = UserFactory(is_active=active)
    data = {"user": str(owner.pk), "name": "etl", "expires_at_0": "", "expires_at_1": ""}
    if expires is not None:
        at = timezone.now() + expires
        data |= {"expires_at_0": f"{at:%Y-%m-%d}", "expires_at_1": f"{at:%H:%M:%S}"}
    response = admin_client.post(reverse("admin:apikeys_apikey_add"), data)
    assert response.status_code == 200  # the form again, with the error
    assert error in response.content.decode()
    assert not APIKey.objects.exists()
