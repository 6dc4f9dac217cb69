"""Delivering the events to the webhook endpoints, at least once (docs/webhooks.md).

Each WebhookDelivery (one event to one endpoint, made by fan_out.py) is a small state machine:

    pending --claim--> sending --2xx--> delivered
       ^                  |
       +-- retry, backoff-+--> failed (window passed, 410 Gone, or should_retry off)
    pending / sending --endpoint disabled--> cancelled

- **One job per endpoint** (`deliver_due`, the `deliver_to_endpoint` job of
  enrollments/jobs/webhooks.py): a slow or failing endpoint holds its own job only, never
  another endpoint's deliveries.
- **Claimed in a short transaction**: up to BATCH due rows of the endpoint (`pending` whose time
  came, or `sending` whose lease passed), `FOR UPDATE SKIP LOCKED` (two jobs of one endpoint
  take different rows), moved to `sending` with `next_attempt_at` = the lease's end
  (WEBHOOKS["LEASE_SECONDS"]). Then each is sent with no transaction open and no row locked.
  Every later write about a claimed row is guarded by its claim (state `sending`, that lease):
  a row another job reclaimed after the lease passed is left to that job.
- **A worker killed mid-delivery** leaves its rows `sending`; when the lease passes, the next
  job of the endpoint (queued by a later fan-out, a retry, or the sweep) claims them again and
  sends the same event with the same event id (`webhook-id`): redelivered, never lost. A
  receiver may see an event twice; it deduplicates on the event id.
- **Sending** (posting.py): the target is checked again (targets.resolve: DNS can change) and
  the very address checked is connected to; POST of the envelope (envelope.py), signed
  (signing.py). A 2xx answer delivers; anything else is a failed try, recorded as a
  WebhookAttempt (status, latency, error) like every try.
- **Retries**: the next try after `retry_delay(tries)` (exponential, equal jitter), until
  WEBHOOKS["RETRY_WINDOW_SECONDS"] (3 days) after the delivery's first failure (since it was
  last resent); the last try falls at the window's end. A try that failed then fails the
  delivery for good and disables the endpoint (`disabled_at`, `disabled_reason`), whose
  pending deliveries are cancelled; its owner is e-mailed (Healthie's policy). After
  WEBHOOKS["WARN_AFTER_SECONDS"] (a day) of failures the owner is warned once (`warned_at`,
  cleared by a success once no delivery of the endpoint is failing any more: one event that
  keeps failing while others get through is one warning). `410 Gone` disables the endpoint
  at once; `should_retry` off means one try per delivery.
- **An unreachable endpoint** (no answer: refused, timed out, unsafe or unresolvable) stops the
  job: the rest of its claim goes back to pending at the failed delivery's next try, so a
  receiver that hangs costs one timeout per round, not one per event.
- **Order**: oldest event first within a claim, but retries and parallel jobs reorder:
  receivers order by the envelope's `sequence`.

`sweep` (for `manage.py jobs sweep`, from cron) fans out what a lost fan-out job left and
queues again the jobs of endpoints whose deliveries wait past their time. `send_test`,
`resend` and `replay_since` serve the management API, the admin and the command.
"""

import logging
import secrets
import smtplib
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import translation
from django.utils.functional import lazy
from django.utils.translation import gettext, gettext_lazy, ngettext

from enrollments import clock
from enrollments.events import envelope, fan_out, posting, signing, targets
from enrollments.events.posting import Answer
from enrollments.models import AccessEvent, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from lms.language import language_for_email

logger = logging.getLogger(__name__)

State = WebhookDelivery.State
#: Deliveries claimed per short transaction.
BATCH = 100
#: The test event's type, as Healthie's `sendTestWebhook` sends it.
TEST_EVENT_TYPE, TEST_RESOURCE_TYPE = "test.created", "Test"

_random = secrets.SystemRandom()


class EndpointDisabled(ValueError):
    """The endpoint is disabled: nothing is sent to it until it is enabled again."""

    def __init__(self, endpoint: WebhookEndpoint) -> None:
        self.message = f"The webhook endpoint {endpoint.url} is disabled; enable it first."
        super().__init__(self.message)


