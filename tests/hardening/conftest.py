"""The hardening tests' fixtures: the API tests' ones (tests/graphql/conftest.py), and Redis for
the tests of the rate limit across processes and servers (database 13, a key prefix per test)."""

import os
import uuid

import pytest

from tests.graphql.conftest import api, make_key, manager, student, viewer  # noqa: F401

REDIS_DB = 13
REDIS_URL = f"redis://127.0.0.1:6379/{REDIS_DB}"


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
