"""Settings of the benchmark's processes: the app's own settings, plus the baseline view's URL.

The benchmark sets DATABASE_URL (its own database), DEBUG=false and a SECRET_KEY in the
environment before Django reads this module; see bench.environment.
"""

from config.settings import *  # noqa: F403

# The baseline view is mounted only here, never in the app's URLconf.
ROOT_URLCONF = "bench.urls"

# Plain HTTP on 127.0.0.1: no TLS redirect (settings enable it when DEBUG is off).
SECURE_SSL_REDIRECT = False
SECURE_HSTS_SECONDS = 0

# One API key drives the whole benchmark, up to some 3,000 queries a minute under load: far past
# the per-key rate limit that protects the service from one runaway client. The benchmark
# measures capacity, so the budget is raised out of reach; the counting stays in every request's
# path (and in the figures).
RATE_LIMIT = {**RATE_LIMIT, "QUERIES": 10**9, "MUTATIONS": 10**9}  # noqa: F405

# A peer's deep page (OFFSET 900,000 with the progress annotations per skipped row) can take
# minutes on a loaded machine: the database cancels it past this many milliseconds, and the
# benchmark reports the page as "more than" that (bench.peers.common.bounded).
BENCH_PEER_STATEMENT_TIMEOUT_MS = 150_000