@dataclass(slots=True)
class Claim:
    """The rows one short transaction moved to `sending`, and the lease they hold."""

    deliveries: list[WebhookDelivery]
    lease: datetime
    began: float


def window() -> timedelta:
    return timedelta(seconds=settings.WEBHOOKS["RETRY_WINDOW_SECONDS"])


def retry_delay(tries: int) -> timedelta:
    """The wait before the next try after `tries` failed ones: RETRY_BASE_SECONDS doubled per
    try, at most RETRY_MAX_SECONDS, drawn between its half and its whole (equal jitter: a
    receiver back after an outage is not hit by every delivery at the same second)."""
    config = settings.WEBHOOKS
    ceiling = min(
        config["RETRY_MAX_SECONDS"], config["RETRY_BASE_SECONDS"] * 2 ** max(tries - 1, 0)
    )
    return timedelta(seconds=_random.uniform(ceiling / 2, ceiling))


# -- the delivery job ------------------------------------------------------------------------


def deliver_due(endpoint_id: int, *, batch: int = BATCH) -> dict[str, int]:
    """Sends the endpoint's due deliveries, a claim at a time, until none is due or the endpoint
    is unreachable or disabled; then queues the endpoint's next job for its earliest pending
    retry (`follow_up`). Returns counts of what happened (the job's result)."""
    counts: Counter[str] = Counter()
    while True:
        endpoint = WebhookEndpoint.objects.filter(pk=endpoint_id, is_enabled=True).first()
        if endpoint is None:
            break
        claimed = claim(endpoint, batch)
        if not claimed.deliveries:
            break
        _next_try, stop = _send_claim(endpoint, claimed, counts)
        if stop:
            break
    follow_up(endpoint_id)
    return dict(counts)


def follow_up(endpoint_id: int) -> datetime | None:
    """Queues the endpoint's next delivery job for its earliest pending delivery still to come
    (a retry this job or another one scheduled), unless a job is queued for that time or
    earlier already (WebhookEndpoint.next_job_at, set in one conditional UPDATE, so two jobs
    ending at once queue one). Without it a job that found nothing due ended its chain while
    other jobs' retries waited for the sweep (minutes late). Returns when the job runs."""
    now = clock.now()
    pending = WebhookDelivery.objects.filter(
        endpoint_id=endpoint_id, state=State.PENDING, next_attempt_at__gt=now
    )
    earliest = pending.order_by("next_attempt_at").values_list("next_attempt_at", flat=True).first()
    if earliest is None:
        return None
    claimed = WebhookEndpoint.objects.filter(pk=endpoint_id, is_enabled=True).filter(
        Q(next_job_at__isnull=True) | Q(next_job_at__lte=now) | Q(next_job_at__gt=earliest)
    )
    if not claimed.update(next_job_at=earliest):
        return None
    _queue(endpoint_id, run_after=earliest)
    return earliest


def claim(endpoint: WebhookEndpoint, batch: int = BATCH) -> Claim:
    """One short transaction: up to `batch` due deliveries of the endpoint (pending whose time
    came, or sending whose lease passed) moved to `sending` under a new lease."""
    now = clock.now()
    lease = now + timedelta(seconds=settings.WEBHOOKS["LEASE_SECONDS"])
    with transaction.atomic():
        rows = list(
            WebhookDelivery.objects.filter(
                endpoint=endpoint,
                state__in=[State.PENDING, State.SENDING],
                next_attempt_at__lte=now,
            )
            .order_by("next_attempt_at", "event_id")
            .select_for_update(skip_locked=True)
            .values_list("pk", "state")[:batch]
        )
        ids = [pk for pk, _ in rows]
        if ids:
            WebhookDelivery.objects.filter(pk__in=ids).update(
                state=State.SENDING, next_attempt_at=lease, last_attempt_at=now
            )
    reclaimed = [pk for pk, state in rows if state == State.SENDING]
    if reclaimed:
        logger.warning(
            "webhook endpoint %s: deliveries %s were being sent when their lease passed (a "
            "worker killed?): sent again with the same event id",
            endpoint.pk,
            reclaimed,
        )
    deliveries = list(
        WebhookDelivery.objects.filter(pk__in=ids).select_related("event").order_by("event_id")
    )
    return Claim(deliveries, lease, time.monotonic())


