"""Helpers for the API tests: post a document the way a client does, as a chosen user."""

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from apikeys.models import APIKey
from tests.factories import StaffFactory, UserFactory

PERMS = {
    "view": "view_enrollment",
    "extend": "extend_access",
    "pause": "pause_enrollment",
    "remove": "remove_from_course",
    "enroll": "enroll_learners",
}


def grant(user, *perms: str) -> None:
    """Gives `user` the named enrollments permissions (keys of PERMS)."""
    for perm in perms:
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label="enrollments", codename=PERMS[perm])
        )


class Api:
    """Posts GraphQL documents to /graphql/ and returns the decoded JSON body."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.last_response = None

    def post(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        key: str | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"query": query}
        if variables is not None:
            body["variables"] = variables
        if key is not None:
            extra["HTTP_AUTHORIZATION"] = f"Bearer {key}"
        response = self.client.post(
            "/graphql/", json.dumps(body), content_type="application/json", **extra
        )
        self.last_response = response
        return response.json()


@pytest.fixture
def api(client) -> Api:
    return Api(client)


@pytest.fixture
def make_key(db) -> Callable[..., str]:
    """Creates an API key for a user and returns the raw key."""

    def make(user, **kwargs) -> str:
        _api_key, raw_key = APIKey.objects.create_key(user=user, **kwargs)
        return raw_key

    return make


@pytest.fixture
def viewer(db):
    """Staff with enrollments.view_enrollment."""
    user = StaffFactory()
    grant(user, "view")
    return user


@pytest.fixture
def manager(db):
    """Staff who may view, extend, pause and resume."""
    user = StaffFactory()
    grant(user, "view", "extend", "pause")
    return user


@pytest.fixture
def student(db):
    return UserFactory()


def error_codes(body: dict[str, Any]) -> list[str]:
    return [error.get("extensions", {}).get("code") for error in body.get("errors", [])]


@pytest.fixture
def without_object_weight(settings):
    """Prices without COST_OBJECT_VALUES (enrollments.graphql.cost): for tests of how lists
    multiply, of variables, directives, aliases and reads, whose arithmetic is in values, and
    of query counts with documents the object weight would refuse (it has its own test)."""
    settings.GRAPHQL_LIMITS = {**settings.GRAPHQL_LIMITS, "COST_OBJECT_VALUES": 0}
