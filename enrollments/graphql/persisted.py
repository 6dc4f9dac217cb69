"""Persisted documents: Apollo's automatic persisted queries (APQ) and the operator's trusted
documents (docs/api.md, "Persisted queries" and "Trusted documents").

**APQ, by Apollo's protocol.** A request names its document by the SHA-256 of its text in
`extensions.persistedQuery` (`{"version": 1, "sha256Hash": "<64 hex>"}`; in a GET's query string
`extensions` is that object URL-encoded as JSON, Apollo's `useGETForHashedQueries`):

- the hash alone, known: the stored text is the request's document;
- the hash alone, unknown: the error Apollo Client retries on (message `PersistedQueryNotFound`,
  `extensions.code` `PERSISTED_QUERY_NOT_FOUND`, as Apollo Server sends them); the client then
  sends the text with the hash;
- the text with the hash: the hash must be the SHA-256 of the text's UTF-8 bytes (else HTTP 400
  `provided sha does not match query`, Apollo Server's answer: a hash never names another
  document), and the text is stored for the hash.

The store is Django's cache (`GRAPHQL_PERSISTED_QUERIES["CACHE"]`, Redis in production, so every
worker and server shares it), each entry under `KEY_PREFIX:<hash>` for `TIMEOUT` seconds. It is
bounded three ways: only a document within the length limit (GRAPHQL_LIMITS MAX_QUERY_LENGTH,
10,000 characters) that parses is stored; only an authenticated request (API key or signed-in
session) stores one (an anonymous client may use stored documents but cannot fill the cache,
which also holds the rate limiter's counters); and entries expire, while the cache's own
eviction (Redis's maxmemory policy, locmem's MAX_ENTRIES) drops old ones under pressure. A cache
that fails is a miss (the client sends the text, which runs unstored), logged, never an error;
after a few failures in a row a circuit breaker (cache_breaker) stops asking it for a while.

A stored text is only a shortcut for sending it: the request then goes through everything a sent
text goes through (its parse and validation caches, the depth, alias and cost limits, the rate
limiter, the idempotency fingerprint, which is computed from the document, not the hash). The
text is the same for every API version, so the store needs no version in its key; the parse and
validation caches (execution.py) key validation by the schema a request is served.

**Trusted documents** (`GRAPHQL_TRUSTED_DOCUMENTS`, off by default): only the documents of the
operator's manifest (`GRAPHQL_PERSISTED_QUERY_MANIFEST`, Apollo's persisted-query manifest
format, each operation's `id` the SHA-256 of its `body`) are accepted, by hash or by text; any
other document is refused before it is parsed (`PERSISTED_QUERY_NOT_IN_LIST` for an unknown hash,
`DOCUMENT_NOT_TRUSTED` for a text). Nothing is stored from requests. The manifest is read once per
process; its documents are parsed then and pinned in execution.py, so that requests never parse
them, and each is validated once per schema and set of rules, never evicted. With the switch
off, a configured manifest's documents are still served by hash (a shortcut, no safelist).
"""

import functools
import hashlib
import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest
from graphql import DocumentNode, GraphQLError

from apikeys.circuit_breaker import CircuitBreaker
from enrollments.graphql import execution
from enrollments.graphql.errors import (
    BAD_REQUEST,
    DOCUMENT_NOT_TRUSTED,
    PERSISTED_QUERY_NOT_FOUND,
    PERSISTED_QUERY_NOT_IN_LIST,
)
from enrollments.graphql.limits import limits
from lms.settings_blocks import read_once

logger = logging.getLogger(__name__)

#: Apollo's message, which Apollo Client matches (with the code) to send the text.
NOT_FOUND_MESSAGE = "PersistedQueryNotFound"
HASH_MISMATCH_MESSAGE = "provided sha does not match query"
UNSUPPORTED_VERSION_MESSAGE = "Unsupported persisted query version"

MANIFEST_FORMAT = "apollo-persisted-query-manifest"

_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass
class Refused(Exception):  # noqa: N818 - an answer, like the view's other refusals
    """A persisted-document request the view answers without running anything. `status` None:
    the status of a GraphQL error before execution in the negotiated media type (200 with
    application/json, 400 with application/graphql-response+json; views.graphql_status)."""

    code: str
    message: str
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Config:
    cache: str
    key_prefix: str
    timeout: int
    trusted_only: bool
    manifest: str