def _mine(claim: Claim, pks) -> object:
    """The claim's rows still held by it (a row reclaimed by another job is not)."""
    return WebhookDelivery.objects.filter(
        pk__in=pks, state=State.SENDING, next_attempt_at=claim.lease
    )


def _send_claim(
    endpoint: WebhookEndpoint, claim: Claim, counts: Counter
) -> tuple[datetime | None, bool]:
    """Sends the claimed deliveries in turn; returns the earliest retry it scheduled and
    whether the job should stop (the endpoint unreachable or disabled)."""
    config = settings.WEBHOOKS
    # The longest one send can take: the whole exchange is cut at TOTAL_TIMEOUT (posting.py),
    # each read at READ_TIMEOUT after a connect; a send begun with less lease left than this
    # could end after the lease passed, when another job may have taken the rows back.
    worst_try = max(config["TOTAL_TIMEOUT"], config["CONNECT_TIMEOUT"] + config["READ_TIMEOUT"])
    delivered: list[tuple[WebhookDelivery, Answer, datetime]] = []
    retry_at: datetime | None = None
    stop = False
    unsent = list(claim.deliveries)
    try:
        while unsent:
            spent = time.monotonic() - claim.began
            if len(unsent) < len(claim.deliveries) and spent + worst_try > config["LEASE_SECONDS"]:
                # The lease could pass mid-send (at least one send per claim: no loop).
                _release(claim, unsent, clock.now())
                counts["released"] += len(unsent)
                break
            # Read again before each send: a claim lasts up to the lease, and the endpoint may
            # have been disabled or deleted (its deliveries cancelled: none may be sent), its
            # secret rotated or its URL changed since (the next send signs and goes as it is now).
            current = WebhookEndpoint.objects.filter(pk=endpoint.pk, is_enabled=True).first()
            if current is None:
                _release(claim, unsent, clock.now())
                stop = True
                break
            endpoint = current
            delivery = unsent.pop(0)
            answer = send(endpoint, delivery.event)
            at = clock.now()
            if answer.delivered:
                delivered.append((delivery, answer, at))
                continue
            _flush(endpoint, claim, delivered, counts)
            delivered = []
            next_try, stop = _failed(endpoint, claim, delivery, answer, at, counts)
            if next_try is not None:
                retry_at = next_try if retry_at is None else min(retry_at, next_try)
            if answer.unreachable and next_try is not None and unsent:
                # The endpoint, not this event: the others wait for the same next try.
                _release(claim, unsent, next_try)
                counts["released"] += len(unsent)
                stop = True
            if stop:
                break
    finally:
        _flush(endpoint, claim, delivered, counts)
    return retry_at, stop


def _flush(endpoint: WebhookEndpoint, claim: Claim, delivered: list, counts: Counter) -> None:
    """Marks delivered what got a 2xx (one UPDATE) and logs their tries (one INSERT), of the
    rows the claim still holds (locked first): a row cancelled meanwhile (the endpoint disabled)
    stays cancelled, and one deleted with its endpoint gets no try (its foreign key would fail).

    The endpoint's row before the deliveries' (clearing `warned_at`, when it was warned and no
    other delivery is still failing: `_clear_warning`), the order every writer of both takes
    them in (a disable, the fan-out): in the other order a disable and this flush could each
    hold what the other waits for."""
    if not delivered:
        return
    pks_sent = [delivery.pk for delivery, _, _ in delivered]
    with transaction.atomic():
        if endpoint.warned_at is not None and _clear_warning(endpoint, pks_sent):
            endpoint.warned_at = None
        held = set(_mine(claim, pks_sent).select_for_update().values_list("pk", flat=True))
        delivered = [entry for entry in delivered if entry[0].pk in held]
        if not delivered:
            return
        at = delivered[-1][2]
        by_status: dict[int | None, list[int]] = {}
        for delivery, answer, _ in delivered:
            by_status.setdefault(answer.status, []).append(delivery.pk)
        for status, pks in by_status.items():  # one UPDATE per 2xx status (mostly one)
            _mine(claim, pks).update(
                state=State.DELIVERED,
                delivered_at=at,
                attempts=F("attempts") + 1,
                last_status=status,
                last_error="",
            )
        WebhookAttempt.objects.bulk_create(
            WebhookAttempt(
                delivery=delivery,
                attempted_at=when,
                status=answer.status,
                latency_ms=answer.latency_ms,
            )
            for delivery, answer, when in delivered
        )
    counts["delivered"] += len(delivered)


