"""A reminder e-mail gives the end of access in the learner's own zone (issue 26: learners were
told UTC): `User.time_zone`, the zone named; UTC, named, when the learner has none or one the
installed database does not know. The send job sends what `expiry_reminder_message` writes."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail

from enrollments.reminders import expiry_reminder_message
from tests.factories import EnrollmentFactory, UserFactory
from tests.jobs.worker import sweep_and_send

pytestmark = pytest.mark.django_db

#: 23:30 UTC on 2 January: already 3 January in Berlin and Tokyo, still the 2nd in New York.
ENDS = datetime(2026, 1, 2, 23, 30, tzinfo=UTC)


def message_for(zone: str):
    user = UserFactory(email="ann@example.com", first_name="Ann", time_zone=zone)
    enrollment = EnrollmentFactory(user=user, course__title="Python", ended_at=ENDS)
    return expiry_reminder_message(enrollment)


@pytest.mark.parametrize(
    ("zone", "day", "when"),
    [
        ("Europe/Berlin", "2026-01-03", "2026-01-03 at 00:30 CET (Europe/Berlin)"),
        ("America/New_York", "2026-01-02", "2026-01-02 at 18:30 EST (America/New_York)"),
        ("Asia/Tokyo", "2026-01-03", "2026-01-03 at 08:30 JST (Asia/Tokyo)"),
        ("", "2026-01-02", "2026-01-02 at 23:30 UTC"),  # no zone chosen: UTC, named
        ("Atlantis/Capital", "2026-01-02", "2026-01-02 at 23:30 UTC"),  # unknown: UTC
    ],
)
def test_the_end_is_in_the_learners_zone(zone, day, when):
    message = message_for(zone)
    assert message.subject == f"Your access to Python ends on {day}"
    assert f'your access to the course "Python" ends on {when}.' in message.body


def test_the_sent_reminder_is_in_the_learners_zone(clock):
    user = UserFactory(email="ann@example.com", time_zone="Europe/Berlin")
    # The frozen clock is 2026-01-01 00:00 UTC: the end is within the sweep's 7 days.
    EnrollmentFactory(user=user, start_at=clock.current - timedelta(days=10), ended_at=ENDS)
    sweep_and_send("--within", "7")
    [sent] = mail.outbox
    assert "ends on 2026-01-03 at 00:30 CET (Europe/Berlin)." in sent.body
    assert "UTC" not in sent.body
