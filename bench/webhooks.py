"""Measurement 8 (issue 24): the events of access changes and their webhook deliveries.

Opt-in (`python -m bench --only webhooks`): it takes minutes (the deliveries of 100,000 events,
an outage), far past the smoke run's budget.

1. **Recording cost.** Bulk extensions of SIZE enrollments through the operation core's
   `apply(Extend(days=1), ...)`, with events and with event recording switched off in this
   process only (`enrollments.operations.core.save_events` patched to a no-op: the event rows
   are then neither built nor written, nor their fan-out queued). Each round takes two
   disjoint random sets (id ranges of the enrollments still active, like measurement 4) and
   alternates which variant goes first; each apply follows a VACUUM ANALYZE of the tables
   written. Overhead: total time with events over total time without, minus one.
2. **Delivery throughput.** One endpoint (Standard Webhooks) on a receiver in this process
   (bench/receiver.py: verifies every signature with the `standardwebhooks` library, counts
   event ids), two real `manage.py db_worker --no-reload` processes already running, then a
   bulk extension of SIZE committed: its commit queues the fan-out job, the fan-out queues the
   endpoint's delivery job. Rate: distinct events answered 200 over the time from the first to
   the last (and, end to end, from the commit). Lost: the batch's event ids never answered 200;
   duplicates: 200s past an id's first (no crash is injected here: expected 0).
3. **Resilience.** (a) An outage: the receiver answers 500 from the commit until OUTAGE seconds
   later, then 200; the workers' backoff is scaled by OUTAGE / 600 (the issue's ten minutes):
   WEBHOOK_RETRY_BASE_SECONDS 10 s and WEBHOOK_RETRY_MAX_SECONDS 4 h times that factor, the
   three-day window kept (nothing may be disabled). Every event must arrive after the receiver
   recovers. (b) A hanging endpoint: the deliveries of HANG_SIZE events to one endpoint alone,
   then the same with a second endpoint whose receiver never answers (the default timeouts: 5 s
   to connect, 15 s to read); the first endpoint's rate with the hanging one beside it against
   its rate alone.

The workers get WEBHOOK_ALLOW_PRIVATE_TARGETS=true and WEBHOOK_REQUIRE_HTTPS=false (a receiver
on http://127.0.0.1) through their environment; this process creates the endpoints under the
same settings (override_settings). Between phases the webhook tables and the job queue are
emptied (TRUNCATE: the benchmark's own database) and the events already recorded marked fanned
out, so each phase delivers its own batch only.
"""

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from unittest import mock

from bench import shared
from bench.receiver import Behaviour, Receiver, Tally, serving
from bench.report import Check

# The issue's targets.
OVERHEAD_LIMIT = 0.15
RATE_TARGET = 300.0
#: "Unchanged" on a shared 2-core machine: the rate beside a hanging endpoint within this
#: fraction of the rate alone.
HANG_TOLERANCE = 0.20
#: The issue's outage (ten minutes): the measured one and the backoff are scaled to it.
ISSUE_OUTAGE_SECONDS = 600.0
WORKERS = 2
#: Seconds given to the workers to start (Django set up, first poll) before the commit.
WORKER_STARTUP_SECONDS = 4.0
#: A delivery phase ends when nothing new arrived for this long (a stuck phase is reported).
IDLE_LIMIT_SECONDS = 90.0
DAYS = 1

Progress = Callable[[str], None]


# -- pure figures ----------------------------------------------------------------------------


def overhead(with_seconds: float, without_seconds: float) -> float | None:
    """Recording's share of the time: total with events over total without, minus one."""
    if without_seconds <= 0:
        return None
    return round(with_seconds / without_seconds - 1, 4)


def retry_settings(outage_seconds: float) -> dict[str, str]:
    """The workers' backoff scaled as the outage is to the issue's ten minutes (the defaults,
    10 s first wait and a 4 h ceiling, times outage / 600)."""
    scale = outage_seconds / ISSUE_OUTAGE_SECONDS
    return {
        "WEBHOOK_RETRY_BASE_SECONDS": f"{10.0 * scale:g}",
        "WEBHOOK_RETRY_MAX_SECONDS": f"{4 * 3600.0 * scale:g}",
    }