def config() -> Config:
    configured = settings.GRAPHQL_PERSISTED_QUERIES
    return Config(
        cache=configured["CACHE"],
        key_prefix=configured["KEY_PREFIX"],
        timeout=int(configured["TIMEOUT"]),
        trusted_only=bool(configured["TRUSTED_DOCUMENTS"]),
        manifest=configured["MANIFEST"],
    )


def sha256_of(text: str) -> str:
    """The hash Apollo's clients send for a document: SHA-256 of its UTF-8 text, lower-case hex."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --- the manifest (trusted documents) ------------------------------------------------------


@dataclass(frozen=True)
class TrustedDocument:
    id: str
    name: str | None
    body: str
    document: DocumentNode


def load_manifest(path: str) -> dict[str, TrustedDocument]:
    """The operations of an Apollo persisted-query manifest by id. Raises ImproperlyConfigured
    (naming the file and the fault) for a file that cannot be read, another format, an id that
    is not the SHA-256 of its body, or a body that does not parse: `manage.py check` reports it
    (persisted_checks.py), and a server started anyway answers 500 with it in the log, loudly,
    instead of refusing every client quietly."""
    try:
        manifest = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ImproperlyConfigured(f"Persisted-query manifest {path}: {error}") from None
    if (
        not isinstance(manifest, dict)
        or manifest.get("format") != MANIFEST_FORMAT
        or manifest.get("version") != 1
        or not isinstance(manifest.get("operations"), list)
    ):
        raise ImproperlyConfigured(
            f"Persisted-query manifest {path}: not an {MANIFEST_FORMAT} of version 1"
        )
    documents: dict[str, TrustedDocument] = {}
    for index, operation in enumerate(manifest["operations"]):
        body = operation.get("body") if isinstance(operation, dict) else None
        if not isinstance(body, str) or operation.get("id") != sha256_of(body):
            raise ImproperlyConfigured(
                f"Persisted-query manifest {path}: operation {index} has no body, or its id is "
                "not the SHA-256 of its body"
            )
        document = execution.parsed(body)
        if isinstance(document, GraphQLError):
            raise ImproperlyConfigured(
                f"Persisted-query manifest {path}: operation {index} does not parse: {document}"
            )
        name = operation.get("name")
        documents[operation["id"]] = TrustedDocument(
            id=operation["id"],
            name=name if isinstance(name, str) else None,
            body=body,
            document=document,
        )
    return documents


@functools.cache
def trusted_documents() -> dict[str, TrustedDocument]:
    """The manifest's documents (none without one), read once per process and pinned in
    execution.py: parsed here, once, and validated once per schema and rules there."""
    path = config().manifest
    if not path:
        return {}
    documents = load_manifest(path)
    execution.pin({trusted.body: trusted.document for trusted in documents.values()})
    return documents


@receiver(setting_changed)
def _forget_manifest(*, setting: str, **_kwargs) -> None:
    if setting == "GRAPHQL_PERSISTED_QUERIES":
        trusted_documents.cache_clear()
        execution.pin({})


# --- the APQ store ---------------------------------------------------------------------------


@read_once("GRAPHQL_PERSISTED_QUERIES", "RATE_LIMIT", "CACHES")
def cache_breaker() -> CircuitBreaker:
    """The process's circuit breaker in front of the store's cache, with the rate limiter's
    thresholds (RATE_LIMIT's BREAKER_FAILURES and BREAKER_COOL_DOWN_SECONDS): a hung Redis costs
    a few requests the socket timeout, then none until the cool-down ends (every look-up a
    miss, nothing stored), as the rate limiter fails open (apikeys.circuit_breaker)."""
    limit = settings.RATE_LIMIT
    return CircuitBreaker(
        failure_threshold=int(limit["BREAKER_FAILURES"]),
        cool_down_seconds=float(limit["BREAKER_COOL_DOWN_SECONDS"]),
    )


def _cache_key(settings_: Config, sha256: str) -> str:
    return f"{settings_.key_prefix}:{sha256}"


def stored_text(sha256: str) -> str | None:
    """The text stored for `sha256`, None when unknown or when the cache fails (logged)."""
    settings_ = config()
    breaker = cache_breaker()
    if not breaker.allow():  # the cache failed lately: a miss, without asking it
        return None
    try:
        text = caches[settings_.cache].get(_cache_key(settings_, sha256))
    except Exception:  # noqa: BLE001 - a failing cache is a miss: the client sends the text
        logger.warning("Persisted query not read: the cache %r failed", settings_.cache)
        breaker.failed()
        return None
    breaker.succeeded()
    return text if isinstance(text, str) else None


def store(sha256: str, text: str) -> bool:
    """Stores `text` for `sha256` when it may be (within the length limit, it parses); whether
    it was. A cache that fails is logged: the request still runs."""
    if len(text) > limits().max_query_length or isinstance(execution.parsed(text), GraphQLError):
        return False
    settings_ = config()
    breaker = cache_breaker()
    if not breaker.allow():
        return False
    try:
        caches[settings_.cache].set(_cache_key(settings_, sha256), text, settings_.timeout)
    except Exception:  # noqa: BLE001 - not stored; the next hash-only request is a miss
        logger.warning("Persisted query not stored: the cache %r failed", settings_.cache)
        breaker.failed()
        return False
    breaker.succeeded()
    return True


# --- a request -------------------------------------------------------------------------------


def _persisted_query(request: HttpRequest, data: Any) -> Any:
    """`extensions.persistedQuery` of the request (body first, then the query string), or None."""
    extensions = data.get("extensions") if isinstance(data, dict) else None
    if extensions is None:
        extensions = request.GET.get("extensions")
    if isinstance(extensions, str):
        try:
            extensions = json.loads(extensions)
        except ValueError:
            raise Refused(BAD_REQUEST, "The extensions parameter is not valid JSON.", 400) from None
    if extensions is None:
        return None
    if not isinstance(extensions, dict):
        raise Refused(BAD_REQUEST, "The extensions must be a JSON object.", 400)
    return extensions.get("persistedQuery")


def _sent_text(request: HttpRequest, data: Any) -> Any:
    """The document's text as graphene-django reads it: the query string's, else the body's."""
    return request.GET.get("query") or (data.get("query") if isinstance(data, dict) else None)


def resolve(request: HttpRequest, data: Any) -> Any:
    """The request's parameters with the document a persisted-query hash names filled in as
    `query`; `data` unchanged for a request without one (refused in trusted mode unless its text
    is in the manifest). Stores an authenticated request's verified text. Raises Refused."""
    persisted = _persisted_query(request, data)
    text = _sent_text(request, data)
    trusted_only = config().trusted_only
    if persisted is None:
        untrusted = trusted_only and isinstance(text, str) and text != ""
        if untrusted and sha256_of(text) not in trusted_documents():
            raise Refused(
                DOCUMENT_NOT_TRUSTED,
                "This server only runs its registered (trusted) documents: send the "
                "document's persisted-query hash from the operator's manifest.",
                403,
            )
        return data
    if not isinstance(persisted, dict) or persisted.get("version") != 1:
        raise Refused(BAD_REQUEST, UNSUPPORTED_VERSION_MESSAGE, 400)
    sha256 = persisted.get("sha256Hash")
    if not isinstance(sha256, str) or not _SHA256.fullmatch(sha256):
        raise Refused(
            BAD_REQUEST, "persistedQuery.sha256Hash must be 64 lower-case hex digits.", 400
        )
    trusted = trusted_documents().get(sha256)
    if trusted_only and trusted is None:
        raise Refused(
            PERSISTED_QUERY_NOT_IN_LIST,
            f"Persisted query '{sha256}' is not in this server's list of trusted documents.",
            403,
        )
    if text is None or text == "":
        if trusted is not None:
            return _with_query(data, trusted.body)
        stored = stored_text(sha256)
        if stored is None:
            # A GET's miss must not be cached by a proxy: the next one may be a hit.
            raise Refused(
                PERSISTED_QUERY_NOT_FOUND,
                NOT_FOUND_MESSAGE,
                headers={"Cache-Control": "private, no-cache, must-revalidate"},
            )
        return _with_query(data, stored)
    if not isinstance(text, str):
        return data  # the view refuses a query that is not a string
    if sha256_of(text) != sha256:
        raise Refused(BAD_REQUEST, HASH_MISMATCH_MESSAGE, 400)
    if trusted is None and request.user.is_authenticated:
        store(sha256, text)
    return data


def _with_query(data: Any, text: str) -> dict[str, Any]:
    """A copy of the parameters with `query` set (a multipart QueryDict is immutable)."""
    copied = dict(data.items()) if hasattr(data, "items") else {}
    copied["query"] = text
    return copied
