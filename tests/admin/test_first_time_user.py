"""The admin for a first-time user: one time zone (the staff member's, chosen once), every date
with its zone, "History" leading to the access-change trail, plain breadcrumbs, previews in
natural order."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from enrollments.admin.display import format_instant, instant_cell, natural_key
from enrollments.models import AccessChange
from tests.admin.conftest import grant, logged_in
from tests.admin.helpers import changelist_url, post_action, preview
from tests.factories import AccessChangeFactory, CourseFactory, EnrollmentFactory, UserFactory

TIME_ZONE_PAGE = "admin_time_zone"
END = datetime(2036, 3, 1, 12, 0, tzinfo=UTC)  # 13:00 CET in Berlin


@pytest.fixture
def enrollment(db):
    return EnrollmentFactory(
        user__email="ann@example.com",
        course=CourseFactory(title="Python Basics"),
        start_at=datetime(2026, 7, 1, 8, 0, tzinfo=UTC),  # 10:00 CEST
        ended_at=END,
    )


@pytest.fixture
def berliner(operator):
    operator.time_zone = "Europe/Berlin"
    operator.save(update_fields=["time_zone"])
    return grant(operator, "view_accesschange")


# -- the time zone -------------------------------------------------------------------------


def test_until_chosen_dates_are_utc_and_the_header_says_so(operator_client, enrollment):
    html = operator_client.get(changelist_url()).content.decode()
    assert "Dates in UTC: choose your time zone" in html
    assert '2036-03-01 <span class="instant-time">12:00 UTC</span>' in html


def test_the_chosen_zone_is_used_for_every_date(berliner, enrollment):
    AccessChangeFactory(
        enrollment=enrollment,
        created_at=datetime(2026, 1, 5, 9, 0, tzinfo=UTC),
        old_ended_at=END - timedelta(days=30),
        new_ended_at=END,
        source=AccessChange.Source.ADMIN,
        actor=berliner,
        reason="ticket 4711",
    )
    client = logged_in(berliner)
    listing = client.get(changelist_url()).content.decode()
    assert "Time zone: <strong>Europe/Berlin</strong>" in listing
    assert '2036-03-01 <span class="instant-time">13:00 CET</span>' in listing
    assert '2026-07-01 <span class="instant-time">10:00 CEST</span>' in listing

    change_page = client.get(
        reverse("admin:enrollments_enrollment_change", args=[enrollment.pk])
    ).content.decode()
    assert "2036-03-01 13:00 CET" in change_page  # end of access
    assert '2026-01-05 <span class="instant-time">10:00 CET</span>' in change_page  # history

    audits = client.get(reverse("admin:enrollments_accesschange_changelist")).content.decode()
    assert '2026-01-05 <span class="instant-time">10:00 CET</span>' in audits
    record = AccessChange.objects.get()
    detail = client.get(
        reverse("admin:enrollments_accesschange_change", args=[record.pk])
    ).content.decode()
    assert "2026-01-05 10:00 CET" in detail
    assert "2036-03-01 13:00 CET" in detail


def test_no_date_on_the_staff_pages_lacks_its_zone(berliner, enrollment):
    client = logged_in(berliner)
    for url in (
        changelist_url(),
        reverse("admin:enrollments_enrollment_change", args=[enrollment.pk]),
        reverse("admin:enrollments_enrollment_extend_access_one", args=[enrollment.pk]),
    ):
        text = re.sub(r"<[^>]+>", " ", client.get(url).content.decode())
        dates = list(re.finditer(r"\d{4}-\d{2}-\d{2}\s+\d{2}:\d{2}(\s+\S+)?", text))
        assert dates, url
        for match in dates:
            assert (match.group(1) or "").strip() in {"CET", "CEST"}, (url, match.group(0))


def test_choosing_a_zone_on_its_page_keeps_it(operator, operator_client):
    url = reverse(TIME_ZONE_PAGE)
    page = operator_client.get(url + "?next=/admin/enrollments/enrollment/")
    assert page.status_code == 200
    assert page.context["zone_from_browser"], "the browser's zone is proposed on a first visit"
    assert 'data-browser-zone-for="id_time_zone"' in page.content.decode()
    done = operator_client.post(
        url, {"time_zone": "America/New_York", "next": "/admin/enrollments/enrollment/"}
    )
    assert done.status_code == 302
    assert done["Location"] == "/admin/enrollments/enrollment/"
    operator.refresh_from_db()
    assert operator.time_zone == "America/New_York"
    again = operator_client.get(url)
    assert not again.context["zone_from_browser"]
    assert again.context["form"]["time_zone"].value() == "America/New_York"


@pytest.mark.parametrize("bad", ["Mars/Olympus", "", "Europe/Berlin\x00", "x" * 500])
def test_an_unknown_zone_is_refused_and_changes_nothing(operator, operator_client, bad):
    shown = operator_client.post(reverse(TIME_ZONE_PAGE), {"time_zone": bad})
    assert shown.status_code == 200
    assert "time_zone" in shown.context["form"].errors
    operator.refresh_from_db()
    assert operator.time_zone == ""


@pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example/x", "javascript:1"])
def test_the_page_never_redirects_off_site(operator_client, next_url):
    done = operator_client.post(
        reverse(TIME_ZONE_PAGE), {"time_zone": "Europe/Berlin", "next": next_url}
    )
    assert done["Location"] == reverse("admin:index")


def test_the_time_zone_page_is_for_staff_only(db, client):
    assert client.get(reverse(TIME_ZONE_PAGE)).status_code == 302  # to the log-in page
    learner = logged_in(UserFactory())
    response = learner.post(reverse(TIME_ZONE_PAGE), {"time_zone": "Europe/Berlin"})
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_a_stored_zone_that_no_longer_exists_falls_back_to_utc(operator, enrollment):
    operator.time_zone = "Atlantis/Capital"
    operator.save(update_fields=["time_zone"])
    html = logged_in(operator).get(changelist_url()).content.decode()
    assert '2036-03-01 <span class="instant-time">12:00 UTC</span>' in html


def test_the_extend_form_starts_in_the_staff_zone_and_never_changes_it(
    operator, operator_client, enrollment
):
    """Issue 26: previewing with another zone in the form had switched the whole admin's."""
    page = post_action(operator_client, "extend_access", [enrollment.pk])
    assert page.context["form"]["time_zone"].value() == "UTC"
    shown = preview(operator_client, page, days="3", time_zone="Asia/Tokyo")
    assert shown.context["preview"].changed_rows[0].current_end == "2036-03-01 12:00 UTC"
    operator.refresh_from_db()
    assert operator.time_zone == ""
    listing = operator_client.get(changelist_url()).content.decode()
    assert '2036-03-01 <span class="instant-time">12:00 UTC</span>' in listing


