"""Changes through the core that the webhook tests deliver: one extension, or `count` of them
with their events fanned out."""

from datetime import timedelta

from enrollments.events import fan_out
from enrollments.models import AccessChange, AccessEvent
from enrollments.operations import Extend, apply_to_one
from enrollments.operations.audit import Attribution
from tests.factories import EnrollmentFactory

DAY = timedelta(days=1)


def extend(enrollment, days=30):
    by = Attribution(None, AccessChange.Source.GRAPHQL, "")
    return apply_to_one(Extend(days=days), enrollment, by)


def events(count, clock):
    """`count` changes through the core, their events fanned out."""
    for _ in range(count):
        enrollment = EnrollmentFactory(
            start_at=clock.current - 10 * DAY, ended_at=clock.current + 10 * DAY
        )
        extend(enrollment)
    fan_out.fan_out()
    return list(AccessEvent.objects.order_by("id"))
