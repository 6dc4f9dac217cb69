"""The one clock the operation core, progress, reminders and selectors read.

They call `clock.now()` instead of `timezone.now()` so that tests can freeze or move time in
one place (see the `clock` fixture in tests/conftest.py).
"""

from datetime import datetime

from django.utils import timezone


def now() -> datetime:
    """The current instant, timezone-aware, in UTC."""
    return timezone.now()


#: The request attribute `request_now` keeps its instant in.
REQUEST_ATTRIBUTE = "enrollments_now"


def request_now(request: object) -> datetime:
    """One instant per request, read on first use: an answer that reads access "now" in
    several places (a filter on the access state, then each membership's access_state and
    has_access) reads it at this one instant, so no membership says ACTIVE and has no access
    in one answer, and a list filtered to ACTIVE holds no row that ended as it was read."""
    at = getattr(request, REQUEST_ATTRIBUTE, None)
    if at is None:
        at = now()
        setattr(request, REQUEST_ATTRIBUTE, at)
    return at
