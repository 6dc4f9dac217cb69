"""API keys are stored hashed, compared in constant time, revocable and optionally expiring."""

import hashlib
from datetime import timedelta

import pytest
from django.utils import timezone

from apikeys.models import MAX_VALIDITY, PREFIX_LENGTH, APIKey, InvalidKeyRequest
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_only_the_hash_of_the_key_is_stored(user):
    api_key, raw_key = APIKey.objects.create_key(user=user, name="ci")
    stored = APIKey.objects.get(pk=api_key.pk)
    assert stored.hashed_key == hashlib.sha256(raw_key.encode()).hexdigest()
    assert raw_key not in {stored.hashed_key, stored.prefix, stored.name}
    assert raw_key.startswith(f"{stored.prefix}.")
    assert len(stored.prefix) == PREFIX_LENGTH
    assert len(raw_key) > 40


def test_keys_are_unique_and_match_only_themselves(user):
    first, first_raw = APIKey.objects.create_key(user=user)
    second, second_raw = APIKey.objects.create_key(user=user)
    assert first_raw != second_raw
    assert first.prefix != second.prefix
    assert first.matches(first_raw)
    assert not first.matches(second_raw)
    assert not first.matches(first_raw + "x")


def test_revoke_is_idempotent_and_keeps_the_first_instant(user):
    api_key, _ = APIKey.objects.create_key(user=user)
    assert api_key.status == "active"
    assert api_key.revoke() is True
    first_revocation = APIKey.objects.get(pk=api_key.pk).revoked_at
    assert first_revocation is not None
    assert APIKey.objects.get(pk=api_key.pk).revoke() is False
    assert APIKey.objects.get(pk=api_key.pk).revoked_at == first_revocation
    assert APIKey.objects.get(pk=api_key.pk).status == "revoked"


def test_usable_keys_and_their_status(user):
    now = timezone.now()
    usable, _ = APIKey.objects.create_key(user=user)
    future, _ = APIKey.objects.create_key(user=user, expires_at=now + timedelta(days=1))
    expired, _ = APIKey.objects.create_key(user=user, expires_at=now + timedelta(seconds=1))
    revoked, _ = APIKey.objects.create_key(user=user)
    revoked.revoke()
    inactive_user = UserFactory()
    of_inactive, _ = APIKey.objects.create_key(user=inactive_user)
    inactive_user.is_active = False
    inactive_user.save()
    later = now + timedelta(seconds=2)

    keys = (usable, future, expired, APIKey.objects.get(pk=revoked.pk), of_inactive)
    assert [k.is_usable(at=later) for k in keys] == [True, True, False, False, False]
    assert [k.status_at(later) for k in keys] == [
        "active",
        "active",
        "expired",
        "revoked",
        "user inactive",
    ]
    # The admin's column: a key of an inactive user is not shown as active.
    assert APIKey.objects.get(pk=of_inactive.pk).status == "user inactive"
    assert str(usable).startswith("API key (")


def test_revoking_a_queryset_keeps_earlier_revocations(user):
    first, _ = APIKey.objects.create_key(user=user)
    second, _ = APIKey.objects.create_key(user=user)
    earlier = timezone.now() - timedelta(days=1)
    first.revoke(at=earlier)
    assert APIKey.objects.all().revoke() == 1
    assert APIKey.objects.get(pk=first.pk).revoked_at == earlier
    assert APIKey.objects.get(pk=second.pk).revoked_at > earlier


@pytest.mark.parametrize(
    ("active", "expires_in", "field"),
    [
        (False, None, "user"),
        (True, timedelta(seconds=-1), "expires_at"),
        (True, timedelta(0), "expires_at"),
        (True, MAX_VALIDITY + timedelta(minutes=1), "expires_at"),
    ],
)
def test_keys_that_could_not_work_are_not_created(active, expires_in, field):
    user = UserFactory(is_active=active)
    expires_at = None if expires_in is None else timezone.now() + expires_in
    with pytest.raises(InvalidKeyRequest) as refused:
        APIKey.objects.create_key(user=user, expires_at=expires_at)
    assert refused.value.field == field
    assert not APIKey.objects.exists()


def test_the_longest_validity_is_accepted(user):
    api_key, _ = APIKey.objects.create_key(
        user=user, expires_at=timezone.now() + MAX_VALIDITY - timedelta(seconds=1)
    )
    assert api_key.is_usable()


class TestUpdateKey:
    """update_key: the one way to change an existing key's expiry (the admin's change page)."""

    def test_a_new_expiry_follows_the_creation_rules(self, user):
        api_key, _ = APIKey.objects.create_key(user=user)
        for expires_at, message in [
            (timezone.now() - timedelta(seconds=1), "The expiry must be in the future."),
            (timezone.now() + MAX_VALIDITY + timedelta(seconds=5), "at most 3650 days ahead"),
        ]:
            with pytest.raises(InvalidKeyRequest, match=message) as refused:
                APIKey.objects.update_key(api_key, name="x", expires_at=expires_at)
            assert refused.value.field == "expires_at"
        assert APIKey.objects.get(pk=api_key.pk).expires_at is None
        later = timezone.now() + timedelta(days=3)
        assert APIKey.objects.update_key(api_key, name="x", expires_at=later).expires_at == later
        assert APIKey.objects.update_key(api_key, name="x", expires_at=None).expires_at is None

    @pytest.mark.parametrize("status", ["expired", "revoked"])
    def test_an_expired_or_revoked_key_keeps_its_expiry(self, user, status):
        api_key, raw_key = APIKey.objects.create_key(
            user=user, expires_at=timezone.now() + timedelta(days=2)
        )
        if status == "expired":
            past = timezone.now() - timedelta(minutes=1)
            APIKey.objects.filter(pk=api_key.pk).update(expires_at=past)
        else:
            api_key.revoke()
        stored = APIKey.objects.get(pk=api_key.pk)
        for expires_at in (None, timezone.now() + timedelta(days=1)):
            with pytest.raises(InvalidKeyRequest, match=f"This key is {status}"):
                APIKey.objects.update_key(api_key, name="n", expires_at=expires_at)
        # The same expiry is no change: renaming works.
        renamed = APIKey.objects.update_key(api_key, name="n", expires_at=stored.expires_at)
        assert (renamed.name, renamed.expires_at) == ("n", stored.expires_at)
        assert not renamed.is_usable()

    def test_checks_the_stored_row_not_a_stale_copy(self, user):
        """A copy loaded before the key expired (or was revoked, or used) cannot revive it or
        overwrite the other fields."""
        api_key, _ = APIKey.objects.create_key(user=user)
        used = timezone.now() - timedelta(minutes=5)
        APIKey.objects.filter(pk=api_key.pk).update(last_used_at=used)
        api_key.revoke()
        stale = APIKey.objects.get(pk=api_key.pk)
        stale.revoked_at = None  # as a form loaded before the revocation would have it
        with pytest.raises(InvalidKeyRequest, match="This key is revoked"):
            APIKey.objects.update_key(stale, name="n", expires_at=timezone.now() + MAX_VALIDITY)
        renamed = APIKey.objects.update_key(stale, name="n", expires_at=None)
        stored = APIKey.objects.get(pk=api_key.pk)
        assert (stored.name, stored.last_used_at) == ("n", used)
        assert stored.revoked_at is not None and renamed.revoked_at == stored.revoked_at
