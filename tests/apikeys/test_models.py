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
