"""The hardening tests' fixtures: the API tests' ones (tests/graphql/conftest.py), a rate limit
counted in a local-memory cache of the test's own, and Redis for the tests of the rate limit
across processes and servers (database 13, a key prefix per test)."""

import os
import uuid
from collections.abc import Mapping
from typing import Any

import pytest
from django.core.cache import caches

from tests.graphql.conftest import api, make_key, manager, student, viewer  # noqa: F401

REDIS_DB = 13
REDIS_URL = f"redis://127.0.0.1:6379/{REDIS_DB}"
#: The cache alias the rate limit counts in under `rate_limit_in_own_cache`.
RATE_LIMIT_CACHE = "ratelimit"


@pytest.fixture
def rate_limit_in_own_cache(settings):
    """A function that sets settings.RATE_LIMIT to the entries given (CACHE left out; keep the
    suite's others with `{**settings.RATE_LIMIT, ...}`) and returns it, counted in a
    local-memory cache of this test's own (alias RATE_LIMIT_CACHE, a fresh location: no counter
    of another test is seen), cleared afterwards."""

    def configure(entries: Mapping[str, Any]) -> dict[str, Any]:
        settings.CACHES = {
            **settings.CACHES,
            RATE_LIMIT_CACHE: {
                "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                "LOCATION": f"ratelimit-test-{uuid.uuid4()}",
            },
        }
        settings.RATE_LIMIT = {**entries, "CACHE": RATE_LIMIT_CACHE}
        return settings.RATE_LIMIT

    yield configure
    caches[RATE_LIMIT_CACHE].clear()


def redis_client():
    """A client of the tests' Redis database; skips (fails in CI) when Redis is not reachable."""
    import redis

    client = redis.Redis(host="127.0.0.1", port=6379, db=REDIS_DB, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError as error:
        if os.environ.get("CI") or os.environ.get("REDIS_REQUIRED"):
            pytest.fail(f"Redis on 127.0.0.1:6379 is required here and not reachable: {error}")
        pytest.skip(f"Redis is not reachable on 127.0.0.1:6379 ({error}); CI runs this test")
    return client


@pytest.fixture
def redis_prefix():
    """A key prefix of this test's own; its keys are deleted afterwards."""
    client = redis_client()
    prefix = f"ratelimit-test-{uuid.uuid4().hex}"
    yield prefix
    for key in client.scan_iter(match=f"*{prefix}*"):
        client.delete(key)
    client.close()
