"""What a previewed change will send: how many events, to how many webhook endpoints (issue 24:
the admin's and the commands' previews say it before anyone confirms)."""

from collections.abc import Iterable
from dataclasses import dataclass

from enrollments import clock
from enrollments.events.records import event_of
from enrollments.models import WebhookEndpoint


@dataclass(frozen=True, slots=True)
class PlannedDeliveries:
    events: int
    endpoints: int

    def sentence(self, lead: str) -> str:
        """ "<lead> sends 3 events to 2 webhook endpoints." (lead: "Confirming", "Applying
        this plan"), or that no endpoint receives them."""
        events = f"{self.events:,} event{'s' if self.events != 1 else ''}"
        if not self.endpoints:
            these = "this" if self.events == 1 else "these"
            return f"No enabled webhook endpoint receives {these} {events}: nothing is sent."
        endpoints = f"{self.endpoints} webhook endpoint{'s' if self.endpoints != 1 else ''}"
        return f"{lead} sends {events} to {endpoints}."


def planned_deliveries(changes: Iterable, *, events: int | None = None) -> PlannedDeliveries:
    """The events of `changes` (a plan's, or a sample of them when `events` gives their
    number: a preview by counts) and the enabled endpoints that receive at least one of their
    types (an endpoint without a list receives every type)."""
    now = clock.now()
    changes = list(changes)
    types = {event_of(change, start_at=None, now=now)[0] for change in changes}
    endpoints = sum(
        1
        for wanted in WebhookEndpoint.objects.filter(is_enabled=True).values_list(
            "event_types", flat=True
        )
        if not wanted or types & set(wanted)
    )
    return PlannedDeliveries(
        events if events is not None else len(changes), endpoints if types else 0
    )