def _clear_warning(endpoint: WebhookEndpoint, delivered: list[int]) -> bool:
    """Clears the endpoint's `warned_at` (one conditional UPDATE, its row locked) unless one of
    its deliveries, other than the `delivered` ones, is still failing (pending or being sent
    after a failed try). Cleared on any success, one event the receiver keeps refusing while
    others get through re-armed the warning each round: its owner got the same "failing since"
    e-mail after every retry. Returns whether it was cleared."""
    failing = WebhookDelivery.objects.filter(
        endpoint_id=OuterRef("pk"), state__in=[State.PENDING, State.SENDING], attempts__gt=0
    ).exclude(pk__in=delivered)
    return bool(
        WebhookEndpoint.objects.filter(pk=endpoint.pk, warned_at__isnull=False)
        .exclude(Exists(failing))
        .update(warned_at=None)
    )


def _release(claim: Claim, deliveries: list[WebhookDelivery], at: datetime) -> None:
    """Gives claimed rows back, unsent and untried, due at `at`."""
    _mine(claim, [delivery.pk for delivery in deliveries]).update(
        state=State.PENDING, next_attempt_at=at
    )


def _failed(
    endpoint: WebhookEndpoint,
    claim: Claim,
    delivery: WebhookDelivery,
    answer: Answer,
    at: datetime,
    counts: Counter,
) -> tuple[datetime | None, bool]:
    """Records a failed try; schedules the next, or fails the delivery (and, past the window or
    on 410 Gone, disables the endpoint). When another job reclaimed the delivery meanwhile (its
    lease passed), only the try is recorded: the holder's outcome decides the rest; when it was
    deleted with its endpoint meanwhile, nothing is (and the job stops). Returns the next try
    and whether to stop."""
    if not WebhookDelivery.objects.filter(pk=delivery.pk).exists():
        return None, True
    WebhookAttempt.objects.create(
        delivery=delivery,
        attempted_at=at,
        status=answer.status,
        latency_ms=answer.latency_ms,
        error=answer.error,
    )
    tries = delivery.attempts + 1
    first_failure = _first_failure(delivery, tries) or at
    mine = _mine(claim, [delivery.pk])
    recorded = {"attempts": tries, "last_status": answer.status, "last_error": answer.error}
    gone = answer.status == 410
    expired = at - first_failure >= window()
    if gone or expired or not endpoint.should_retry:
        if not mine.update(state=State.FAILED, **recorded):
            return None, False  # reclaimed by another job meanwhile: its try decides
        counts["failed"] += 1
        if gone:
            disable(endpoint, GONE_REASON, now=at)
            return None, True
        if expired:
            disable(endpoint, expired_reason(window(), answer.error or answer.status), now=at)
            return None, True
        return None, False
    next_try = min(at + retry_delay(tries), first_failure + window())
    if not mine.update(state=State.PENDING, next_attempt_at=next_try, **recorded):
        return None, False  # reclaimed by another job meanwhile: no warning, no retry of ours
    counts["retrying"] += 1
    logger.warning(
        "webhook delivery %s (event %s) to %s: try %d failed, next at %s: %s",
        delivery.pk,
        delivery.event.event_id,
        endpoint.url,
        tries,
        f"{next_try:%Y-%m-%dT%H:%M:%SZ}",
        answer.error,
    )
    warn_after = timedelta(seconds=settings.WEBHOOKS["WARN_AFTER_SECONDS"])
    if endpoint.warned_at is None and at - first_failure >= warn_after:
        _warn(endpoint, delivery, answer, first_failure, at)
    return next_try, False


