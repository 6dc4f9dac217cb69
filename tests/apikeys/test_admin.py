"""The API key admin: list with last use, create (the key shown once), revoke."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from apikeys.auth import InvalidAPIKey, authenticate_key
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
        reverse("admin:apikeys_apikey_add"), {"user": str(owner.pk), "name": "etl"}
    )
    # The answer to the POST is the page with the key: no redirect to carry it over.
    assert response.status_code == 200
    assert response.templates[0].name == "admin/apikeys/apikey/created.html"
    content = response.content.decode()
    raw_key = re.search(r'id="new-api-key"[^>]*value="([^"]+)"', content, re.S).group(1)
    assert content.count(raw_key) == 1
    assert "Copy it now: it is not stored and will not be shown again." in content
    api_key = authenticate_key(raw_key)
    assert (api_key.user, api_key.name) == (owner, "etl")
    # Never again: the change page does not show it (nor its hash).
    change = admin_client.get(reverse("admin:apikeys_apikey_change", args=[api_key.pk]))
    assert raw_key not in change.content.decode()
    assert api_key.hashed_key not in change.content.decode()
    assert APIKey.objects.count() == 1


def test_the_new_key_is_never_in_a_cookie_the_session_or_a_cache(admin_client):
    """It used to travel in the signed (readable) `messages` cookie."""
    response = admin_client.post(
        reverse("admin:apikeys_apikey_add"), {"user": str(UserFactory().pk), "name": "etl"}
    )
    content = response.content.decode()
    raw_key = re.search(r'id="new-api-key"[^>]*value="([^"]+)"', content, re.S).group(1)
    secret = raw_key.split(".", 1)[1]
    headers = "\n".join(f"{name}: {value}" for name, value in response.headers.items())
    assert secret not in headers
    assert all(secret not in morsel.OutputString() for morsel in response.cookies.values())
    assert not [m for m in get_messages(response.wsgi_request) if secret in str(m)]
    session = admin_client.session
    assert all(secret not in str(value) for value in session.values())
    assert "no-store" in response.headers["Cache-Control"]
    # Nothing shows it on the next pages either (a message would be shown there).
    for url in (reverse("admin:apikeys_apikey_changelist"), reverse("admin:index")):
        assert secret not in admin_client.get(url).content.decode()


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
    assert response.status_code == 200
    assert response.templates[0].name == "admin/apikeys/apikey/created.html"
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


def change(admin_client, api_key, *, name="renamed", expires_at="keep"):
    """Posts the key's change page with `expires_at` (an aware datetime, None to clear it,
    "keep" for the stored value)."""
    if expires_at == "keep":
        expires_at = api_key.expires_at
    data = {"name": name, "expires_at_0": "", "expires_at_1": "", "_save": "Save"}
    if expires_at is not None:
        data |= {"expires_at_0": f"{expires_at:%Y-%m-%d}", "expires_at_1": f"{expires_at:%H:%M:%S}"}
    return admin_client.post(reverse("admin:apikeys_apikey_change", args=[api_key.pk]), data)


def expired_key(user) -> tuple[APIKey, str]:
    api_key, raw_key = APIKey.objects.create_key(user=user, name="old")
    past = (timezone.now() - timedelta(days=1)).replace(microsecond=123456)
    APIKey.objects.filter(pk=api_key.pk).update(expires_at=past)
    api_key.refresh_from_db()
    return api_key, raw_key


@pytest.mark.parametrize(
    "new_expiry", [None, timedelta(days=30)], ids=["cleared", "moved to the future"]
)
def test_an_expired_keys_expiry_cannot_change_on_its_page(admin_client, user, new_expiry):
    """Clearing it (or moving it) made an expired key work again."""
    api_key, raw_key = expired_key(user)
    expiry = None if new_expiry is None else timezone.now() + new_expiry
    response = change(admin_client, api_key, expires_at=expiry)
    assert response.status_code == 200
    assert "This key is expired: its expiry cannot change. Create a new key." in (
        response.content.decode()
    )
    stored = APIKey.objects.get(pk=api_key.pk)
    assert (stored.name, stored.expires_at) == ("old", api_key.expires_at)
    with pytest.raises(InvalidAPIKey):
        authenticate_key(raw_key)


def test_a_revoked_keys_expiry_cannot_change_on_its_page(admin_client, user):
    api_key, _ = APIKey.objects.create_key(user=user)
    api_key.revoke()
    response = change(admin_client, api_key, expires_at=timezone.now() + timedelta(days=3))
    assert "This key is revoked: its expiry cannot change." in response.content.decode()
    assert APIKey.objects.get(pk=api_key.pk).expires_at is None


def test_an_expired_key_can_still_be_renamed(admin_client, user):
    api_key, raw_key = expired_key(user)
    response = change(admin_client, api_key, name="retired")
    assert response.status_code == 302
    stored = APIKey.objects.get(pk=api_key.pk)
    assert (stored.name, stored.expires_at) == ("retired", api_key.expires_at)
    assert stored.expires_at.microsecond  # the stored value kept, not the widget's seconds
    with pytest.raises(InvalidAPIKey):
        authenticate_key(raw_key)


@pytest.mark.parametrize(
    ("expiry", "error"),
    [
        (datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC), "at most 3650 days ahead"),
        (timedelta(days=3651), "at most 3650 days ahead"),
        (timedelta(hours=-1), "The expiry must be in the future."),
    ],
)
def test_the_change_page_applies_the_add_forms_expiry_rules(admin_client, user, expiry, error):
    api_key, raw_key = APIKey.objects.create_key(user=user, name="etl")
    if isinstance(expiry, timedelta):
        expiry = timezone.now() + expiry
    response = change(admin_client, api_key, expires_at=expiry)
    assert response.status_code == 200
    assert error in response.content.decode()
    stored = APIKey.objects.get(pk=api_key.pk)
    assert (stored.name, stored.expires_at) == ("etl", None)
    assert authenticate_key(raw_key) == api_key


@pytest.mark.parametrize("expiry", [timedelta(days=7), timedelta(days=3649), None])
def test_an_active_keys_expiry_can_move_within_the_rules(admin_client, user, expiry):
    api_key, _ = APIKey.objects.create_key(user=user, expires_at=timezone.now() + timedelta(1))
    expiry = None if expiry is None else (timezone.now() + expiry).replace(microsecond=0)
    response = change(admin_client, api_key, expires_at=expiry)
    assert response.status_code == 302
    assert APIKey.objects.get(pk=api_key.pk).expires_at == expiry
