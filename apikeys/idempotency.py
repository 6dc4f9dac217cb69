"""Idempotency keys of GraphQL mutations: a retried request applies once and answers the same.

Following the IETF draft "The Idempotency-Key HTTP Header Field" and Stripe's practice. A client
that may have to retry a mutation (a timeout, a dropped connection, an answer it never read)
sends `Idempotency-Key: <unique value>` (a UUID, say; 1 to 255 printable ASCII characters, an
sf-string's quotes allowed) and sends the same key again with the retry:

- the first answer to a key is stored with a fingerprint of the request (the document as
  graphql-core prints it, so whitespace and comments do not count; the variables; the operation
  name; the client), for IDEMPOTENCY["TTL_SECONDS"] (24 hours);
- the same key with the same request gets that answer again, body and status, with
  `Idempotent-Replayed: true`, and changes nothing;
- the same key with another request is refused: 422 IDEMPOTENCY_KEY_REUSED (the draft's
  status; it is a refusal before GraphQL runs, like 429, so it keeps its status whatever the
  media type, as the GraphQL-over-HTTP specification allows);
- the same key while its first request is still running is refused: 409 IDEMPOTENCY_KEY_IN_USE
  with Retry-After (the draft's status), never run a second time;
- a malformed key is refused: 400 INVALID_IDEMPOTENCY_KEY.

Keys are per client (ratelimit.client_id: an API key, or a signed-in user): two clients may use
the same key without meeting. Only POSTed mutation operations of a known client use the key;
on a query (idempotent already), an anonymous request (it changes nothing) or a GET it is
validated and otherwise ignored. Without the header, everything is as before.

Why the answer is written in the mutation's own transaction. The failure this exists for: the
database connection drops after the mutation committed, and the client is told
INTERNAL_SERVER_ERROR although the change is made. If the answer were saved after the commit,
the same drop would lose it and a retry would apply the change again. So a keyed mutation runs
in three steps:

1. Reserve: INSERT the key's row (client, key, fingerprint, a fresh owner token) in a short
   transaction of its own. The unique constraint on (client, key) is what detects a duplicate:
   an existing row is replayed (answer stored), refused (other fingerprint) or in flight
   (no answer yet: 409).
2. Run: one transaction (`transaction.atomic()`) around the whole GraphQL request. It first
   re-checks the reservation and locks its row (an UPDATE on the owner's token), then executes
   the document (each core call's own atomic blocks become savepoints), then stores the rendered
   answer in the row (again on the owner's token). The change and its answer commit together
   or not at all.
3. If the request did not execute (parse or validation errors, limits, a 429: no `data` in the
   answer) or raised, everything is rolled back and the reservation let go of (deleted while it
   holds no answer), so a retry runs afresh. If the transaction failed once the answer was
   built (storing it, the commit), the client gets 500 INTERNAL_SERVER_ERROR saying to retry
   with the same key: had the commit happened after all, the retry finds the stored answer;
   had it not, the retry runs.

The core is safe to run inside that transaction: it uses no on_commit hook, its row locks
(select_for_update) and COPY work inside any transaction, and the one place it recovers from an
error (enrolling's unique-constraint race) does so around an atomic block, which is a
savepoint here. What changes: the whole document is one transaction (several mutation fields
of one keyed document commit together), and enrollments.retry's retry of a deadlock or
serialization failure does not run inside it (the error is then the field's answer, stored and
replayed as Stripe stores its errors: retry with a new key).

A reservation whose request neither stored an answer nor let go of it (its worker was killed,
or the connection was lost before the rollback could be told) blocks its key for
IDEMPOTENCY["IN_FLIGHT_SECONDS"]; after that a retry takes it over with a new token. The old
owner, should it still be running, then finds its token gone and rolls back (on PostgreSQL the
takeover even waits for the old owner's row lock, so it then replays the answer stored).

Rows older than the TTL are ignored (a key is then new again) and purged, a few at a time, each
time a key is reserved: no cron job needed.
"""

import contextlib
import hashlib
import json
import logging
import math
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import DatabaseError, IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from graphql import DocumentNode, print_ast

from apikeys.models import IdempotencyKey
from lms.settings_blocks import settings_block

logger = logging.getLogger(__name__)

#: The request header, as Django's request.META names it.
HEADER = "HTTP_IDEMPOTENCY_KEY"
#: Set on an answer served from the store (Stripe's name).
REPLAYED_HEADER = "Idempotent-Replayed"
#: The longest key (the stored column's length).
MAX_KEY_LENGTH = 255
KEY_SHAPE = re.compile(rf"[\x20-\x7e]{{1,{MAX_KEY_LENGTH}}}")
#: Expired rows deleted per reservation: more than are reserved per expiry, so they never pile
#: up, few enough to cost one short indexed DELETE.
PURGE_BATCH = 100