def worker_environment(extra: Mapping[str, str] = {}) -> dict[str, str]:  # noqa: B006 - read only
    """The workers' environment: this process's (the benchmark's database and settings), a
    receiver on http://127.0.0.1 allowed, plus `extra`."""
    return {
        **os.environ,
        "WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",
        "WEBHOOK_REQUIRE_HTTPS": "false",
        **extra,
    }


def tally_figures(tally: Tally, *, since: float | None = None) -> dict:
    """A Tally as JSON figures; `since`: the commit, for the end-to-end rate."""
    span = None
    if tally.first_at is not None and tally.last_at is not None:
        span = round(tally.last_at - tally.first_at, 3)
    return {
        "expected": tally.expected,
        "delivered": tally.delivered,
        "lost": tally.lost,
        "duplicates": tally.duplicates,
        "duplicate_ids": tally.duplicate_ids,
        "unexpected": tally.unexpected,
        "refused_answers": tally.refused,
        "delivery_seconds": span,
        "per_second": tally.rate(),
        "end_to_end_seconds": round(tally.last_at - since, 3)
        if since is not None and tally.last_at is not None
        else None,
        "end_to_end_per_second": tally.rate(since) if since is not None else None,
    }


def checks(results: dict) -> list[Check]:
    """Issue 24's targets. Correctness (fails `--check`): every event recorded, delivered, none
    lost or duplicated without a crash, every signature verified; timing: reported only."""
    figures = results.get("webhooks")
    if not figures:
        return []
    found = []
    cost = figures.get("recording")
    if cost:
        found += [
            Check(
                f"webhooks: one event per changed row ({cost['size']:,}-row bulk extension)",
                f"{cost['events_recorded']:,} events for {cost['changed_with']:,} changed rows; "
                f"{cost['events_without']} with recording off",
                cost["events_recorded"] == cost["changed_with"] and cost["events_without"] == 0,
                True,
            ),
            Check(
                f"webhooks: recording events adds <= {OVERHEAD_LIMIT:.0%} to a "
                f"{cost['size']:,}-row bulk extension",
                f"{cost['overhead']:+.1%} ({cost['with_seconds']} s vs {cost['without_seconds']} "
                f"s, {len(cost['rounds'])} rounds)",
                cost["overhead"] is not None and cost["overhead"] <= OVERHEAD_LIMIT,
                False,
            ),
        ]
    flow = figures.get("throughput")
    if flow:
        got = flow["receiver"]
        found += [
            Check(
                f"webhooks: {got['expected']:,} events delivered by {flow['workers']} workers, "
                f">= {RATE_TARGET:g}/s",
                f"{got['per_second']}/s first to last ({got['end_to_end_per_second']}/s from "
                "the commit)",
                got["per_second"] is not None and got["per_second"] >= RATE_TARGET,
                False,
            ),
            Check(
                "webhooks: 0 lost, no duplicate (no crash injected), every signature verified",
                f"{got['lost']} lost, {got['duplicates']} duplicates, "
                f"{flow['bad_signatures']} bad signatures",
                got["lost"] == 0 and got["duplicates"] == 0 and flow["bad_signatures"] == 0,
                True,
            ),
        ]
    outage = figures.get("outage")
    if outage:
        got = outage["receiver"]
        found.append(
            Check(
                f"webhooks: every event delivered after a {outage['outage_seconds']:g} s outage "
                f"(500s; backoff scaled x{outage['scale']:g})",
                f"{got['delivered']:,} of {got['expected']:,}, the last "
                f"{outage['last_after_recovery_seconds']} s after recovery, "
                f"{got['refused_answers']:,} 500s answered, endpoint enabled: "
                f"{outage['endpoint_enabled']}, sweep every {outage['sweep_every_seconds']} s "
                f"(queued the endpoint {outage['sweep_queued_after_recovery']} times after "
                "recovery)",
                got["lost"] == 0 and outage["all_delivered_after_recovery"],
                True,
            )
        )
    hang = figures.get("hang")
    if hang:
        alone, beside = hang["alone"]["per_second"], hang["beside_hang"]["per_second"]
        ratio = hang["ratio"]
        found += [
            Check(
                f"webhooks: a hanging endpoint leaves another's rate unchanged "
                f"(within {HANG_TOLERANCE:.0%}, {hang['size']:,} events)",
                f"{beside}/s beside it vs {alone}/s alone ({ratio}x)",
                ratio is not None and ratio >= 1 - HANG_TOLERANCE,
                False,
            ),
            Check(
                "webhooks: the other endpoint's events all delivered beside a hanging one",
                f"{hang['beside_hang']['delivered']:,} of {hang['beside_hang']['expected']:,}",
                hang["beside_hang"]["lost"] == 0 and hang["alone"]["lost"] == 0,
                True,
            ),
        ]
    return found


