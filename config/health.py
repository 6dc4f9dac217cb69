"""Probes for load balancers and orchestrators: /healthz (liveness) and /readyz (readiness).

- `/healthz` answers 200 as long as the process can serve a request. It touches neither the
  database nor the cache, so a database outage does not get every app server restarted.
- `/readyz` answers 200 when the database and the cache both answer, each within a short time
  (DATABASE_CONNECT_TIMEOUT, the Redis socket timeouts: see config/settings.py), and 503 naming
  the part that failed otherwise, so that a load balancer stops sending traffic to a server that
  cannot work.

Both are plain GET views without authentication, sessions or rate limit (the rate limit belongs
to the GraphQL endpoint), exempt from the HTTPS redirect (SECURE_REDIRECT_EXEMPT): a probe talks
to the app server directly over HTTP. The body is JSON; the failing part's error is named by its
class only (no host names, no messages that could carry credentials).
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


def _run(name: str) -> str | None:
    """None when the part answers, else the error's class name."""
    try:
        CHECKS[name]()
    except Exception as error:  # noqa: BLE001 - any failure means "not ready"
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
    errors = {name: _run(name) for name in CHECKS}
    failing = [name for name, error in errors.items() if error is not None]
    body = {
        "status": "unavailable" if failing else "ok",
        "checks": {name: error or "ok" for name, error in errors.items()},
    }
    if failing:
        body["failing"] = failing
    return JsonResponse(body, status=503 if failing else 200)