#: `extensions.code` of the refusals.
INVALID_IDEMPOTENCY_KEY = "INVALID_IDEMPOTENCY_KEY"
IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
IDEMPOTENCY_KEY_IN_USE = "IDEMPOTENCY_KEY_IN_USE"
IDEMPOTENCY_KEY_NOT_APPLICABLE = "IDEMPOTENCY_KEY_NOT_APPLICABLE"


@dataclass(frozen=True, slots=True)
class IdempotencySettings:
    """settings.IDEMPOTENCY (config/settings.py, where the defaults are), parsed."""

    ttl: timedelta
    in_flight: timedelta


@settings_block("IDEMPOTENCY")
def idempotency_settings(configured: Mapping[str, Any]) -> IdempotencySettings:
    return IdempotencySettings(
        ttl=timedelta(seconds=max(1, int(configured["TTL_SECONDS"]))),
        in_flight=timedelta(seconds=max(1, int(configured["IN_FLIGHT_SECONDS"]))),
    )


class Refused(Exception):
    """The keyed request is refused before it runs: answer `status` with `code` and `message`."""

    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = headers or {}


class OutcomeUnknown(Exception):
    """The keyed request's transaction failed (its commit included): whether it committed is
    not known here, and the retry with the same key will say."""

    message = (
        "Internal server error: the request may or may not have been applied. Send it again "
        "with the same Idempotency-Key: it is applied at most once."
    )


def requested_key(request: HttpRequest) -> str | None:
    """The request's Idempotency-Key (an sf-string's quotes removed), None without the header.
    Raises Refused (400) for a key that is empty, too long or not printable ASCII."""
    raw = request.META.get(HEADER)
    if raw is None:
        return None
    key = raw.strip()
    if len(key) >= 2 and key[0] == key[-1] == '"':
        key = key[1:-1]
    if not KEY_SHAPE.fullmatch(key):
        raise Refused(
            400,
            INVALID_IDEMPOTENCY_KEY,
            f"The Idempotency-Key header must be 1 to {MAX_KEY_LENGTH} printable ASCII "
            "characters (a UUID, for example)",
        )
    return key


