"""Rate limits of the GraphQL API: so many queries and so many mutations per window (a minute by
default) for each API key, and for each signed-in user of a browser session.

Why per key and per user: a key is one program, and one runaway program must not be able to
take the service down for everyone else; a person in GraphiQL never comes near the budget, but
a stolen session cookie scripted in a loop would, so sessions are limited too (per user: all of
a user's sessions share one budget; each of their keys has its own).

Anonymous requests (no API key, no signed-in session) execute nothing (every field answers
UNAUTHENTICATED and introspection is refused), but parsing and validating their document still
costs a worker (about 0.4 s for the worst documents the limits admit, issue 21), so they have a
budget of their own per client address (`ANONYMOUS`), spent before the body is decoded or the
document parsed (enforce_anonymous): one cache round trip per anonymous request, nothing more.
The address is REMOTE_ADDR, or, behind reverse proxies that append to X-Forwarded-For, the entry
settings.TRUSTED_PROXY_COUNT places from the right (client_address): never the header's leftmost
entries, which the client writes itself.

Counting: fixed windows in Django's cache framework, so that every server process shares one
budget when the cache is shared (Redis in production: `CACHE_URL=redis://...`; the local-memory
default counts per process). One counter per client, kind and window, named
`<prefix>:<client>:<kind>:<window number>`: `cache.incr` counts atomically (Redis INCR, a lock in
locmem) and `cache.add` (Redis SET NX) creates the counter once when the window starts. A
counter lives two windows, so it never expires while its window is current. A client may spend
up to twice its budget across a window boundary (the end of one window, the start of the next),
the usual trade of fixed windows for one cache round trip per request.

Cost: a query document costs one query. A mutation document costs one mutation per top-level
field, since aliases can put several mutations in one document (operation_cost: the walk the
GraphQL limits share). A document that does not parse, or that is too long to parse, costs one
query. Refused requests count too (a client that keeps hammering stays refused until the window
ends; the window does not move).

If the cache fails (Redis down), requests are served unlimited and the failure is logged: an
outage of the counter must not become an outage of people's paid access. A hung cache (it
accepts connections and never answers) fails only after the socket timeout (settings: 100 ms
for Redis), so a circuit breaker (apikeys.circuit_breaker) stops asking it after
`BREAKER_FAILURES` failures in a row: for `BREAKER_COOL_DOWN_SECONDS` requests are served
unlimited without a cache round trip, then one request tries the cache again. Opening and
closing are logged once each, not once per request.

Settings: `settings.RATE_LIMIT` (config/settings.py, from the environment, where the defaults
are), read once per process.
"""

import logging
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest
from graphql import DocumentNode, OperationType

from apikeys.circuit_breaker import CircuitBreaker
from enrollments.graphql.document_walk import DocumentWalk
from lms.settings_blocks import read_once, settings_block

logger = logging.getLogger(__name__)

#: `extensions.code` and message of the 429 answer: Healthie's own (its rate-limit guide), so
#: that a client written against Healthie recognises the refusal; the numbers are extensions.
TOO_MANY_REQUESTS = "TOO_MANY_REQUESTS"
TOO_MANY_REQUESTS_MESSAGE = "Too many requests. Please try again later."


class Kind(StrEnum):
    QUERY = "query"
    MUTATION = "mutation"
    ANONYMOUS = "anonymous"


@dataclass(frozen=True, slots=True)
class RateLimitSettings:
    """settings.RATE_LIMIT (config/settings.py, where the defaults are), parsed."""

    enabled: bool
    queries: int
    mutations: int
    #: None: anonymous requests are not counted ("ANONYMOUS" 0 or left out).
    anonymous: int | None
    window_seconds: int
    cache: str
    key_prefix: str
    breaker_failures: int
    breaker_cool_down_seconds: float

    def limit(self, kind: Kind) -> int:
        if kind is Kind.ANONYMOUS:
            assert self.anonymous is not None
            return self.anonymous
        return self.mutations if kind is Kind.MUTATION else self.queries


@settings_block("RATE_LIMIT")
def rate_limit_settings(configured: Mapping[str, Any]) -> RateLimitSettings:
    return RateLimitSettings(
        enabled=bool(configured["ENABLED"]),
        queries=int(configured["QUERIES"]),
        mutations=int(configured["MUTATIONS"]),
        anonymous=int(configured.get("ANONYMOUS") or 0) or None,
        window_seconds=max(1, int(configured["WINDOW_SECONDS"])),
        cache=configured["CACHE"],
        key_prefix=configured["KEY_PREFIX"],
        breaker_failures=max(1, int(configured["BREAKER_FAILURES"])),
        breaker_cool_down_seconds=max(0.0, float(configured["BREAKER_COOL_DOWN_SECONDS"])),
    )


def monotonic() -> float:
    """The circuit breaker's clock; tests replace it to end a cool-down."""
    return time.monotonic()


@read_once("RATE_LIMIT", "CACHES")
def cache_breaker() -> CircuitBreaker:
    """The process's breaker in front of the rate limit's cache (a new one when the settings
    change)."""
    config = rate_limit_settings()
    return CircuitBreaker(
        failure_threshold=config.breaker_failures,
        cool_down_seconds=config.breaker_cool_down_seconds,
        clock=lambda: monotonic(),
    )


@dataclass(frozen=True, slots=True)
class Decision:
    """One request's outcome: whether it may run, and the window's state after counting it."""

    allowed: bool
    kind: Kind
    limit: int
    #: Spent in the current window, this request included (refused ones too).
    used: int
    #: Whole seconds until the current window ends (at least 1).
    retry_after: int
    #: Length of the window.
    window_seconds: int


