"""API keys are stored hashed, compared in constant time, revocable and optionally expiring."""

import hashlib
from datetime import timedelta

import pytest
from django.utils import timezone

from apikeys.models import PREFIX_LENGTH, APIKey
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


def test_usable_keys(user):
    now = timezone.now()
    usable, _ = APIKey.objects.create_key(user=user)
    future, _ = APIKey.objects.create_key(user=user, expires_at=now + timedelta(days=1))
    expired, _ = APIKey.objects.create_key(user=user, expires_at=now - timedelta(seconds=1))
    revoked, _ = APIKey.objects.create_key(user=user)
    revoked.revoke()
    inactive_user = UserFactory(is_active=False)
    of_inactive, _ = APIKey.objects.create_key(user=inactive_user)

    assert set(APIKey.objects.usable()) == {usable, future}
    assert [k.is_usable() for k in (usable, future, expired)] == [True, True, False]
    assert not APIKey.objects.get(pk=revoked.pk).is_usable()
    assert not of_inactive.is_usable()
    assert expired.status == "expired"
    assert str(usable).startswith("API key (")
