"""Bearer authentication: the key's user, or InvalidAPIKey; the last use is recorded, throttled."""

from datetime import timedelta

import pytest
from django.test import RequestFactory
from django.utils import timezone

from apikeys.auth import InvalidAPIKey, authenticate_api_key, authenticate_key
from apikeys.models import APIKey

pytestmark = pytest.mark.django_db


def request_with(header: str | None):
    extra = {"HTTP_AUTHORIZATION": header} if header is not None else {}
    return RequestFactory().post("/graphql/", **extra)


def test_a_bearer_key_authenticates_its_user(user):
    api_key, raw_key = APIKey.objects.create_key(user=user)
    request = request_with(f"Bearer {raw_key}")
    assert authenticate_api_key(request) == api_key
    assert request.user == user
    assert request.api_key == api_key


@pytest.mark.parametrize("header", [None, "", "Token abc", "Digest abc"])
def test_no_key_means_no_answer(header):
    assert authenticate_api_key(request_with(header)) is None


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "nodot",
        "short.key",
        "abcdefgh.",
        "x" * 300,
        "abcdefgh.guessed-secret",
        "abc\x00efgh.secret",
        "abcdefgh.sec\x00ret",
        "abcdéfgh.secret",
        "abcdefgh.secret.more",
        "abcdefgh." + "s" * 191,
    ],
)
def test_wrong_keys_are_refused(user, raw, django_assert_max_num_queries):
    api_key, raw_key = APIKey.objects.create_key(user=user)
    with pytest.raises(InvalidAPIKey):
        authenticate_key(raw)
    with pytest.raises(InvalidAPIKey), django_assert_max_num_queries(0):
        authenticate_key(raw.replace("abcdefgh", api_key.prefix) + "\x00")


def test_right_prefix_wrong_secret_is_refused(user):
    api_key, raw_key = APIKey.objects.create_key(user=user)
    with pytest.raises(InvalidAPIKey):
        authenticate_key(f"{api_key.prefix}.{'A' * 43}")
    assert authenticate_key(raw_key) == api_key


def test_revoked_key_is_refused(user):
    api_key, raw_key = APIKey.objects.create_key(user=user)
    api_key.revoke()
    with pytest.raises(InvalidAPIKey):
        authenticate_api_key(request_with(f"Bearer {raw_key}"))


def test_last_use_is_recorded_at_most_once_a_minute(user, settings):
    api_key, raw_key = APIKey.objects.create_key(user=user)
    assert api_key.last_used_at is None
    authenticate_key(raw_key)
    first_use = APIKey.objects.get(pk=api_key.pk).last_used_at
    assert first_use is not None
    authenticate_key(raw_key)
    assert APIKey.objects.get(pk=api_key.pk).last_used_at == first_use
    # An older last use is refreshed.
    APIKey.objects.filter(pk=api_key.pk).update(last_used_at=first_use - timedelta(minutes=2))
    authenticate_key(raw_key)
    assert APIKey.objects.get(pk=api_key.pk).last_used_at >= first_use
    assert APIKey.objects.get(pk=api_key.pk).last_used_at <= timezone.now()


def test_a_refused_key_records_no_use(user):
    api_key, raw_key = APIKey.objects.create_key(user=user)
    api_key.revoke()
    with pytest.raises(InvalidAPIKey):
        authenticate_key(raw_key)
    assert APIKey.objects.get(pk=api_key.pk).last_used_at is None