def test_the_api_keeps_utc_whatever_the_staff_zone(berliner, enrollment):
    """The middleware touches admin requests only."""
    from django.utils import timezone

    from enrollments.admin.time_zone import StaffTimeZoneMiddleware

    seen = []
    middleware = StaffTimeZoneMiddleware(
        lambda request: seen.append(timezone.get_current_timezone_name())
    )

    class Request:
        user = berliner

        def __init__(self, path):
            self.path = path

    middleware(Request("/graphql/"))
    middleware(Request("/admin/enrollments/"))
    assert seen == ["UTC", "Europe/Berlin"]
    assert timezone.get_current_timezone_name() == "UTC", "deactivated after the request"


def test_display_helpers_write_the_zone():
    assert format_instant(END) == "2036-03-01 12:00 UTC"
    assert format_instant(None) == "Indefinite"
    assert 'datetime="2036-03-01T12:00:00+00:00"' in instant_cell(END)
    assert "Indefinite" in instant_cell(None)


# -- history, breadcrumbs, natural order -----------------------------------------------------


def test_history_opens_the_access_change_trail(berliner, enrollment):
    AccessChangeFactory(enrollment=enrollment)
    AccessChangeFactory()  # another enrollment's
    client = logged_in(berliner)
    response = client.get(reverse("admin:enrollments_enrollment_history", args=[enrollment.pk]))
    trail = reverse("admin:enrollments_accesschange_changelist")
    assert response.status_code == 302
    assert response["Location"] == f"{trail}?enrollment__id__exact={enrollment.pk}"
    page = client.get(response["Location"])
    assert page.context["cl"].result_count == 1
    assert "History of ann@example.com in Python Basics" in page.content.decode()
    # An audit record's own "History" is its enrollment's trail too.
    record = AccessChange.objects.filter(enrollment=enrollment).get()
    again = client.get(reverse("admin:enrollments_accesschange_history", args=[record.pk]))
    assert again["Location"] == response["Location"]


def test_history_without_the_audit_permission_goes_to_the_pages_history(viewer_client, enrollment):
    response = viewer_client.get(
        reverse("admin:enrollments_enrollment_history", args=[enrollment.pk])
    )
    assert response.status_code == 302
    assert response["Location"].endswith(f"/{enrollment.pk}/change/#access_changes-group")


