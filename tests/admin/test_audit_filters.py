"""The audit trail's filters (issue 26 item 5, enrollments/admin/audit_filters.py): by course,
by actor (or no actor), by a from/to date range in the staff member's zone (bad dates: a clear
message, never a 500), each alone, together and with a search; the CSV export follows them; a
course staff member's course choices are their own. Batch ids are shown whole, copyable, and
e-mails are never broken inside a word."""

import csv
import io
import uuid
from datetime import UTC, datetime

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from enrollments.models import AccessChange
from tests.admin.conftest import grant, logged_in
from tests.factories import (
    AccessChangeFactory,
    CourseFactory,
    CourseRoleFactory,
    EnrollmentFactory,
    StaffFactory,
)

pytestmark = pytest.mark.django_db

TRAIL = reverse("admin:enrollments_accesschange_changelist")
BATCH = uuid.UUID("5b0c6a43-4a7e-4d8a-9a44-0c3f1d2e7a10")


def at(day: int, hour: int) -> datetime:
    return datetime(2026, 1, day, hour, 0, tzinfo=UTC)


@pytest.fixture
def trail(clock):
    """Four records: two courses, two actors and the system, on 1, 2 and 3 January (UTC)."""
    python = CourseFactory(title="Python Basics")
    sql = CourseFactory(title="SQL for Everyone")
    ann = StaffFactory(email="ann.with-a-long-address@university.example.edu")
    bob = StaffFactory(email="bob@example.com")
    rows = {
        "python-ann": AccessChangeFactory(
            enrollment=EnrollmentFactory(course=python, user__email="lena@example.com"),
            actor=ann,
            created_at=at(1, 10),
            batch_id=BATCH,
        ),
        # 23:30 UTC on the 1st is 00:30 on the 2nd in Berlin.
        "sql-ann": AccessChangeFactory(
            enrollment=EnrollmentFactory(course=sql, user__email="lena2@example.com"),
            actor=ann,
            created_at=at(1, 23).replace(minute=30),
        ),
        "python-bob": AccessChangeFactory(
            enrollment=EnrollmentFactory(course=python, user__email="max@example.com"),
            actor=bob,
            created_at=at(2, 12),
        ),
        "sql-system": AccessChangeFactory(
            enrollment=EnrollmentFactory(course=sql, user__email="max2@example.com"),
            actor=None,
            created_at=at(3, 8),
        ),
    }
    return {"python": python, "sql": sql, "ann": ann, "bob": bob, **rows}


@pytest.fixture
def client(trail):
    staff = grant(StaffFactory(time_zone="Europe/Berlin"), "view_accesschange")
    return logged_in(staff)


def listed(response) -> set[str]:
    assert response.status_code == 200
    return {str(change.pk) for change in response.context["cl"].result_list}


def ids(trail, *names: str) -> set[str]:
    return {str(trail[name].pk) for name in names}


def errors(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request) if m.level_tag == "error"]


def test_by_course(client, trail):
    response = client.get(TRAIL, {"course": trail["python"].pk})
    assert listed(response) == ids(trail, "python-ann", "python-bob")
    choices = [choice[1] for choice in response.context["cl"].filter_specs[2].lookup_choices]
    assert choices == ["Python Basics", "SQL for Everyone"]


def test_by_actor_and_no_actor(client, trail):
    assert listed(client.get(TRAIL, {"actor": trail["ann"].pk})) == ids(
        trail, "python-ann", "sql-ann"
    )
    assert listed(client.get(TRAIL, {"actor": "none"})) == ids(trail, "sql-system")
    response = client.get(TRAIL)
    assert [label for _value, label in response.context["cl"].filter_specs[3].lookup_choices] == [
        "No actor (system, commands)",
        trail["ann"].email,
        "bob@example.com",
    ]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # Days in Europe/Berlin: 23:30 UTC on the 1st is on the 2nd there.
        ({"created_from": "2026-01-02"}, ("sql-ann", "python-bob", "sql-system")),
        ({"created_to": "2026-01-01"}, ("python-ann",)),
        ({"created_from": "2026-01-02", "created_to": "2026-01-02"}, ("sql-ann", "python-bob")),
        ({"created_from": "2026-01-03", "created_to": "2026-01-03"}, ("sql-system",)),
    ],
)
def test_by_date_range_in_the_staff_members_zone(client, trail, query, expected):
    response = client.get(TRAIL, query)
    assert listed(response) == ids(trail, *expected)
    assert errors(response) == []
    assert "Days in Europe/Berlin, both included." in response.content.decode()


