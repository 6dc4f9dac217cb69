"""The rate limit holds across server processes when the cache is Redis (CACHE_URL=redis://...):
two Django processes spending one key's budget at the same time get, together, exactly the
budget. With the per-process local-memory cache they would get it each, which the last test
shows, so the first one proves the sharing.

Needs Redis on 127.0.0.1:6379 (CI starts it: .ci/run). Elsewhere the tests skip when it is not
reachable, unless CI or REDIS_REQUIRED is set, when they fail. They use Redis database 13 and a
key prefix of their own, and delete their keys afterwards.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.hardening.conftest import REDIS_URL, redis_client
from tests.subprocesses import run_python

ROOT = Path(__file__).resolve().parents[2]
WORKER = "tests.hardening.ratelimit_worker"
BUDGET = 10
EACH = 8  # two processes ask 16 queries of a budget of 10


@pytest.fixture
def environment(tmp_path):
    """A fresh SQLite database shared by the worker processes, and a new key in it."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("RATE_LIMIT_")},
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'ratelimit.sqlite3'}",
        "DEBUG": "true",
        "RATE_LIMIT_QUERIES": str(BUDGET),
        # One window for the whole test, so that it never straddles a window boundary.
        "RATE_LIMIT_WINDOW_SECONDS": "86400",
    }
    setup = run_python("-m", WORKER, "setup", env=env)
    assert setup.returncode == 0, setup.stderr
    return env, setup.stdout.splitlines()[-1]


def spend_in_two_processes(env: dict, raw_key: str) -> list[list[int]]:
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", WORKER, "spend", raw_key, str(EACH)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    results = []
    for worker in workers:
        stdout, stderr = worker.communicate(timeout=120)
        assert worker.returncode == 0, stderr
        results.append(json.loads(stdout.splitlines()[-1]))
    return results


def test_two_processes_share_one_budget_through_redis(environment, redis_prefix):
    env, raw_key = environment
    env = {**env, "CACHE_URL": REDIS_URL, "RATE_LIMIT_KEY_PREFIX": redis_prefix}
    first, second = spend_in_two_processes(env, raw_key)
    statuses = first + second
    assert set(statuses) == {200, 429}
    assert statuses.count(200) == BUDGET
    assert statuses.count(429) == 2 * EACH - BUDGET
    # Each process, once refused, stays refused for the rest of the window.
    for process in (first, second):
        assert process == sorted(process)
    counters = [key.decode() for key in redis_client().scan_iter(match=f"*{redis_prefix}*")]
    assert len(counters) == 1 and ":query:" in counters[0]


def test_with_the_local_memory_cache_each_process_counts_alone(environment):
    """The contrast: why production needs CACHE_URL=redis://... with several processes."""
    env, raw_key = environment
    env = {**env, "CACHE_URL": "locmemcache://"}
    first, second = spend_in_two_processes(env, raw_key)
    assert first == second == [200] * EACH
