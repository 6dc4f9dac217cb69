"""One time zone (issue 26): a staff member in Europe/Berlin reads every date of the admin in
Berlin time, the zone named, never UTC: the enroll and extend previews, the result message, the
job page, the course, user and API key pages, the 2038 limit's error. A form's time-zone field
reads its typed date and nothing more: the staff member's zone changes only on its own page."""

import pickle
import re
from datetime import UTC, datetime

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from apikeys.models import APIKey
from enrollments import errors
from enrollments.access_window import MAX_ENDED_AT
from enrollments.admin.reporting import error_text
from enrollments.models import OperationRun
from tests.admin.conftest import grant, logged_in
from tests.admin.helpers import confirm, post_action, preview
from tests.factories import CourseFactory, EnrollmentFactory, StaffFactory
from tests.jobs.worker import run_jobs

pytestmark = pytest.mark.django_db

BERLIN = "Europe/Berlin"
#: The 32-bit limit, 2038-01-19T03:14:07Z, as a staff member in Berlin reads it.
LIMIT_IN_BERLIN = "2038-01-19 04:14 CET"
ENROLL = "/admin/enrollments/enrollment/enroll/"


@pytest.fixture
def berliner(db):
    staff = StaffFactory(time_zone=BERLIN, is_superuser=True)
    return grant(staff, "view_enrollment", "change_enrollment", "extend_access", "enroll_learners")


@pytest.fixture
def client(berliner):
    return logged_in(berliner)


def text_of(response) -> str:
    """The page's words (tags removed), from its main content: the header names the zone."""
    html = response.content.decode()
    main = html[html.index('id="content"') :]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main))


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_the_enroll_preview_is_in_the_staff_zone(client, clock):
    course = CourseFactory(title="Python", access_days=30)
    known = EnrollmentFactory(course=course, ended_at=datetime(2026, 3, 1, 12, tzinfo=UTC))
    shown = client.post(
        ENROLL,
        {
            "course": str(course.pk),
            "learners": f"new@example.com,New Learner\n{known.user.email}",
            "ended_at": "2026-07-01 12:00",  # read in Berlin: 10:00 UTC
            "_preview": "1",
        },
    )
    assert shown.status_code == 200
    tables = {t["kind"]: t["rows"] for t in shown.context["preview"].tables}
    assert [note for _entry, note in tables["updated"]] == [
        "until 2026-03-01 13:00 CET → until 2026-07-01 12:00 CEST"
    ]
    text = text_of(shown)
    assert "Dates in Europe/Berlin." in text
    assert "UTC" not in text[text.index("will be enrolled") :]


def test_the_2038_limit_refusing_an_enrollment_is_in_the_staff_zone(client, clock):
    clock.advance(days=365 * 11)  # 2036-12-29: a course's 3,650 days end past 2038
    course = CourseFactory(title="Long", access_days=3650)
    shown = client.post(
        ENROLL,
        {"course": str(course.pk), "learners": "new@example.com,New Learner", "_preview": "1"},
    )
    tables = {t["kind"]: t["rows"] for t in shown.context["preview"].tables}
    assert [note for _entry, note in tables["refused"]] == [
        f"Access would end after {LIMIT_IN_BERLIN}, the latest supported end date"
    ]
    assert "UTC" not in text_of(shown).split("refused.", 1)[1]


def test_the_extend_preview_and_its_result_are_in_the_staff_zone(client, clock):
    course = CourseFactory(title="Python")
    near = EnrollmentFactory(course=course, ended_at=datetime(2036, 3, 1, 12, tzinfo=UTC))
    far = EnrollmentFactory(course=course, ended_at=datetime(2037, 12, 1, 12, tzinfo=UTC))
    page = post_action(client, "extend_access", [near.pk, far.pk])
    assert page.context["form"]["time_zone"].value() == BERLIN  # the typed end's zone
    shown = preview(client, page, days="60", time_zone=BERLIN)
    result = shown.context["preview"]
    [changed] = result.changed_rows
    assert (changed.current_end, changed.new_end) == (
        "2036-03-01 13:00 CET",
        "2036-04-30 14:00 CEST",
    )
    [skipped] = result.skipped_rows
    assert (
        skipped.reason == f"Invalid extension period (the extension ends after {LIMIT_IN_BERLIN})"
    )
    text = text_of(shown)
    preview_text = text[text.index("will be extended") :]
    assert "UTC" not in preview_text.split("Reason", 1)[0]

    done = confirm(client, shown, days="60", time_zone=BERLIN)
    assert done.status_code == 302
    words = " ".join(messages_of(done))
    assert f"the extension ends after {LIMIT_IN_BERLIN}" in words
    assert "UTC" not in words
    assert "2038-01-19T03:14:07Z" not in words


def test_a_forms_zone_reads_the_typed_end_and_never_changes_the_staff_zone(client, berliner, clock):
    enrollment = EnrollmentFactory(ended_at=datetime(2036, 3, 1, 12, tzinfo=UTC))
    page = post_action(client, "extend_access", [enrollment.pk])
    fields = {"mode": "until", "until": "2036-06-01T09:30", "time_zone": "Asia/Tokyo"}
    shown = preview(client, page, **fields)
    [row] = shown.context["preview"].changed_rows
    # 09:30 in Tokyo is 00:30 UTC, shown in the staff member's zone.
    assert row.new_end == "2036-06-01 02:30 CEST"
    assert shown.context["zone"].key == BERLIN
    assert "Dates in Europe/Berlin." in text_of(shown)
    confirm(client, shown, **fields)
    enrollment.refresh_from_db()
    assert enrollment.ended_at == datetime(2036, 6, 1, 0, 30, tzinfo=UTC)
    berliner.refresh_from_db()
    assert berliner.time_zone == BERLIN, "the admin's zone is the staff member's choice alone"
    again = post_action(client, "extend_access", [enrollment.pk])
    assert again.context["form"]["time_zone"].value() == BERLIN


