"""The admin's "Enroll learners…" page: the changelist button, preview (enrolled / restored /
updated / unchanged / refused with line numbers), Confirm applies exactly the preview (once),
CSV upload, the line limit, permissions."""

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from enrollments.models import AccessChange, Enrollment
from enrollments.operations import Remove, Selection, apply
from enrollments.operations.audit import Attribution
from enrollments.operations.enrolling_learners import MAX_ENTRIES
from lms.models import User
from tests.admin.conftest import grant, logged_in
from tests.admin.helpers import changelist_url
from tests.commands.conftest import snapshot
from tests.factories import CourseFactory, EnrollmentFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/admin/enrollments/enrollment/enroll/"


def world() -> dict:
    return {**snapshot(), "users": sorted(User.objects.values_list("email", flat=True))}


@pytest.fixture
def enroller_client(db):
    return logged_in(grant(StaffFactory(), "view_enrollment", "enroll_learners"))


@pytest.fixture
def course(db):
    return CourseFactory(title="Python", access_days=30)


def preview(client, course, learners="", **extra):
    return client.post(
        URL, {"course": str(course.pk), "learners": learners, "_preview": "1", **extra}
    )


def confirm(client, shown, **extra):
    form = shown.context["form"]
    data = {
        "course": form.data["course"],
        "learners": form.data["learners"],
        "ended_at": form.data.get("ended_at", ""),
        "reason": form.data.get("reason", ""),
        "fingerprint": shown.context["fingerprint"],
        "_confirm": "1",
        **extra,
    }
    return client.post(URL, data)


def rows(response, kind):
    table = next(t for t in response.context["preview"].tables if t["kind"] == kind)
    return [(entry.line, entry.user, note) for entry, note in table["rows"]]


def test_the_changelist_offers_the_page_to_staff_who_may_enroll(enroller_client):
    page = enroller_client.get(changelist_url())
    assert reverse("admin:enrollments_enrollment_enroll") == URL
    assert "Enroll learners…" in page.content.decode()
    viewer = logged_in(grant(StaffFactory(), "view_enrollment"))
    assert "Enroll learners…" not in viewer.get(changelist_url()).content.decode()


def test_the_empty_form(enroller_client, course):
    page = enroller_client.get(URL)
    assert page.status_code == 200 and page.context["preview"] is None


def test_preview_names_every_outcome_and_writes_nothing(enroller_client, course, clock):
    UserFactory(email="ann@example.com")
    removed = EnrollmentFactory(course=course, user=UserFactory(email="bob@example.com"))
    apply(Remove(), Selection.named([removed.pk]), Attribution(None, AccessChange.Source.SYSTEM))
    EnrollmentFactory(course=course, user=UserFactory(email="cy@example.com"))
    learners = "\n".join(
        [
            "ann@example.com",
            "bob@example.com",
            "cy@example.com",
            "new@example.com,New Person",
            "not-an-address",
            "nameless@example.com",
            "ann@example.com",
            "",
            "dee@example.com,Dee,someday",
        ]
    )
    before = world()
    shown = preview(enroller_client, course, learners)
    assert shown.status_code == 200
    assert world() == before
    assert shown.context["preview"].counts == {
        "enrolled": 2,
        "restored": 1,
        "updated": 0,
        "unchanged": 1,
        "refused": 4,
    }
    assert [line for line, _u, _n in rows(shown, "enrolled")] == [1, 4]
    assert rows(shown, "restored")[0][:2] == (2, "bob@example.com")
    assert [(line, user) for line, user, _n in rows(shown, "refused")] == [
        (5, "not-an-address"),
        (6, "nameless@example.com"),
        (7, "ann@example.com"),
        (9, "dee@example.com"),
    ]
    assert "Name is required when creating a new user" in rows(shown, "refused")[1][2]


def test_confirm_applies_the_preview_once(enroller_client, course, clock):
    removed = EnrollmentFactory(course=course, user=UserFactory(email="bob@example.com"))
    apply(Remove(), Selection.named([removed.pk]), Attribution(None, AccessChange.Source.SYSTEM))
    shown = preview(
        enroller_client,
        course,
        "bob@example.com\nnew@example.com,New Person",
        reason="cohort 7",
    )
    done = confirm(enroller_client, shown)
    assert done.status_code == 302, done.context and done.context["error"]
    texts = [str(m) for m in get_messages(done.wsgi_request)]
    assert "Enrolled 1 learner (1 new account); restored 1." in texts
    removed.refresh_from_db()
    assert removed.removed_at is None
    new = User.objects.get(email="new@example.com")
    assert Enrollment.objects.get(user=new).ended_at == clock.current + timedelta(days=30)
    audits = AccessChange.objects.filter(action="enroll")
    assert {(a.source, a.reason, a.actor.is_staff) for a in audits} == {("admin", "cohort 7", True)}
    assert audits.count() == 2 and len({a.batch_id for a in audits}) == 1

    before = world()
    again = confirm(enroller_client, shown)
    assert again.status_code == 200
    assert "changed since the preview" in again.context["error"]
    assert world() == before


def test_a_given_end_in_the_staff_zone_updates_active_enrollments(enroller_client, course, clock):
    active = EnrollmentFactory(course=course, user=UserFactory(email="ann@example.com"))
    shown = preview(enroller_client, course, "ann@example.com", ended_at="2027-05-01 12:00")
    assert rows(shown, "updated")[0][:2] == (1, "ann@example.com")
    assert confirm(enroller_client, shown).status_code == 302
    active.refresh_from_db()
    assert active.ended_at == datetime(2027, 5, 1, 12, tzinfo=UTC)  # the staff has no zone: UTC


def test_csv_upload_keeps_the_file_lines(enroller_client, course, clock):
    upload = SimpleUploadedFile(
        "learners.csv",
        b"email,name,ended_at\nann@example.com,Ann A,2027-01-01\nbad,,\n",
        content_type="text/csv",
    )
    shown = enroller_client.post(
        URL, {"course": str(course.pk), "csv_file": upload, "_preview": "1"}
    )
    assert shown.status_code == 200
    assert [line for line, _u, _n in rows(shown, "enrolled")] == [2]
    assert [line for line, _u, _n in rows(shown, "refused")] == [3]
    assert shown.context["form"].data["learners"].startswith("email,name,ended_at")
    assert confirm(enroller_client, shown).status_code == 302
    enrollment = Enrollment.objects.get(user__email="ann@example.com")
    assert enrollment.ended_at == datetime(2027, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    "learners,field",
    [
        ("", "learners"),
        ("a@example.com\n" * (MAX_ENTRIES + 2), "learners"),
        ("bad\x00", "learners"),
    ],
)
def test_bad_input_is_a_form_error_and_changes_nothing(enroller_client, course, learners, field):
    before = world()
    shown = preview(enroller_client, course, learners)
    assert shown.status_code == 200 and field in shown.context["form"].errors
    assert shown.context["preview"] is None
    assert world() == before


def test_bad_end_and_unknown_course_are_form_errors(enroller_client, course):
    shown = enroller_client.post(
        URL, {"course": "nope", "learners": "a@example.com", "ended_at": "soon", "_preview": "1"}
    )
    assert set(shown.context["form"].errors) == {"course", "ended_at"}


def test_needs_the_enroll_permission(db, course):
    client = logged_in(grant(StaffFactory(), "view_enrollment", "add_enrollment"))
    before = world()
    assert client.get(URL).status_code == 403
    response = client.post(
        URL, {"course": str(course.pk), "learners": "new@example.com,N N", "_confirm": "1"}
    )
    assert response.status_code == 403
    assert world() == before