def table(results: dict) -> str:
    """The webhooks' figures and targets as plain text."""
    figures = results.get("webhooks")
    if not figures:
        return ""
    lines = ["8. webhooks (issue 24)"]
    cost = figures.get("recording")
    if cost:
        for number, item in enumerate(cost["rounds"], 1):
            lines.append(
                f"   recording, round {number}: with events {item['with_seconds']} s, without "
                f"{item['without_seconds']} s ({item['first']} first)"
            )
    flow = figures.get("throughput")
    if flow:
        got = flow["receiver"]
        lines.append(
            f"   throughput: {got['delivered']:,} delivered in {got['delivery_seconds']} s "
            f"({got['per_second']}/s), {got['end_to_end_seconds']} s from the commit; fan-out "
            f"{flow['fan_out_seconds']} s; worker CPU {flow['worker_cpu_seconds']} s"
        )
    hang = figures.get("hang")
    if hang:
        lines.append(
            f"   hang: alone {hang['alone']['per_second']}/s, beside a hanging endpoint "
            f"{hang['beside_hang']['per_second']}/s; the hanging one tried "
            f"{hang['hanging_tries']} times"
        )
    lines += shared.targets_lines(checks(results))
    return "\n".join(lines)


# -- the database ----------------------------------------------------------------------------


def _vacuum() -> None:
    from django.db import connection

    from enrollments.models import AccessChange, AccessEvent, Enrollment

    tables = ", ".join(
        connection.ops.quote_name(model._meta.db_table)
        for model in (Enrollment, AccessChange, AccessEvent)
    )
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {tables}")


def _reset() -> None:
    """Empties the webhook tables and the job queue, and marks every event recorded so far
    fanned out: the next phase delivers its own batch only. No worker runs meanwhile."""
    from django.db import connection
    from django_tasks_db.models import DBTaskResult

    from enrollments.models import AccessEvent, WebhookAttempt, WebhookDelivery, WebhookEndpoint

    tables = ", ".join(
        connection.ops.quote_name(model._meta.db_table)
        for model in (WebhookAttempt, WebhookDelivery, WebhookEndpoint, DBTaskResult)
    )
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {tables}")
    AccessEvent.objects.filter(fanned_out=False).update(fanned_out=True)


def _candidates():
    from enrollments.models import Enrollment

    return Enrollment.objects.filter(ended_at__gt=datetime.now(UTC)).order_by("pk")


