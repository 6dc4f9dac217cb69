"""The one clock the operation core, progress, reminders and selectors read.

They call `clock.now()` instead of `timezone.now()` so that tests can freeze or move time in
one place (see the `clock` fixture in tests/conftest.py).
"""

from datetime import datetime

from django.utils import timezone


def now() -> datetime:
    """The current instant, timezone-aware, in UTC."""
    return timezone.now()
