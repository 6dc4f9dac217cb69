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


# -- the three header styles (apikeys.auth.presented_key) --------------------------------------


def request_with_headers(**meta):
    return RequestFactory().post("/graphql", **meta)


@pytest.mark.parametrize(
    "meta",
    [
        {"HTTP_AUTHORIZATION": "Bearer {key}"},
        {"HTTP_AUTHORIZATION": "bearer   {key}  "},
        {"HTTP_AUTHORIZATION": "Basic {key}", "HTTP_AUTHORIZATIONSOURCE": "API"},
        {"HTTP_AUTHORIZATION": "Basic {key}"},
        {"HTTP_X_TEACHIFY_API_KEY": "{key}"},
        {"HTTP_X_TEACHIFY_API_KEY": " {key} ", "HTTP_AUTHORIZATION": "Bearer {key}"},
    ],
    ids=["bearer", "bearer-spaces", "healthie", "basic-alone", "teachify", "teachify-and-bearer"],
)
def test_every_style_authenticates_through_the_one_path(user, meta):
    api_key, raw_key = APIKey.objects.create_key(user=user)
    request = request_with_headers(**{k: v.format(key=raw_key) for k, v in meta.items()})
    assert authenticate_api_key(request) == api_key
    assert request.user == user


@pytest.mark.parametrize(
    "meta",
    [
        {"HTTP_AUTHORIZATION": "Basic"},
        {"HTTP_AUTHORIZATION": "Basic dXNlcjpwYXNz"},  # user:pass, not an API key
        {"HTTP_X_TEACHIFY_API_KEY": ""},
        {"HTTP_X_TEACHIFY_API_KEY": "   "},
        {"HTTP_X_TEACHIFY_API_KEY": "abcdefgh.secret\x00"},
    ],
)
def test_a_bad_key_in_any_style_is_refused_before_the_database(meta, django_assert_max_num_queries):
    with pytest.raises(InvalidAPIKey), django_assert_max_num_queries(0):
        authenticate_api_key(request_with_headers(**meta))


def test_two_different_keys_are_refused_even_when_both_are_good(user):
    _first, first = APIKey.objects.create_key(user=user)
    _second, second = APIKey.objects.create_key(user=user)
    request = request_with_headers(
        HTTP_AUTHORIZATION=f"Bearer {first}", HTTP_X_TEACHIFY_API_KEY=second
    )
    with pytest.raises(InvalidAPIKey):
        authenticate_api_key(request)
    assert not hasattr(request, "api_key")


def test_another_scheme_next_to_a_teachify_key_is_the_teachify_key(user):
    api_key, raw_key = APIKey.objects.create_key(user=user)
    request = request_with_headers(
        HTTP_AUTHORIZATION="Digest whatever", HTTP_X_TEACHIFY_API_KEY=raw_key
    )
    assert authenticate_api_key(request) == api_key
