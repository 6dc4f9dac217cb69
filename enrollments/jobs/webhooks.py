"""The events' jobs: the fan-out of recorded events into deliveries, and each endpoint's
deliveries (enrollments/events/).

A commit that recorded events queues one fan-out (`fan_out_soon`, through events.announce);
the fan-out queues one delivery job per endpoint that got deliveries, so a slow or failing
endpoint delays only its own. The sweep (`manage.py jobs sweep`) fans out what a lost job left.
"""

from datetime import datetime

from django_tasks import task

from enrollments.events import clock
from enrollments.events import fan_out as fanning


def sweep_events() -> tuple[int, int, int]:
    """What `manage.py jobs sweep` does for the events: records the clock's transitions
    (events.clock), then delivery.sweep (fans out the events waiting for it, queues the jobs
    of endpoints whose deliveries stalled or whose worker died mid-send); returns (events
    recorded, events fanned out, endpoints queued)."""
    from enrollments.events import delivery

    recorded = clock.sweep_clock()
    swept = delivery.sweep()
    return recorded, swept["events_fanned_out"], swept["endpoints_queued"]


def fan_out_soon() -> None:
    """Queues the fan-out job (called once its transaction committed)."""
    fan_out_events.enqueue()


@task()
def fan_out_events() -> dict[str, int]:
    """Creates the deliveries of every event not fanned out yet; queues their endpoints'
    delivery jobs."""
    endpoints = fanning.fan_out()
    for endpoint_id in sorted(endpoints):
        deliver_to_endpoint.enqueue(endpoint_id)
    return {"endpoints": len(endpoints)}


def queue_delivery(endpoint_id: int, *, run_after: datetime | None = None) -> None:
    """Queues the endpoint's delivery job, now or at `run_after` (its next retry)."""
    job = (
        deliver_to_endpoint if run_after is None else deliver_to_endpoint.using(run_after=run_after)
    )
    job.enqueue(endpoint_id)


@task()
def deliver_to_endpoint(endpoint_id: int) -> dict[str, int]:
    """Sends the endpoint's due deliveries (events/delivery.py)."""
    from enrollments.events import delivery

    return delivery.deliver_due(endpoint_id)