def test_an_operation_page_no_longer_proposes_the_browsers_zone(db, clock):
    newcomer = grant(StaffFactory(time_zone=""), "view_enrollment", "extend_access")
    enrollment = EnrollmentFactory()
    client = logged_in(newcomer)
    page = client.get(
        reverse("admin:enrollments_enrollment_extend_access_one", args=[enrollment.pk])
    )
    assert "data-browser-zone-for" not in page.content.decode()
    assert page.context["form"]["time_zone"].value() == "UTC"  # the header says so too


def test_the_job_page_is_in_the_staff_zone(
    client, clock, settings, django_capture_on_commit_callbacks
):
    settings.RUNS = {"BACKGROUND_ABOVE": 3, "CHUNK_SIZE": 2, "STALE_AFTER_SECONDS": 120}
    course = CourseFactory(title="Big Course")
    rows = [
        EnrollmentFactory(course=course, ended_at=datetime(2036, 3, 1, 12, tzinfo=UTC))
        for _ in range(4)
    ]
    page = post_action(
        client,
        "extend_access",
        [rows[0].pk],
        select_across=True,
        query=f"course__id__exact={course.pk}",
    )
    shown = preview(client, page, days="30", time_zone=BERLIN)
    draft = shown.context["draft"]
    assert draft is not None, "a Select all above the threshold runs as a job"
    with django_capture_on_commit_callbacks(execute=True):
        confirm(client, shown, days="30", time_zone=BERLIN, run=str(draft.pk))
    run_jobs()
    run = OperationRun.objects.get(pk=draft.pk)
    assert run.finished_at is not None
    text = text_of(client.get(reverse("admin:enrollments_operationrun_change", args=[run.pk])))
    assert "2026-01-01 01:00 CET" in text  # created, started, finished: the frozen clock
    assert "UTC" not in text
    listing = text_of(client.get(reverse("admin:enrollments_operationrun_changelist")))
    assert "01:00 CET" in listing and "UTC" not in listing


def test_course_user_and_api_key_pages_name_the_zone(client, berliner, clock):
    course = CourseFactory(title="Python")
    course.__class__.objects.filter(pk=course.pk).update(
        created_at=datetime(2026, 1, 5, 9, tzinfo=UTC),
        updated_at=datetime(2026, 7, 5, 9, tzinfo=UTC),
    )
    learner = EnrollmentFactory(course=course).user
    learner.__class__.objects.filter(pk=learner.pk).update(
        date_joined=datetime(2026, 1, 5, 9, tzinfo=UTC), last_login=None
    )
    key, _secret = APIKey.objects.create_key(user=berliner, name="ci")
    pages = {
        reverse("admin:lms_course_change", args=[course.pk]): [
            "2026-01-05 10:00 CET",
            "2026-07-05 11:00 CEST",
        ],
        reverse("admin:lms_course_changelist"): ["2026-01-05 10:00 CET"],
        reverse("admin:lms_user_change", args=[learner.pk]): ["2026-01-05 10:00 CET"],
        reverse("admin:lms_user_changelist"): ["2026-01-05 10:00 CET"],
        reverse("admin:apikeys_apikey_change", args=[key.pk]): [],
    }
    for url, dates in pages.items():
        response = client.get(url)
        assert response.status_code == 200, url
        text = text_of(response)
        for date in dates:
            assert date in text, (url, date)
        # Every date and time on the page is followed by its zone.
        for match in re.finditer(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}(?: (\S+))?", text):
            assert match.group(1) in {"CET", "CEST"}, (url, match.group(0))
        assert " a.m." not in text and " p.m." not in text, url  # Django's own, zoneless


def test_errors_keep_utc_for_the_core_and_carry_their_instants():
    error = errors.InvalidExtensionPeriod(
        "the extension ends after {limit}", instants={"limit": MAX_ENDED_AT}
    )
    assert error.detail == "the extension ends after 2038-01-19T03:14:07Z"
    assert error.text() == (error.message, error.detail)
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.detail, copy.instants) == (error.detail, error.instants)
    # Each message written with its instants in UTC is the message the API gives, word for word.
    for kind in errors.ALL_ERRORS:
        if kind.message_template:
            assert kind().text()[0] == kind.message, kind
    assert errors.AccessEndOutOfRange().text(lambda at: f"{at:%Y}")[0] == (
        "Access would end after 2038, the latest supported end date"
    )


def test_the_admin_door_writes_an_errors_instants_in_the_active_zone(settings):
    from django.utils import timezone

    error = errors.InvalidAccessEnd(
        "the end is not after {limit}", instants={"limit": datetime(2020, 1, 1, tzinfo=UTC)}
    )
    with timezone.override(BERLIN):
        assert error_text(error) == f"{error.message} (the end is not after 2020-01-01 01:00 CET)"
    assert error_text(error).endswith("(the end is not after 2020-01-01 00:00 UTC)")
    assert str(error) == error.message


def test_an_unknown_detail_without_instants_is_kept_as_is():
    error = errors.InvalidAccessEnd("'{x}' is not an ISO 8601 date")
    assert error.detail == "'{x}' is not an ISO 8601 date"
    assert error.text() == (error.message, error.detail)