def _first_failure(delivery: WebhookDelivery, tries: int) -> datetime | None:
    """When the delivery's current run of failures began: the earliest of its last `tries`
    tries (a resend starts the count again at 0)."""
    earliest = list(
        WebhookAttempt.objects.filter(delivery=delivery)
        .order_by("-attempted_at", "-id")
        .values_list("attempted_at", flat=True)[tries - 1 : tries]
    )
    return earliest[0] if earliest else None


def _days(span: timedelta) -> str:
    """`3 days`, `1 day`, or `90 seconds` for a window of no whole days (tests' settings)."""
    if span % timedelta(days=1):
        seconds = span.total_seconds()
        # Translators: the English says "1 seconds" as before; give the singular its own form.
        return ngettext("%(count)s seconds", "%(count)s seconds", int(seconds)) % {
            "count": f"{seconds:g}"
        }
    return ngettext("%(count)d day", "%(count)d days", span.days) % {"count": span.days}


# Why an endpoint was disabled: lazy, so that the same reason is stored in English (the
# endpoint's `disabled_reason`, which the API reads: `stored_text`) and written in the owner's
# language in their e-mail (`disable`).

#: The receiver asked to be left alone.
GONE_REASON = gettext_lazy("The receiver answered 410 Gone.")


def _expired_reason(span: timedelta, answer: object) -> str:
    return gettext("Deliveries failed for %(span)s: the last answer was %(answer)s.") % {
        "span": _days(span),
        "answer": answer,
    }


#: The retry window passed: `expired_reason(window, last answer)`, a lazy text.
expired_reason = lazy(_expired_reason, str)


def stored_text(text: object) -> str:
    """`text` (a str, or a lazy translation) as stored and answered by the API: its English
    msgid, whatever language is active (a command or job run with another LANGUAGE_CODE)."""
    with translation.override(None):
        return str(text)


# -- the endpoint's state and its owner ------------------------------------------------------


def cancel_undelivered(endpoint_id: int, reason: str) -> int:
    """Cancels the endpoint's pending and sending deliveries (it is being disabled)."""
    return WebhookDelivery.objects.filter(
        endpoint_id=endpoint_id, state__in=[State.PENDING, State.SENDING]
    ).update(state=State.CANCELLED, last_error=f"cancelled: {reason}")


def disable(endpoint: WebhookEndpoint, reason: object, *, now: datetime | None = None) -> bool:
    """Disables the endpoint (`disabled_at`, `disabled_reason`), cancels its pending and
    sending deliveries and e-mails its owner; returns False when it was disabled already.
    `reason`: a str, or a lazy translation (GONE_REASON, expired_reason): stored in English,
    e-mailed in the owner's language."""
    now = now or clock.now()
    mailed_reason, reason = reason, stored_text(reason)
    with transaction.atomic():
        changed = WebhookEndpoint.objects.filter(pk=endpoint.pk, is_enabled=True).update(
            is_enabled=False, disabled_at=now, disabled_reason=reason[:200], updated_at=now
        )
        if changed:
            cancel_undelivered(endpoint.pk, reason)
    if not changed:
        return False
    endpoint.is_enabled, endpoint.disabled_at, endpoint.disabled_reason = False, now, reason
    logger.error("webhook endpoint %s (%s) disabled: %s", endpoint.pk, endpoint.url, reason)

    def disabled_mail() -> tuple[str, str]:
        values = {"url": endpoint.url, "when": f"{now:%Y-%m-%d %H:%M}", "reason": mailed_reason}
        subject = gettext("Webhook endpoint disabled: %(url)s") % values
        paragraphs = (
            gettext("The webhook endpoint %(url)s was disabled on %(when)s UTC.") % values,
            gettext("Reason: %(reason)s") % values,
            gettext(
                "Its undelivered events were cancelled. Once the receiver works again, enable "
                "the endpoint and replay the events since the first failure."
            ),
        )
        return subject, "\n\n".join(paragraphs) + "\n"

    _mail(endpoint, disabled_mail)
    return True


