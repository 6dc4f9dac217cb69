"""Each event's deliveries: one per enabled endpoint that receives its type.

Events are fanned out after their transaction commits, by a job (`announce` queues it), in
batches taken with `FOR UPDATE SKIP LOCKED`: two fan-outs at once (two workers, the sweep's
and a commit's) take different events, and the unique (endpoint, event) constraint makes a
repeated one create nothing twice. Deliveries are inserted set-based (one INSERT ... SELECT
per endpoint and batch): a 100,000-row bulk change is 100,000 events.
"""

from django.db import connections, router, transaction
from django.db.models import Q

from enrollments import clock
from enrollments.models import AccessEvent, WebhookDelivery, WebhookEndpoint

#: Events per fan-out transaction.
FAN_OUT_BATCH = 5000


def fan_out(*, batch: int = FAN_OUT_BATCH) -> set[int]:
    """Creates the deliveries of every event not fanned out yet, a batch per transaction;
    returns the endpoints that got new deliveries (their delivery jobs are due)."""
    touched: set[int] = set()
    while True:
        with transaction.atomic():
            ids = list(
                AccessEvent.objects.filter(fanned_out=False)
                .order_by("id")
                .select_for_update(skip_locked=True)
                .values_list("id", flat=True)[:batch]
            )
            if not ids:
                return touched
            # Locked (key order), so a disable waits for this batch's deliveries and cancels
            # them, and a disable that committed first leaves its endpoint out: read unlocked,
            # a fan-out that listed an endpoint just before its disable inserted pending
            # deliveries after the disable's cancel, sent on a later enable.
            enabled = (
                WebhookEndpoint.objects.filter(is_enabled=True)
                .order_by("pk")
                .select_for_update(no_key=True)
            )
            for endpoint in enabled:
                if _insert_deliveries(endpoint, ids):
                    touched.add(endpoint.pk)
            AccessEvent.objects.filter(id__in=ids).update(fanned_out=True)


def _insert_deliveries(endpoint: WebhookEndpoint, ids: list[int]) -> int:
    events = AccessEvent.objects.filter(id__in=ids)
    if endpoint.event_types:
        events = events.filter(Q(event_type__in=endpoint.event_types))
    return insert_deliveries(endpoint, events, clock.now())


def insert_deliveries(endpoint: WebhookEndpoint, events, now) -> int:
    """One INSERT ... SELECT of the endpoint's pending deliveries of `events` (a queryset of
    AccessEvent) that it has not got (ON CONFLICT DO NOTHING on the unique pair): the fan-out's
    and a replay's. Returns how many were created."""
    select_sql, params = events.order_by().values_list("id").query.sql_with_params()
    connection = connections[router.db_for_write(WebhookDelivery)]
    table = connection.ops.quote_name(WebhookDelivery._meta.db_table)
    now_db = WebhookDelivery._meta.get_field("created_at").get_db_prep_value(
        now, connection, prepared=False
    )
    # A quoted table name and the ORM's own SQL; every value is a parameter. WHERE true: SQLite
    # would read ON as a join constraint of the SELECT.
    sql = (
        f"INSERT INTO {table} (endpoint_id, event_id, state, attempts, created_at, "  # noqa: S608
        f"next_attempt_at, last_error) SELECT %s, picked.id, %s, 0, %s, %s, '' "
        f"FROM ({select_sql}) picked WHERE true ON CONFLICT DO NOTHING"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [endpoint.pk, WebhookDelivery.State.PENDING, now_db, now_db, *params])
        return max(cursor.rowcount, 0)


def unfanned() -> int:
    """Events whose fan-out has not run (its job lost, or no worker): the sweep's count."""
    return AccessEvent.objects.filter(fanned_out=False).count()