class RateLimited(Exception):
    """The client has spent its budget for this window: answer 429 with Retry-After."""

    def __init__(self, decision: Decision) -> None:
        self.decision = decision
        self.message = TOO_MANY_REQUESTS_MESSAGE
        self.detail = (
            f"at most {decision.limit} {decision.kind.value} operations per client every "
            f"{decision.window_seconds} seconds; retry in {decision.retry_after} seconds"
        )
        super().__init__(self.message)

    @property
    def retry_after(self) -> int:
        return self.decision.retry_after

    def extensions(self) -> dict[str, Any]:
        return {
            "code": TOO_MANY_REQUESTS,
            "detail": self.detail,
            "retry_after": self.decision.retry_after,
            "limit": self.decision.limit,
            "kind": self.decision.kind.value,
        }


def now() -> float:
    """Seconds since the epoch; tests replace it to move between windows."""
    return time.time()


def client_id(request: HttpRequest) -> str | None:
    """Whose budget a request spends: its API key's, else its signed-in user's; None for
    anonymous requests (not limited here). A key is named by its prefix, unique and random, so
    a counter can never be inherited by another key."""
    api_key = getattr(request, "api_key", None)
    if api_key is not None:
        return f"key:{api_key.prefix}"
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return None


def operation_cost(document: DocumentNode | None, operation_name: str | None) -> tuple[Kind, int]:
    """What a request costs: (QUERY, 1) unless it selects a mutation operation, which costs one
    mutation per top-level field (at least one), collected by the walk the GraphQL limits share
    (enrollments.graphql.document_walk): by response key as graphql-core executes them, through
    fragments, `@skip` / `@include` honoured. The limiter counts before variables are coerced,
    so a field skipped or included on a variable counts (never fewer than execution runs)."""
    if document is None:
        return Kind.QUERY, 1
    walk = DocumentWalk(document)
    operation = walk.operation(operation_name)
    if operation is None or operation.operation is not OperationType.MUTATION:
        return Kind.QUERY, 1
    fields = walk.root_fields(operation).values()
    mutations = sum(nodes[0].name.value != "__typename" for nodes in fields)
    return Kind.MUTATION, max(1, mutations)


def spend(client: str, kind: Kind, cost: int = 1, *, at: float | None = None) -> Decision:
    """Counts `cost` operations of `kind` for `client` in the current window and says whether
    the request may run. Raises the cache's errors (see enforce for the fail-open policy)."""
    config = rate_limit_settings()
    at = now() if at is None else at
    window = int(at // config.window_seconds)
    retry_after = max(1, math.ceil((window + 1) * config.window_seconds - at))
    cache = caches[config.cache]
    key = f"{config.key_prefix}:{client}:{kind.value}:{window}"
    try:
        used = cache.incr(key, cost)
    except ValueError:  # no counter yet: this request starts the window
        if cache.add(key, cost, timeout=2 * config.window_seconds):
            used = cost
        else:  # another process started it in between
            used = cache.incr(key, cost)
    limit = config.limit(kind)
    return Decision(
        allowed=used <= limit,
        kind=kind,
        limit=limit,
        used=used,
        retry_after=retry_after,
        window_seconds=config.window_seconds,
    )


def enforce(request: HttpRequest, document: DocumentNode | None, operation_name: str | None):
    """Counts the request against its client's budget; raises RateLimited when it is spent.
    Anonymous requests, and every request while the limit is disabled, pass uncounted."""
    config = rate_limit_settings()
    client = client_id(request)
    if not config.enabled or client is None:
        return None
    kind, cost = operation_cost(document, operation_name)
    return _count(client, kind, cost)


def client_address(request: HttpRequest) -> str:
    """The address a request comes from: REMOTE_ADDR, or with settings.TRUSTED_PROXY_COUNT = n
    (n reverse proxies, each appending the address it was called from to X-Forwarded-For) the
    n-th entry of X-Forwarded-For from the right; REMOTE_ADDR when the header has fewer
    entries (the request did not come through them all)."""
    remote = request.META.get("REMOTE_ADDR") or "unknown"
    proxies = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0))
    if proxies <= 0:
        return remote
    forwarded = [
        entry.strip()
        for entry in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        if entry.strip()
    ]
    return forwarded[-proxies] if len(forwarded) >= proxies else remote


def enforce_anonymous(request: HttpRequest) -> Decision | None:
    """Counts an anonymous request (no API key, no signed-in user) against its address's
    budget; raises RateLimited when it is spent. Keyed and signed-in requests pass uncounted
    (enforce counts them), as does everything while the limit is disabled. Reads nothing of
    the request but its headers: call it before decoding the body or parsing the document."""
    config = rate_limit_settings()
    if not config.enabled or config.anonymous is None or client_id(request) is not None:
        return None
    return _count(f"address:{client_address(request)}", Kind.ANONYMOUS, 1)


def _count(client: str, kind: Kind, cost: int) -> Decision | None:
    """spend, failing open: None when the cache fails (or failed lately: the breaker)."""
    config = rate_limit_settings()
    breaker = cache_breaker()
    if not breaker.allow():  # the cache failed lately: serve unlimited, without asking it
        return None
    try:
        decision = spend(client, kind, cost)
    except Exception:  # the cache is down: serve unlimited rather than not at all
        logger.exception("Rate limit not applied: the cache %r failed", config.cache)
        if breaker.failed():
            logger.error(
                "Rate limit suspended for %s s: the cache %r keeps failing",
                config.breaker_cool_down_seconds,
                config.cache,
            )
        return None
    if breaker.succeeded():
        logger.warning("Rate limit resumed: the cache %r answers again", config.cache)
    if not decision.allowed:
        raise RateLimited(decision)
    return decision