def _warn(
    endpoint: WebhookEndpoint,
    delivery: WebhookDelivery,
    answer: Answer,
    first_failure: datetime,
    at: datetime,
) -> None:
    """E-mails the owner once that deliveries have been failing for a while."""
    if not WebhookEndpoint.objects.filter(pk=endpoint.pk, warned_at__isnull=True).update(
        warned_at=at
    ):
        return  # another job warned meanwhile
    endpoint.warned_at = at
    disabled_on = first_failure + window()

    def warning_mail() -> tuple[str, str]:
        values = {
            "url": endpoint.url,
            "since": f"{first_failure:%Y-%m-%d %H:%M}",
            "answer": answer.error or answer.status,
            "until": f"{disabled_on:%Y-%m-%d %H:%M}",
        }
        subject = gettext("Webhook deliveries failing: %(url)s") % values
        paragraphs = (
            gettext(
                "Deliveries to the webhook endpoint %(url)s have been failing since %(since)s "
                "UTC (last answer: %(answer)s)."
            )
            % values,
            gettext(
                "They are retried until %(until)s UTC; if they still fail then, the endpoint "
                "is disabled."
            )
            % values,
        )
        return subject, "\n\n".join(paragraphs) + "\n"

    _mail(endpoint, warning_mail)


def _mail(endpoint: WebhookEndpoint, write: Callable[[], tuple[str, str]]) -> None:
    """E-mails the endpoint's owner what `write` returns (subject, body), written in the
    owner's language: theirs when they are a user here (lms.language), else LANGUAGE_CODE."""
    if not endpoint.owner_email:
        return
    with translation.override(language_for_email(endpoint.owner_email)):
        subject, message = write()
    try:
        send_mail(subject, message, settings.DEFAULT_FROM_EMAIL, [endpoint.owner_email])
    except (smtplib.SMTPException, OSError):
        logger.exception("webhook endpoint %s: the e-mail to its owner failed", endpoint.pk)


# -- one send --------------------------------------------------------------------------------


def send(endpoint: WebhookEndpoint, event: AccessEvent) -> Answer:
    """One try of one event: the target checked again, the envelope signed and POSTed."""
    return _post(endpoint, str(event.event_id), envelope.body(envelope.envelope(event)))


def _post(endpoint: WebhookEndpoint, message_id: str, body: bytes) -> Answer:
    try:
        target = targets.resolve(endpoint.url)
    except targets.TargetError as error:
        return Answer(None, 0, error.message, unreachable=True)
    # The attempt's wall-clock time, which receivers compare with theirs (not the app's clock).
    stamp = int(time.time())
    signed = signing.headers(
        endpoint, url=endpoint.url, message_id=message_id, body=body, timestamp=stamp
    )
    return posting.post(target, body, signed)


def send_test(endpoint: WebhookEndpoint) -> Answer:
    """Sends a test event now (Healthie's `sendTestWebhook`): `event_type` `test.created`,
    `resource_id_type` `Test`, a random `resource_id` matching no record, signed like every
    delivery, to a disabled endpoint too. Nothing is recorded or retried; the answer says
    whether it was delivered (`delivered`), its status, latency and error."""
    event_id = str(uuid.uuid4())
    payload = {
        "resource_id": event_id,
        "resource_id_type": TEST_RESOURCE_TYPE,
        "event_type": TEST_EVENT_TYPE,
        "changed_fields": [],
        "event_id": event_id,
        "occurred_at": clock.now().isoformat().replace("+00:00", "Z"),
        "action": "test",
        "batch_id": None,
        "sequence": 0,
    }
    return _post(endpoint, event_id, envelope.body(payload))


# -- the management's operations --------------------------------------------------------------


def resend(delivery_id: int) -> WebhookDelivery:
    """Puts one delivery back to pending now, its tries counted afresh (its retry window starts
    again), and queues its endpoint's job. Raises WebhookDelivery.DoesNotExist, or
    EndpointDisabled when its endpoint is disabled.

    A delivery being sent (`sending` under a lease still running) is left as it is, as
    replay_since leaves it: made pending, it was due at once for a second job while the first
    was still POSTing it (the event sent twice at the same time, and the first's 2xx, no longer
    its claim's, thrown away). Its send's outcome decides: delivered, or retried as usual. One
    whose lease passed (its worker killed) is any job's to claim again: resent as usual."""
    now = clock.now()
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_related("endpoint")
            .select_for_update(of=("self",))
            .get(pk=delivery_id)
        )
        # The endpoint's row locked while it is read: a disable at the same time (its UPDATE
        # waits) then cancels this delivery too, or this resend sees it disabled.
        if not _locked_enabled(delivery.endpoint_id):
            raise EndpointDisabled(delivery.endpoint)
        if _being_sent(delivery, now):
            return delivery
        delivery.state = State.PENDING
        delivery.attempts = 0
        delivery.next_attempt_at = now
        delivery.save(update_fields=["state", "attempts", "next_attempt_at"])
        transaction.on_commit(lambda: _queue(delivery.endpoint_id))
    return delivery