def _bounds(sets: int, size: int) -> tuple[int, list[tuple[object, object]]]:
    """The size used (fewer rows when the data set holds too few) and `sets` disjoint id
    ranges of that many active enrollments each, read in one streamed pass."""
    candidates = _candidates()
    size = min(size, candidates.count() // sets)
    if size <= 0:
        raise RuntimeError("no enrollment with an end of access after now: nothing to extend")
    wanted = {n for k in range(sets) for n in (k * size, (k + 1) * size - 1)}
    at = {
        n: pk
        for n, pk in enumerate(
            candidates.values_list("pk", flat=True)[: sets * size].iterator(chunk_size=10_000)
        )
        if n in wanted
    }
    return size, [(at[k * size], at[(k + 1) * size - 1]) for k in range(sets)]


def _extend(low, high, note: str):
    """The core's bulk extension of the active enrollments in [low, high], committed; its plan
    (`changes`, `batch_id`)."""
    from bench.fixtures import bench_user
    from enrollments.models import AccessChange, Enrollment
    from enrollments.operations import Extend, Selection, apply
    from enrollments.operations.audit import Attribution

    now = datetime.now(UTC)
    return apply(
        Extend(days=DAYS),
        Selection.by_filter(Enrollment.objects.filter(ended_at__gt=now, pk__gte=low, pk__lte=high)),
        Attribution(bench_user(), AccessChange.Source.COMMAND, f"benchmark: {note}"),
    )


def _events_of(batch_id) -> set[str]:
    from enrollments.models import AccessEvent

    return {
        str(value)
        for value in AccessEvent.objects.filter(batch_id=batch_id).values_list(
            "event_id", flat=True
        )
    }


# -- 1. the recording cost -------------------------------------------------------------------


@contextmanager
def _recording_off() -> Iterator[None]:
    """Event recording switched off in this process only (the core's save_events a no-op)."""
    with mock.patch("enrollments.operations.core.save_events", lambda rows: None):
        yield


def measure_recording(size: int, rounds: int, progress: Progress) -> dict:
    from enrollments.models import AccessEvent

    rounds = max(1, rounds)
    size, bounds = _bounds(2 * rounds, size)
    measured = []
    changed_with = changed_without = events = events_without = 0

    def timed(low, high, *, events_on: bool) -> tuple[float, object]:
        _vacuum()
        started = time.perf_counter()
        if events_on:
            plan = _extend(low, high, "events recorded")
        else:
            with _recording_off():
                plan = _extend(low, high, "event recording off")
        return time.perf_counter() - started, plan

    for number in range(rounds):
        with_set, without_set = bounds[2 * number], bounds[2 * number + 1]
        on_first = number % 2 == 0
        progress(f"8. webhooks: recording cost, round {number + 1} of {rounds}")
        if on_first:
            with_seconds, with_plan = timed(*with_set, events_on=True)
            without_seconds, without_plan = timed(*without_set, events_on=False)
        else:
            without_seconds, without_plan = timed(*without_set, events_on=False)
            with_seconds, with_plan = timed(*with_set, events_on=True)
        recorded = AccessEvent.objects.filter(batch_id=with_plan.batch_id).count()
        recorded_without = AccessEvent.objects.filter(batch_id=without_plan.batch_id).count()
        changed_with += len(with_plan.changes)
        changed_without += len(without_plan.changes)
        events += recorded
        events_without += recorded_without
        measured.append(
            {
                "with_seconds": round(with_seconds, 3),
                "without_seconds": round(without_seconds, 3),
                "first": "with" if on_first else "without",
                "changed_with": len(with_plan.changes),
                "changed_without": len(without_plan.changes),
                "events_recorded": recorded,
            }
        )
        progress(
            f"8. webhooks: with events {with_seconds:.2f} s ({recorded:,} events), without "
            f"{without_seconds:.2f} s"
        )
    with_total = sum(item["with_seconds"] for item in measured)
    without_total = sum(item["without_seconds"] for item in measured)
    return {
        "size": size,
        "rounds": measured,
        "with_seconds": round(with_total / len(measured), 3),
        "without_seconds": round(without_total / len(measured), 3),
        "overhead": overhead(with_total, without_total),
        "changed_with": changed_with,
        "changed_without": changed_without,
        "events_recorded": events,
        "events_without": events_without,
    }


# -- the workers -----------------------------------------------------------------------------


def _cpu_seconds(pid: int) -> float | None:
    """A process's user + system CPU time so far (Linux), None elsewhere or once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return round((int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"), 2)


class Workers:
    """`count` real `manage.py db_worker --no-reload` processes (as deployed; no start-up
    delay), their output in `logdir`; stopped by SIGTERM to each, SIGKILL after 30 s."""

    def __init__(self, count: int, env: Mapping[str, str], logdir: Path) -> None:
        from bench.server import PROJECT_ROOT

        self.processes: list[subprocess.Popen] = []
        self.logs = []
        for number in range(count):
            log = (logdir / f"worker-{number}.log").open("ab")
            self.logs.append(log)
            self.processes.append(
                subprocess.Popen(  # noqa: S603 - our own interpreter and manage.py
                    [
                        sys.executable,
                        "manage.py",
                        "db_worker",
                        "--no-reload",
                        "--no-startup-delay",
                    ],
                    cwd=PROJECT_ROOT,
                    env=dict(env),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )

    def alive(self) -> bool:
        return all(process.poll() is None for process in self.processes)

    def cpu_seconds(self) -> list[float | None]:
        return [_cpu_seconds(process.pid) for process in self.processes]

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for log in self.logs:
            log.close()


@contextmanager
def _running(env: Mapping[str, str], logdir: Path) -> Iterator[Workers]:
    workers = Workers(WORKERS, env, logdir)
    try:
        time.sleep(WORKER_STARTUP_SECONDS)
        if not workers.alive():
            raise RuntimeError(f"a db_worker exited at start; see {logdir}")
        yield workers
    finally:
        workers.stop()


def _endpoint(receiver: Receiver, path: str, behaviour: Behaviour):
    """An endpoint on `path` of the receiver (created through the management core, under the
    workers' target settings), the receiver told its secret."""
    from django.conf import settings
    from django.test import override_settings

    from enrollments.events import endpoints

    allowed = {**settings.WEBHOOKS, "ALLOW_PRIVATE_TARGETS": True, "REQUIRE_HTTPS": False}
    with override_settings(WEBHOOKS=allowed):
        made = endpoints.create(receiver.url(path), description=f"benchmark {path}")
    behaviour.secret = made.secret
    receiver.expect(path, behaviour)
    return made.endpoint


def _wait(
    receiver: Receiver,
    expected: Mapping[str, int],
    workers: Workers,
    progress: Progress,
    *,
    deadline: float | None = None,
) -> bool:
    """Until every path in `expected` got its count of distinct events, nothing new arrived
    for IDLE_LIMIT_SECONDS (or past `deadline`), or a worker died; True when complete."""
    last_total, last_move, last_said = -1, time.monotonic(), time.monotonic()
    while True:
        counts = {path: receiver.delivered_count(path) for path in expected}
        now = time.monotonic()
        if all(counts[path] >= count for path, count in expected.items()):
            return True
        total = sum(counts.values())
        if total != last_total:
            last_total, last_move = total, now
        if deadline is not None:
            if now > deadline:
                return False
        elif now - last_move > IDLE_LIMIT_SECONDS:
            return False
        if not workers.alive():
            return False
        if now - last_said >= 15:
            progress(f"8. webhooks: delivered {counts} of {dict(expected)}")
            last_said = now
        time.sleep(0.2)


def _job_seconds(task_name: str) -> float | None:
    """The first job of `task_name`'s run time (started to finished), from the job table."""
    from django_tasks_db.models import DBTaskResult

    job = (
        DBTaskResult.objects.filter(task_path__endswith=task_name, finished_at__isnull=False)
        .order_by("enqueued_at")
        .first()
    )
    if job is None or job.started_at is None:
        return None
    return round((job.finished_at - job.started_at).total_seconds(), 3)


def _states(endpoint) -> dict[str, int]:
    from django.db.models import Count

    from enrollments.models import WebhookDelivery

    rows = (
        WebhookDelivery.objects.filter(endpoint=endpoint)
        .values_list("state")
        .annotate(n=Count("id"))
        .order_by()
    )
    return dict(rows)


def _tries(endpoint) -> int:
    from enrollments.models import WebhookAttempt

    return WebhookAttempt.objects.filter(delivery__endpoint=endpoint).count()


# -- 2. throughput ---------------------------------------------------------------------------


def measure_throughput(size: int, logdir: Path, progress: Progress) -> dict:
    _, [(low, high)] = _bounds(1, size)
    _reset()
    _vacuum()
    with serving() as receiver:
        endpoint = _endpoint(receiver, "/fast", Behaviour("ok"))
        with _running(worker_environment(), logdir) as workers:
            cpu_before = workers.cpu_seconds()
            progress(f"8. webhooks: throughput, a bulk extension of {size:,}, {WORKERS} workers")
            plan = _extend(low, high, "webhook throughput")
            committed = time.monotonic()
            expected = _events_of(plan.batch_id)
            complete = _wait(receiver, {"/fast": len(expected)}, workers, progress)
            cpu_after = workers.cpu_seconds()
        tally = Tally.of(receiver.received("/fast"), expected)
        bad = receiver.bad_signatures
    return {
        "workers": WORKERS,
        "changed": len(plan.changes),
        "complete": complete,
        "receiver": tally_figures(tally, since=committed),
        "bad_signatures": bad,
        "fan_out_seconds": _job_seconds("fan_out_events"),
        "states": _states(endpoint),
        "tries": _tries(endpoint),
        "worker_cpu_seconds": [
            None if a is None or b is None else round(a - b, 2)
            for a, b in zip(cpu_after, cpu_before, strict=True)
        ],
    }


# -- 3. resilience ---------------------------------------------------------------------------


class Cron(threading.Thread):
    """The delivery half of `manage.py jobs sweep` (delivery.sweep: fans out what a lost job
    left, queues again the jobs of endpoints whose deliveries stalled), every `every` seconds
    as cron would run the command, in this process; counts the endpoints it queued."""

    def __init__(self, every: float) -> None:
        super().__init__(daemon=True)
        self.every = every
        self.queued: list[float] = []
        self.error: BaseException | None = None
        self.done = threading.Event()

    def run(self) -> None:
        from django.db import connection

        from enrollments.events import delivery

        try:
            while not self.done.wait(self.every):
                if delivery.sweep()["endpoints_queued"]:
                    self.queued.append(time.monotonic())
        except BaseException as error:  # reported by the measurement
            self.error = error
        finally:
            connection.close()


def measure_outage(
    size: int, outage_seconds: float, logdir: Path, progress: Progress, *, sweep: bool = True
) -> dict:
    """Part 3 (a). `sweep`: run the delivery sweep as cron would (every minute, stalled after
    WEBHOOK_STALLED_SECONDS, 5 minutes), both scaled like the backoff."""
    from django.conf import settings
    from django.test import override_settings

    from enrollments.models import WebhookEndpoint

    _, [(low, high)] = _bounds(1, size)
    _reset()
    scaled = retry_settings(outage_seconds)
    scale = outage_seconds / ISSUE_OUTAGE_SECONDS
    stalled = {**settings.WEBHOOKS, "STALLED_SECONDS": max(1, round(300 * scale))}
    cron = Cron(60 * scale) if sweep else None
    with serving() as receiver, override_settings(WEBHOOKS=stalled):
        behaviour = Behaviour("outage")
        endpoint = _endpoint(receiver, "/flaky", behaviour)
        with _running(worker_environment(scaled), logdir) as workers:
            progress(
                f"8. webhooks: outage of {outage_seconds:g} s (500s), {size:,} events, "
                f"backoff {scaled}, sweep {'every %g s' % (60 * scale) if sweep else 'off'}"
            )
            plan = _extend(low, high, "webhook outage")
            committed = time.monotonic()
            behaviour.recover_at = committed + outage_seconds
            if cron is not None:
                cron.start()
            expected = _events_of(plan.batch_id)
            # The longest wait the scaled backoff allows after the recovery, and some.
            ceiling = float(scaled["WEBHOOK_RETRY_MAX_SECONDS"])
            deadline = behaviour.recover_at + min(ceiling, outage_seconds) + 120
            try:
                complete = _wait(
                    receiver, {"/flaky": len(expected)}, workers, progress, deadline=deadline
                )
            finally:
                if cron is not None:
                    cron.done.set()
                    cron.join()
        received = receiver.received("/flaky")
    if cron is not None and cron.error is not None:
        raise RuntimeError(f"the sweep failed: {cron.error!r}")
    tally = Tally.of(received, expected)
    before = [item for item in received if item.at < behaviour.recover_at and item.status == 200]
    return {
        "size": len(expected),
        "outage_seconds": outage_seconds,
        "scale": round(scale, 4),
        "settings": scaled | {"WEBHOOK_STALLED_SECONDS": str(stalled["STALLED_SECONDS"])},
        "sweep_every_seconds": round(60 * scale, 3) if sweep else None,
        "sweep_queued_after_recovery": sum(
            1 for at in (cron.queued if cron else []) if at >= behaviour.recover_at
        ),
        "complete": complete,
        "receiver": tally_figures(tally, since=committed),
        "delivered_before_recovery": len(before),
        "all_delivered_after_recovery": complete and not before and tally.lost == 0,
        "last_after_recovery_seconds": round(tally.last_at - behaviour.recover_at, 1)
        if tally.last_at is not None
        else None,
        "tries": _tries(endpoint),
        "states": _states(endpoint),
        "endpoint_enabled": WebhookEndpoint.objects.filter(
            pk=endpoint.pk, is_enabled=True
        ).exists(),
    }


def _hang_phase(size: int, logdir: Path, progress: Progress, *, with_hang: bool) -> dict:
    _, [(low, high)] = _bounds(1, size)
    _reset()
    _vacuum()
    with serving() as receiver:
        _endpoint(receiver, "/fast", Behaviour("ok"))
        hanging = _endpoint(receiver, "/hang", Behaviour("hang")) if with_hang else None
        with _running(worker_environment(), logdir) as workers:
            label = "beside a hanging endpoint" if with_hang else "alone"
            progress(f"8. webhooks: {size:,} events to an endpoint {label}")
            plan = _extend(low, high, f"webhook endpoint {label}")
            committed = time.monotonic()
            expected = _events_of(plan.batch_id)
            _wait(receiver, {"/fast": len(expected)}, workers, progress)
        figures = tally_figures(Tally.of(receiver.received("/fast"), expected), since=committed)
    if hanging is not None:
        figures["hanging_tries"] = _tries(hanging)
        figures["hanging_states"] = _states(hanging)
    return figures


def measure_hang(size: int, logdir: Path, progress: Progress) -> dict:
    alone = _hang_phase(size, logdir, progress, with_hang=False)
    beside = _hang_phase(size, logdir, progress, with_hang=True)
    ratio = None
    if alone["per_second"] and beside["per_second"]:
        ratio = round(beside["per_second"] / alone["per_second"], 3)
    return {
        "size": size,
        "alone": alone,
        "beside_hang": beside,
        "ratio": ratio,
        "hanging_tries": beside.get("hanging_tries"),
    }


def measure(
    *,
    size: int,
    rounds: int,
    outage_seconds: float,
    outage_size: int,
    hang_size: int,
    logdir: Path,
    sweep: bool = True,
    progress: Progress = lambda _: None,
) -> dict:
    """Every part of the module's docstring, in order; the webhook tables emptied at the end."""
    results = {
        "recording": measure_recording(size, rounds, progress),
        "throughput": measure_throughput(size, logdir, progress),
    }
    if outage_seconds > 0 and outage_size > 0:
        results["outage"] = measure_outage(
            outage_size, outage_seconds, logdir, progress, sweep=sweep
        )
    if hang_size > 0:
        results["hang"] = measure_hang(hang_size, logdir, progress)
    _reset()
    return results