@pytest.mark.parametrize("object_id", ["not-a-uuid", "6b0f8a5e-0000-4000-8000-000000000000"])
def test_history_of_an_unknown_enrollment_is_not_found(operator_client, object_id):
    response = operator_client.get(
        reverse("admin:enrollments_enrollment_history", args=[object_id])
    )
    assert response.status_code == 302
    assert response["Location"] == changelist_url()


def breadcrumbs(html: str) -> str:
    crumbs = html.split('<div class="breadcrumbs">', 1)[1].split("</div>", 1)[0]
    return " ".join(re.sub(r"<[^>]+>", " ", crumbs).replace("&rsaquo;", "›").split())


def test_breadcrumbs_are_plain(operator, operator_client, enrollment):
    grant(operator, "add_enrollment", "enroll_learners")
    listing = operator_client.get(changelist_url()).content.decode()
    assert breadcrumbs(listing) == "Home › Course access › Enrollments"
    change = operator_client.get(
        reverse("admin:enrollments_enrollment_change", args=[enrollment.pk])
    ).content.decode()
    assert (
        breadcrumbs(change)
        == "Home › Course access › Enrollments › ann@example.com in Python Basics"
    )
    extend = operator_client.get(
        reverse("admin:enrollments_enrollment_extend_access_one", args=[enrollment.pk])
    ).content.decode()
    assert breadcrumbs(extend) == (
        "Home › Course access › Enrollments › ann@example.com in Python Basics › Extend access"
    )
    add = operator_client.get(reverse("admin:enrollments_enrollment_add")).content.decode()
    assert breadcrumbs(add) == "Home › Course access › Enrollments › Add enrollment"


def test_natural_key_orders_numbers_as_numbers():
    names = ["learner10@x", "learner3@x", "Learner2@x", "learner1@x", "learner03b@x"]
    assert sorted(names, key=natural_key) == [
        "learner1@x",
        "Learner2@x",
        "learner3@x",
        "learner03b@x",
        "learner10@x",
    ]


def test_preview_rows_are_in_natural_order(operator_client, clock):
    course = CourseFactory(title="Python Basics")
    rows = [
        EnrollmentFactory(
            user__email=f"learner{n}@example.com",
            course=course,
            start_at=clock.current - timedelta(days=1),
            ended_at=clock.current + timedelta(days=5),
        )
        for n in (10, 3, 1, 20, 2)
    ]
    page = post_action(operator_client, "extend_access", [e.pk for e in rows])
    shown = preview(operator_client, page, days="3")
    emails = [row.enrollment.user.email for row in shown.context["preview"].changed_rows]
    assert emails == [f"learner{n}@example.com" for n in (1, 2, 3, 10, 20)]


def test_a_start_typed_on_the_add_page_is_read_in_the_staff_zone(berliner):
    client = logged_in(grant(berliner, "add_enrollment", "enroll_learners"))
    learner, course = UserFactory(), CourseFactory(access_days=30)
    page = client.get(reverse("admin:enrollments_enrollment_add")).content.decode()
    assert 'type="datetime-local"' in page, "one labelled input, not a split date and time"
    response = client.post(
        reverse("admin:enrollments_enrollment_add"),
        {"user": learner.pk, "course": course.pk, "start_at": "2026-07-01T10:00", "_save": "Save"},
    )
    assert response.status_code == 302
    enrollment = learner.enrollments.get()
    assert enrollment.start_at == datetime(2026, 7, 1, 8, 0, tzinfo=UTC)  # 10:00 CEST


def test_the_extend_form_is_a_labelled_group_with_described_fields(operator_client, enrollment):
    html = operator_client.get(
        reverse("admin:enrollments_enrollment_extend_access_one", args=[enrollment.pk])
    ).content.decode()
    group = html.split('<fieldset class="choice-group"', 1)[1].split("</fieldset>", 1)[0]
    assert "<legend>Change</legend>" in group
    assert group.count('type="radio"') == 3
    # Every aria-describedby names elements that exist on the page.
    for refs in re.findall(r'aria-describedby="([^"]+)"', html):
        for ref in refs.split():
            assert f'id="{ref}"' in html, ref
    assert 'aria-describedby="id_days_helptext"' in html
    # No script switches the mode on focus; the fields of a mode are shown while it is chosen.
    assert '"focus"' not in html
    assert 'data-shown-when="id_mode_0"' in html
    assert 'data-shown-when="id_mode_1"' in html