def fingerprint(*, client: str, document: DocumentNode, variables: Any, operation_name: Any) -> str:
    """What a keyed request asks, as a SHA-256: the document as graphql-core prints it (so
    layout and comments do not count), the variables (JSON, keys sorted), the operation name
    and the client."""
    if isinstance(variables, str):  # a form or query-string body sends them as JSON text
        with contextlib.suppress(ValueError):
            variables = json.loads(variables)
    canonical = json.dumps(
        {
            "client": client,
            "document": print_ast(document),
            "variables": variables or {},
            "operationName": operation_name or None,
        },
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Reservation:
    """A key reserved by this request: its row, and the token that proves ownership."""

    pk: int
    token: uuid.UUID


def run_once(
    *, client: str, key: str, fingerprint: str, respond: Callable[[], HttpResponse]
) -> HttpResponse:
    """The answer to a keyed mutation request: the stored one, or `respond()` run in one
    transaction with the answer stored in it (see the module's docstring). Raises Refused and
    OutcomeUnknown; passes on what `respond` raises (the transaction rolled back)."""
    outcome = _reserve(client=client, key=key, fingerprint=fingerprint)
    if isinstance(outcome, IdempotencyKey):
        return _replay(outcome)
    reservation = outcome
    answered = False
    try:
        with transaction.atomic():
            _hold(reservation)
            response = respond()
            answered = True
            executed = _executed(response)
            if executed:
                _store(reservation, response)
            else:  # refused before execution: nothing to keep, the key stays free
                transaction.set_rollback(True)
    except Exception as error:
        _release(reservation)
        # Failing while the request ran, it was rolled back: the error is the answer. Failing
        # once it had answered (storing it, the commit), the change may have committed.
        if answered and isinstance(error, DatabaseError):
            logger.error(
                "Idempotent request failed in its transaction (client %s, key %r)",
                client,
                key,
                exc_info=True,
            )
            raise OutcomeUnknown() from error
        raise
    if not executed:
        _release(reservation)
    return response


def _expiry(now: datetime) -> datetime:
    return now - idempotency_settings().ttl


def _reserve(*, client: str, key: str, fingerprint: str) -> Reservation | IdempotencyKey:
    """Reserves `key` for this request, or returns its stored answer. Raises Refused."""
    config = idempotency_settings()
    for _attempt in range(3):
        now = timezone.now()
        token = uuid.uuid4()
        try:
            with transaction.atomic():
                row = IdempotencyKey.objects.create(
                    client=client,
                    key=key,
                    fingerprint=fingerprint,
                    token=token,
                    created_at=now,
                    reserved_at=now,
                )
        except IntegrityError:
            pass  # the key is taken: see by whom and how
        else:
            _purge(now)
            return Reservation(row.pk, token)
        existing = IdempotencyKey.objects.filter(client=client, key=key).first()
        if existing is None:  # let go of in between
            continue
        if existing.created_at <= _expiry(now):  # expired: a new key again
            IdempotencyKey.objects.filter(pk=existing.pk, created_at=existing.created_at).delete()
            continue
        if existing.fingerprint != fingerprint:
            raise Refused(
                422,
                IDEMPOTENCY_KEY_REUSED,
                "This Idempotency-Key was used for another request (another document, other "
                "variables or another operation name); use a new key for a new request",
            )
        if existing.response_body is not None:
            return existing
        held_until = existing.reserved_at + config.in_flight
        if held_until > now:
            raise _in_use(held_until - now)
        # Reserved by a request that neither finished nor let go (its worker died): take it
        # over. On PostgreSQL this waits while the old owner still holds the row's lock.
        taken = IdempotencyKey.objects.filter(
            pk=existing.pk, token=existing.token, response_body__isnull=True
        ).update(token=token, reserved_at=now)
        if taken:
            return Reservation(existing.pk, token)
    raise _in_use(timedelta(seconds=1))


def _in_use(remaining: timedelta) -> Refused:
    seconds = max(1, math.ceil(remaining.total_seconds()))
    return Refused(
        409,
        IDEMPOTENCY_KEY_IN_USE,
        f"A request with this Idempotency-Key is still being processed; retry in {seconds} seconds",
        {"Retry-After": str(seconds)},
    )


def _hold(reservation: Reservation) -> None:
    """Locks the reservation's row for the transaction, if this request still owns it.

    A row lock (SELECT ... FOR UPDATE), not an UPDATE: PostgreSQL makes an INSERT of the same
    unique key wait for a transaction that has updated the existing row (it might be changing the
    key), but not for one that only locks it. So a duplicate's reservation fails at once with
    the unique violation (409) while this request runs, instead of waiting for it."""
    held = list(
        IdempotencyKey.objects.select_for_update()
        .filter(pk=reservation.pk, token=reservation.token, response_body__isnull=True)
        .values_list("pk", flat=True)
    )
    if not held:  # taken over after it looked abandoned
        raise _in_use(idempotency_settings().in_flight)


def _executed(response: HttpResponse) -> bool:
    """Whether the answer comes from executing the document (it has `data`): the answers worth
    keeping. A refusal before execution (status other than 200, or no `data`) is not."""
    if response.status_code != 200 or response.streaming:
        return False
    try:
        body = json.loads(response.content)
    except ValueError:
        return False
    return isinstance(body, dict) and "data" in body


def _store(reservation: Reservation, response: HttpResponse) -> None:
    stored = IdempotencyKey.objects.filter(pk=reservation.pk, token=reservation.token).update(
        response_status=response.status_code, response_body=response.content.decode()
    )
    if not stored:
        raise _in_use(idempotency_settings().in_flight)


def _release(reservation: Reservation) -> None:
    """Lets go of a reservation that holds no answer (its request did not run or rolled back).
    Never fails: where the database cannot be told (the connection is gone), the reservation
    lapses after IN_FLIGHT_SECONDS."""
    try:
        IdempotencyKey.objects.filter(
            pk=reservation.pk, token=reservation.token, response_body__isnull=True
        ).delete()
    except DatabaseError:
        logger.warning("Idempotency-Key reservation %s not released", reservation.pk, exc_info=True)


def _replay(stored: IdempotencyKey) -> HttpResponse:
    response = HttpResponse(
        stored.response_body, status=stored.response_status, content_type="application/json"
    )
    response[REPLAYED_HEADER] = "true"
    return response


def _purge(now: datetime) -> int:
    """Deletes up to PURGE_BATCH expired keys (oldest first); how many."""
    expired = (
        IdempotencyKey.objects.filter(created_at__lte=_expiry(now))
        .order_by("created_at")
        .values("pk")[:PURGE_BATCH]
    )
    deleted, _ = IdempotencyKey.objects.filter(pk__in=expired).delete()
    return deleted