@pytest.mark.parametrize(
    "bad", ["2026-13-01", "yesterday", "01/02/2026", "0001-01-01", "9999-12-31", "2026-1-2"]
)
def test_a_bad_date_is_said_and_not_applied(client, trail, bad):
    response = client.get(TRAIL, {"created_from": bad, "created_to": "2026-01-01"})
    assert listed(response) == ids(trail, "python-ann")  # only the good bound applies
    (message,) = errors(response)
    assert message.startswith(f"From date “{bad}” is not a date: type it as YYYY-MM-DD")
    assert "The list is not filtered by it." in message
    assert "date-range-errors" in response.content.decode()


def test_from_after_to_matches_nothing_and_says_why(client, trail):
    response = client.get(TRAIL, {"created_from": "2026-01-03", "created_to": "2026-01-01"})
    assert listed(response) == set()
    assert errors(response) == [
        "The from date (2026-01-03) is after the to date (2026-01-01): no change matches."
    ]


@pytest.mark.parametrize("parameter", ["course", "actor"])
def test_a_crafted_id_matches_nothing_with_a_message(client, trail, parameter):
    response = client.get(TRAIL, {parameter: "not-an-id"})
    assert listed(response) == set()
    assert "is not a" in errors(response)[0]


def test_the_filters_together_and_with_a_search(client, trail):
    query = {
        "course": trail["python"].pk,
        "actor": trail["ann"].pk,
        "created_from": "2026-01-01",
        "created_to": "2026-01-02",
    }
    assert listed(client.get(TRAIL, query)) == ids(trail, "python-ann")
    assert listed(client.get(TRAIL, {**query, "q": "lena@example.com"})) == ids(trail, "python-ann")
    assert listed(client.get(TRAIL, {**query, "q": "max@example.com"})) == set()
    both_courses = {"actor": trail["ann"].pk, "q": "lena"}
    assert listed(client.get(TRAIL, both_courses)) == ids(trail, "python-ann", "sql-ann")
    # The date form keeps the other filters and the search (hidden fields).
    page = client.get(TRAIL, {**query, "q": "lena"}).content.decode()
    assert f'<input type="hidden" name="course" value="{trail["python"].pk}">' in page
    assert '<input type="hidden" name="q" value="lena">' in page


def test_the_csv_export_follows_the_filters(client, trail):
    export = reverse("admin:enrollments_accesschange_export")
    response = client.get(export, {"course": trail["sql"].pk, "created_from": "2026-01-03"})
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(body)))
    assert [row["learner e-mail"] for row in rows] == ["max2@example.com"]


def test_a_course_staff_member_chooses_among_their_courses_only(trail):
    staff = StaffFactory()
    CourseRoleFactory(user=staff, course=trail["sql"])
    response = logged_in(staff).get(TRAIL)
    assert listed(response) == ids(trail, "sql-ann", "sql-system")
    specs = response.context["cl"].filter_specs
    assert [label for _v, label in specs[2].lookup_choices] == ["SQL for Everyone"]
    # Actors: only those who changed something in their course.
    assert [label for _v, label in specs[3].lookup_choices] == [
        "No actor (system, commands)",
        trail["ann"].email,
    ]
    # Another course asked for by a crafted link: nothing of it.
    assert listed(logged_in(staff).get(TRAIL, {"course": trail["python"].pk})) == set()


def test_batch_id_shown_whole_and_selectable(client, trail):
    page = client.get(TRAIL).content.decode()
    whole = "-<wbr>".join(str(BATCH).split("-"))
    assert f'<code class="batch-id">{whole}</code>' in page
    assert f'href="{TRAIL}?batch_id={BATCH}" class="batch-link"' in page
    assert f"{str(BATCH)[:8]}…" not in page


def test_an_enrollments_history_shows_the_batch_id_whole(trail):
    staff = grant(StaffFactory(), "view_enrollment")
    enrollment = trail["python-ann"].enrollment
    page = logged_in(staff).get(
        reverse("admin:enrollments_enrollment_change", args=[enrollment.pk])
    )
    assert '<code class="batch-id">' + "-<wbr>".join(str(BATCH).split("-")) in page.content.decode()


def test_emails_break_only_before_the_at_sign(client, trail):
    page = client.get(TRAIL).content.decode()
    assert (
        '<span class="email"><span>ann.with-a-long-address</span><wbr>'
        "<span>@university.example.edu</span></span>"
    ) in page


def test_statements_do_not_grow_with_the_filters_choices(client, trail):
    client.get(TRAIL)
    with CaptureQueriesContext(connection) as before:
        client.get(TRAIL)
    for n in range(4):
        AccessChangeFactory(
            enrollment=EnrollmentFactory(course=CourseFactory()),
            actor=StaffFactory(),
            created_at=at(4, n),
            action=AccessChange.Action.PAUSE,
        )
    with CaptureQueriesContext(connection) as after:
        client.get(TRAIL)
    assert len(before) == len(after)