def _being_sent(delivery: WebhookDelivery, now: datetime) -> bool:
    """Whether a job holds the delivery now: claimed (`sending`) under a lease still running
    (its `next_attempt_at` is the lease's end)."""
    return delivery.state == State.SENDING and delivery.next_attempt_at > now


def replay_since(endpoint: WebhookEndpoint, instant: datetime) -> int:
    """Sends again every event since `instant` (its `occurred_at`) that the endpoint receives
    (its event types): deliveries that exist are put back to pending with their tries counted
    afresh (those pending or being sent are left as they are), missing ones are created.
    Returns how many deliveries were queued; raises EndpointDisabled when it is disabled, and
    WebhookEndpoint.DoesNotExist when it was deleted.

    The events are chosen from the endpoint's row as locked here, not from `endpoint` (read
    before, unlocked): an update of its event types that commits while this waits for the
    lock is seen, so no type it no longer receives is queued."""
    now = clock.now()
    with transaction.atomic():
        locked = WebhookEndpoint.objects.select_for_update().filter(pk=endpoint.pk).first()
        if locked is None:
            raise WebhookEndpoint.DoesNotExist(f"webhook endpoint {endpoint.pk} was deleted")
        if not locked.is_enabled:  # as in resend: a disable cannot cross it
            raise EndpointDisabled(locked)
        events = AccessEvent.objects.filter(occurred_at__gte=instant)
        if locked.event_types:
            events = events.filter(event_type__in=locked.event_types)
        again = (
            WebhookDelivery.objects.filter(endpoint=locked, event__in=events.values("id"))
            .exclude(state__in=[State.PENDING, State.SENDING])
            .update(state=State.PENDING, attempts=0, next_attempt_at=now)
        )
        created = fan_out.insert_deliveries(locked, events, now)
        if again or created:
            transaction.on_commit(lambda: _queue(locked.pk))
    return again + created


def _locked_enabled(endpoint_id: int) -> bool:
    """Whether the endpoint is enabled, its row locked until the transaction ends."""
    return (
        WebhookEndpoint.objects.select_for_update().filter(pk=endpoint_id, is_enabled=True).exists()
    )


# -- the sweep and the jobs -------------------------------------------------------------------


def sweep(now: datetime | None = None) -> dict[str, int]:
    """For `manage.py jobs sweep` (cron, every app server): fans out the events a lost fan-out
    job left (their endpoints' jobs queued), and queues again the job of every enabled
    endpoint with deliveries pending for WEBHOOKS["STALLED_SECONDS"] past their time or
    claimed by a worker whose lease passed."""
    now = now or clock.now()
    unfanned = fan_out.unfanned()
    fanned = fan_out.fan_out() if unfanned else set()
    stalled_before = now - timedelta(seconds=settings.WEBHOOKS["STALLED_SECONDS"])
    stalled = set(
        WebhookDelivery.objects.filter(
            Q(state=State.PENDING, next_attempt_at__lte=stalled_before)
            | Q(state=State.SENDING, next_attempt_at__lte=now),
            endpoint__is_enabled=True,
        )
        .values_list("endpoint_id", flat=True)
        .distinct()
    )
    for endpoint_id in sorted(fanned | stalled):
        _queue(endpoint_id)
    return {"events_fanned_out": unfanned, "endpoints_queued": len(fanned | stalled)}


def _queue(endpoint_id: int, *, run_after: datetime | None = None) -> None:
    from enrollments.jobs.webhooks import queue_delivery  # the jobs are a door over this package

    queue_delivery(endpoint_id, run_after=run_after)
