"""Probes for load balancers and orchestrators: /healthz (liveness) and /readyz (readiness).

- `/healthz` answers 200 as long as the process can serve a request. It touches neither the
  database nor the cache, so a database outage does not get every app server restarted.
- `/readyz` answers "can this server serve requests?". It fails (503) on the database only:
  without it no request can be answered. The cache (Redis) is checked too, but a cache that
  does not answer is reported as *degraded* with 200: every request still works without it (the
  rate limiter fails open by design, apikeys.ratelimit), and all app servers share one Redis, so
  a 503 for it would take every server out of the load balancer at once over a part the service
  can do without (docs/deploy.md, "Health probes"). Each check is bounded by a short timeout
  (DATABASE_CONNECT_TIMEOUT, the Redis socket timeouts: see config/settings.py).

Both are plain GET views without authentication, sessions or rate limit (the rate limit belongs
to the GraphQL endpoint), exempt from the HTTPS redirect (SECURE_REDIRECT_EXEMPT): a probe talks
to the app server directly over HTTP. The body is JSON; a part that fails is named by its
error's class only (no host names, no messages that could carry credentials).
"""

import contextlib
import uuid

from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

_CACHE_PROBE_KEY = "readyz-probe"


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _check_cache() -> None:
    token = uuid.uuid4().hex
    cache.set(_CACHE_PROBE_KEY, token, timeout=10)
    if cache.get(_CACHE_PROBE_KEY) is None:
        raise RuntimeError("the cache did not keep a value")


CHECKS = {"database": _check_database, "cache": _check_cache}

#: The parts without which no request can be served: one failing makes /readyz answer 503.
#: Every other check that fails only reports the server as degraded (200).
REQUIRED = frozenset({"database"})


def _run(name: str) -> str | None:
    """None when the part answers, else the error's class name."""
    try:
        CHECKS[name]()
    except Exception as error:  # noqa: BLE001 - any failure means "this part does not answer"
        if name == "database":
            # A broken persistent connection must not be reused by the next probe.
            with contextlib.suppress(Exception):  # closing a dead connection may fail too
                connection.close()
        return type(error).__name__
    return None


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@never_cache
@require_safe
def readyz(request: HttpRequest) -> JsonResponse:
    """200 `ok`; 200 `degraded` with the optional parts that fail in `degraded`; 503
    `unavailable` with the required parts that fail in `failing` (and `degraded` as well)."""
    errors = {name: _run(name) for name in CHECKS}
    down = [name for name, error in errors.items() if error is not None]
    failing = [name for name in down if name in REQUIRED]
    degraded = [name for name in down if name not in REQUIRED]
    body: dict = {
        "status": "unavailable" if failing else "degraded" if degraded else "ok",
        "checks": {name: error or "ok" for name, error in errors.items()},
    }
    if failing:
        body["failing"] = failing
    if degraded:
        body["degraded"] = degraded
    return JsonResponse(body, status=503 if failing else 200)
