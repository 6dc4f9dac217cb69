""" "Enroll learners…": the lines pasted (or uploaded). How many the 5,000-learner limit counts
(the learners named, not the lines: a header is not a learner, where 5,001 learners without
one used to pass a check meant to allow a header), and how a line's end is read: in the staff
member's zone, as the page's "End of access" field reads a date (docs/admin.md), unless it
gives an offset or Z. A line's end without offset used to be read as UTC (the commands' rule,
docs/commands.md, which stays theirs)."""

from datetime import UTC, datetime

import pytest

from enrollments.models import Enrollment
from enrollments.operations.enrolling_learners import MAX_ENTRIES
from tests.admin.conftest import grant, logged_in
from tests.factories import CourseFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/admin/enrollments/enrollment/enroll/"
#: Midnight of 2027-06-01 in Berlin (summer time, UTC+2).
MIDNIGHT_IN_BERLIN = datetime(2027, 5, 31, 22, 0, tzinfo=UTC)


@pytest.fixture
def course():
    return CourseFactory(title="Python", access_days=30)


@pytest.fixture
def berlin_client():
    """An enroller whose time zone is Europe/Berlin."""
    staff = grant(StaffFactory(time_zone="Europe/Berlin"), "view_enrollment", "enroll_learners")
    return logged_in(staff)


def preview(client, course, learners: str, ended_at: str = ""):
    return client.post(
        URL, {"course": str(course.pk), "learners": learners, "ended_at": ended_at, "_preview": "1"}
    )


def confirm(client, shown):
    form = shown.context["form"]
    data = {
        "course": form.data["course"],
        "learners": form.data["learners"],
        "ended_at": form.data.get("ended_at", ""),
        "reason": "",
        "fingerprint": shown.context["fingerprint"],
        "_confirm": "1",
    }
    return client.post(URL, data)


def end_enrolled(client, course, line: str, ended_at: str = "") -> datetime:
    """Previews and confirms one line; the end its learner got."""
    shown = preview(client, course, line, ended_at)
    assert shown.status_code == 200 and shown.context["preview"] is not None
    assert confirm(client, shown).status_code == 302
    email = line.split(",")[0]
    return Enrollment.objects.get(user__email=email, course=course).ended_at


def refused_lines(shown) -> dict[int, str]:
    (table,) = [t for t in shown.context["preview"].tables if t["kind"] == "refused"]
    return {entry.line: note for entry, note in table["rows"]}


# -- the limit --------------------------------------------------------------------------------


def learners(count: int) -> list[str]:
    return [f"learner{n}@example.com,Learner {n}" for n in range(count)]


def test_5001_learners_without_a_header_are_refused(enroller_client, course):
    """The page's help ("At most 5,000 lines.") and refusal ("Too many lines: at most 5,000
    learners at a time."): 5,001 learners are refused at the field, nothing previewed."""
    shown = enroller_client.post(
        URL,
        {
            "course": str(course.pk),
            "learners": "\n".join(learners(MAX_ENTRIES + 1)),
            "_preview": "1",
        },
    )
    assert shown.status_code == 200
    preview_shown = shown.context["preview"]
    counted = preview_shown.counts if preview_shown is not None else None
    assert "learners" in shown.context["form"].errors, (
        f"{MAX_ENTRIES + 1} learners were accepted: preview counts {counted}"
    )
    (error,) = shown.context["form"].errors["learners"]
    assert error == "Too many lines: at most 5,000 learners at a time."
    assert preview_shown is None


def test_5000_learners_with_a_header_and_blank_lines_are_read(enroller_client, course):
    """A header and blank lines name no learner: 5,000 learners among 5,003 lines pass."""
    text = "\n".join(["email,name", *learners(MAX_ENTRIES), "", "   "])
    shown = enroller_client.post(URL, {"course": str(course.pk), "learners": text, "_preview": "1"})
    assert shown.status_code == 200
    assert not shown.context["form"].errors
    assert shown.context["preview"].counts["enrolled"] == MAX_ENTRIES


# -- a line's end -----------------------------------------------------------------------------


def test_a_lines_end_is_read_in_the_staff_members_zone_like_the_field(berlin_client, course):
    """The reviewer's case: a staff member in Europe/Berlin who types 2027-06-01 00:00 gets
    midnight in Berlin, on a line ("ann@example.com,Ann,2027-06-01T00:00") as in the field
    ("End of access: Optional, in your time zone"); the line's used to be 02:00 CEST."""
    UserFactory(email="ann@example.com")
    UserFactory(email="bob@example.com")

    by_field = end_enrolled(berlin_client, course, "bob@example.com", ended_at="2027-06-01 00:00")
    by_line = end_enrolled(berlin_client, course, "ann@example.com,Ann,2027-06-01T00:00")

    assert by_field == MIDNIGHT_IN_BERLIN
    assert by_line == by_field, f"the line's 00:00 was read as {by_line:%Y-%m-%d %H:%M} UTC"


@pytest.mark.parametrize(
    "end,expected",
    [
        ("2027-06-01", MIDNIGHT_IN_BERLIN),  # a date alone: midnight in the zone
        ("2027-06-01T00:00+02:00", MIDNIGHT_IN_BERLIN),  # an offset: as written
        ("2027-06-01T00:00Z", datetime(2027, 6, 1, tzinfo=UTC)),  # Z: UTC
        ("2027-01-15T09:30", datetime(2027, 1, 15, 8, 30, tzinfo=UTC)),  # winter time, UTC+1
    ],
)
def test_a_lines_end_without_offset_is_in_the_zone_and_with_one_as_written(
    berlin_client, course, end, expected
):
    UserFactory(email="ann@example.com")
    assert end_enrolled(berlin_client, course, f"ann@example.com,Ann,{end}") == expected


def test_a_line_ending_at_a_time_the_clocks_skip_is_refused_on_its_line(berlin_client, course):
    """02:30 on 2027-03-28 does not exist in Berlin (the clocks go from 02:00 to 03:00): the
    line is refused with the field's words rather than guessed."""
    UserFactory(email="ann@example.com")
    UserFactory(email="bob@example.com")
    shown = preview(
        berlin_client, course, "ann@example.com,Ann,2027-03-28T02:30\nbob@example.com,Bob"
    )
    assert shown.status_code == 200 and not shown.context["form"].errors
    refused = refused_lines(shown)
    assert list(refused) == [1]
    assert "does not exist in Europe/Berlin" in refused[1]
    assert shown.context["preview"].counts["enrolled"] == 1


def test_a_lines_end_is_read_in_utc_for_staff_in_utc(enroller_client, course):
    """Staff who never chose a zone are in UTC: 00:00 on a line is 00:00 UTC, as before."""
    UserFactory(email="ann@example.com")
    ended = end_enrolled(enroller_client, course, "ann@example.com,Ann,2027-06-01T00:00")
    assert ended == datetime(2027, 6, 1, tzinfo=UTC)
