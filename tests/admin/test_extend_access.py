"""The "Extend access…" action: form, preview, confirmation, permissions and bad input."""

from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.contrib.messages import get_messages
from django.urls import reverse

from enrollments.admin.confirming import INPUT_CHANGED
from enrollments.models import AccessChange, Enrollment
from tests.admin.conftest import grant, logged_in
from tests.admin.helpers import (
    EXTEND,
    changelist_url,
    confirm,
    extend_form_data,
    post_action,
    preview,
)
from tests.factories import CourseFactory, EnrollmentFactory, StaffFactory

pytestmark = pytest.mark.django_db


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_action_shows_the_form_for_the_selection_and_changes_nothing(
    operator_client, three_enrollments
):
    ids = [e.pk for e in three_enrollments]
    page = post_action(operator_client, "extend_access", ids)
    assert page.status_code == 200
    assert page.templates[0].name == "admin/enrollments/enrollment/extend_access.html"
    assert page.context["selected"] == 3
    assert {v for n, v in page.context["scope"].hidden_fields if n == "_selected_action"} == {
        str(pk) for pk in ids
    }
    assert "3 selected enrollments" in page.content.decode()
    assert AccessChange.objects.count() == 0


def test_preview_shows_current_and_new_end_then_confirm_applies_with_audit(
    operator_client, operator, three_enrollments, clock
):
    ids = [e.pk for e in three_enrollments]
    page = post_action(operator_client, "extend_access", ids)
    shown = preview(operator_client, page, days="30", reason="Support ticket 42")
    assert shown.status_code == 200
    result = shown.context["preview"]
    assert (result.selected, result.changed, result.skipped) == (3, 3, 0)
    rows = {row.enrollment_id: row for row in result.changed_rows}
    for enrollment in three_enrollments:
        new_end = enrollment.ended_at + timedelta(days=30)
        assert rows[enrollment.pk].current_end == f"{enrollment.ended_at:%Y-%m-%d %H:%M} UTC"
        assert rows[enrollment.pk].new_end == f"{new_end:%Y-%m-%d %H:%M} UTC"
        assert f"{new_end:%Y-%m-%d %H:%M} UTC" in shown.content.decode()
    assert AccessChange.objects.count() == 0, "a preview writes nothing"

    done = confirm(operator_client, shown, days="30", reason="Support ticket 42")
    assert done.status_code == 302
    assert done["Location"] == changelist_url()
    assert "Extended access for 3 enrollments." in messages_of(done)
    for enrollment in three_enrollments:
        old_end = enrollment.ended_at
        enrollment.refresh_from_db()
        assert enrollment.ended_at == old_end + timedelta(days=30)
    audits = AccessChange.objects.filter(enrollment_id__in=ids)
    assert audits.count() == 3
    assert {a.action for a in audits} == {AccessChange.Action.EXTEND}
    assert {a.source for a in audits} == {AccessChange.Source.ADMIN}
    assert {a.actor_id for a in audits} == {operator.pk}
    assert {a.reason for a in audits} == {"Support ticket 42"}
    assert len({a.batch_id for a in audits}) == 1


def test_preview_and_message_name_the_skipped_rows_with_the_reason(operator_client, clock):
    course = CourseFactory()
    active = EnrollmentFactory(course=course, ended_at=clock.current + timedelta(days=3))
    indefinite = EnrollmentFactory(course=course, ended_at=None)
    long_expired = EnrollmentFactory(course=course, ended_at=clock.current - timedelta(days=90))
    ids = [active.pk, indefinite.pk, long_expired.pk]
    page = post_action(operator_client, "extend_access", ids)
    shown = preview(operator_client, page, days="30")
    result = shown.context["preview"]
    assert (result.changed, result.skipped) == (1, 2)
    reasons = {row.enrollment_id: row.reason for row in result.skipped_rows}
    assert reasons == {
        indefinite.pk: "Current enrollment has no end date",
        long_expired.pk: "Access would still be expired after the extension",
    }
    html = shown.content.decode()
    assert "Current enrollment has no end date" in html
    assert "Access would still be expired after the extension" in html

    done = confirm(operator_client, shown, days="30")
    texts = messages_of(done)
    assert "Extended access for 1 enrollment." in texts
    [warning] = [t for t in texts if t.startswith("Skipped")]
    assert warning.startswith("Skipped 2 enrollments: ")
    assert (
        f"{indefinite.user.email} in {course.title} (Current enrollment has no end date)" in warning
    )
    assert f"{long_expired.user.email} in {course.title} (Access would still be expired" in warning
    long_expired.refresh_from_db()
    indefinite.refresh_from_db()
    assert indefinite.ended_at is None
    assert long_expired.ended_at == clock.current - timedelta(days=90)
    assert AccessChange.objects.filter(enrollment=active).count() == 1
    assert AccessChange.objects.filter(enrollment__in=[indefinite, long_expired]).count() == 0


def test_many_skipped_rows_are_named_up_to_five_then_counted(operator_client, clock):
    course = CourseFactory()
    rows = [EnrollmentFactory(course=course, ended_at=None) for _ in range(8)]
    page = post_action(operator_client, "extend_access", [e.pk for e in rows])
    shown = preview(operator_client, page, days="30")
    done = confirm(operator_client, shown, days="30")
    [warning] = [t for t in messages_of(done) if t.startswith("Skipped")]
    assert warning.count("(Current enrollment has no end date)") == 5
    assert warning.endswith("; and 3 more.")


def test_set_end_date_is_read_in_the_chosen_time_zone_and_stored_in_utc(
    operator, operator_client, three_enrollments, clock
):
    ids = [e.pk for e in three_enrollments]
    page = post_action(operator_client, "extend_access", ids)
    fields = {"mode": "until", "until": "2026-03-01T09:30", "time_zone": "Europe/Berlin"}
    shown = preview(operator_client, page, **fields)
    result = shown.context["preview"]
    assert result.changed == 3
    # Shown in the staff member's zone (UTC: none chosen), not the form's.
    assert {row.new_end for row in result.changed_rows} == {"2026-03-01 08:30 UTC"}
    done = confirm(operator_client, shown, **fields)
    assert done.status_code == 302
    expected = datetime(2026, 3, 1, 8, 30, tzinfo=UTC)
    assert set(Enrollment.objects.filter(pk__in=ids).values_list("ended_at", flat=True)) == {
        expected
    }
    assert set(AccessChange.objects.values_list("action", flat=True)) == {"set_end"}
    # The form's zone read the typed end only: the staff member's zone is unchanged (issue 26).
    operator.refresh_from_db()
    assert operator.time_zone == ""
    again = post_action(operator_client, "extend_access", ids)
    assert again.context["form"]["time_zone"].value() == "UTC"


def test_the_typed_time_does_not_depend_on_the_active_time_zone(
    operator_client, three_enrollments, clock
):
    from django.utils import timezone

    page = post_action(operator_client, "extend_access", [e.pk for e in three_enrollments])
    fields = {"mode": "until", "until": "2026-03-01T09:30", "time_zone": "America/New_York"}
    with timezone.override("Asia/Tokyo"):  # as if some middleware had activated a zone
        shown = preview(operator_client, page, **fields)
        confirm(operator_client, shown, **fields)
    assert {e.ended_at for e in Enrollment.objects.all()} == {
        datetime(2026, 3, 1, 14, 30, tzinfo=UTC)
    }


def test_a_time_skipped_by_daylight_saving_is_refused(operator_client, three_enrollments):
    page = post_action(operator_client, "extend_access", [e.pk for e in three_enrollments])
    shown = preview(
        operator_client, page, mode="until", until="2026-03-29T02:30", time_zone="Europe/Berlin"
    )
    assert shown.context["preview"] is None
    assert "does not exist in Europe/Berlin" in str(shown.context["form"].errors["until"])


def test_grant_indefinite_access(operator_client, three_enrollments):
    ids = [e.pk for e in three_enrollments]
    page = post_action(operator_client, "extend_access", ids)
    shown = preview(operator_client, page, mode="indefinite")
    assert {row.new_end for row in shown.context["preview"].changed_rows} == {"Indefinite"}
    confirm(operator_client, shown, mode="indefinite")
    assert not Enrollment.objects.filter(pk__in=ids, ended_at__isnull=False).exists()
    assert set(AccessChange.objects.values_list("action", flat=True)) == {"grant_indefinite"}


def test_granting_indefinite_to_indefinite_rows_reports_nothing_to_change(operator_client, db):
    rows = [EnrollmentFactory(ended_at=None) for _ in range(2)]
    page = post_action(operator_client, "extend_access", [e.pk for e in rows])
    shown = preview(operator_client, page, mode="indefinite")
    assert shown.context["preview"].unchanged == 2
    assert 'name="_confirm"' in shown.content.decode()
    assert "disabled" in shown.content.decode().split('name="_confirm"')[1].split(">")[0]


@pytest.mark.parametrize(
    ("fields", "field", "error"),
    [
        ({"mode": "days", "days": ""}, "days", "Enter the number of days to add."),
        ({"mode": "days", "days": "abc"}, "days", "Enter a whole number."),
        ({"mode": "until", "until": ""}, "until", "Enter the new end date and time."),
        ({"mode": "until", "until": "tomorrow"}, "until", "Enter a valid date/time."),
        ({"mode": "sideways"}, "mode", "Select a valid choice."),
        ({"mode": "until", "until": "2026-03-01T09:30+02:00"}, "until", "without a UTC offset"),
        ({"days": "3", "time_zone": "Mars/Olympus"}, "time_zone", "Select a valid choice."),
        # Year 9999 west of UTC (and year 1 east of it) is past the calendar once in UTC: it
        # was an OverflowError, a 500.
        (
            {"mode": "until", "until": "9999-12-31T23:59", "time_zone": "America/New_York"},
            "until",
            "outside the range of dates",
        ),
        (
            {"mode": "until", "until": "0001-01-01T00:00", "time_zone": "Asia/Tokyo"},
            "until",
            "outside the range of dates",
        ),
    ],
)
def test_malformed_input_is_a_form_error_and_changes_nothing(
    operator_client, three_enrollments, fields, field, error
):
    page = post_action(operator_client, "extend_access", [e.pk for e in three_enrollments])
    before = list(Enrollment.objects.order_by("pk").values_list("ended_at", flat=True))
    shown = preview(operator_client, page, **fields)
    assert shown.status_code == 200
    assert error in str(shown.context["form"].errors[field])
    # Confirming invalid input applies nothing either.
    data = extend_form_data(page, _confirm="Confirm", fingerprint="x", **fields)
    operator_client.post(reverse(EXTEND), data)
    assert list(Enrollment.objects.order_by("pk").values_list("ended_at", flat=True)) == before
    assert AccessChange.objects.count() == 0


@pytest.mark.parametrize(
    ("fields", "field", "detail"),
    [
        ({"days": "0"}, "days", "extension days must be positive"),
        ({"days": "-5"}, "days", "extension days must be positive"),
        # More days than any end can take: the request, not every row, is refused.
        ({"days": str(10**12)}, "days", "the extension ends after 2038"),
        (
            {"mode": "until", "until": "2025-06-01T00:00"},
            "until",
            "the new end date is not in the future",
        ),
        ({"mode": "until", "until": "2040-01-01T00:00"}, "until", "the new end date is after 2038"),
    ],
)
def test_a_period_the_core_refuses_shows_its_message_at_the_field(
    operator_client, three_enrollments, fields, field, detail
):
    page = post_action(operator_client, "extend_access", [e.pk for e in three_enrollments])
    shown = preview(operator_client, page, **fields)
    form = shown.context["form"]
    assert not form.non_field_errors()
    errors = form.errors[field]
    assert len(errors) == 1
    assert errors[0].startswith("Invalid extension period")
    assert detail in errors[0]
    assert shown.context["preview"] is None
    # Tied to its field: the input names the error's element, which exists, and the error
    # summary (which takes the focus) links to the field.
    html = shown.content.decode()
    assert f'id="id_{field}_error"' in html
    assert f'aria-describedby="id_{field}_helptext id_{field}_error"' in html
    assert f'id="id_{field}_helptext"' in html
    assert f'<a href="#id_{field}">' in html
    assert AccessChange.objects.count() == 0


def test_extend_access_alone_does_not_open_the_enrollments(three_enrollments):
    """The extend views also need access to enrollments (view or change), like the list."""
    extender = logged_in(grant(StaffFactory(), "extend_access"))
    data = {
        "_selected_action": [str(three_enrollments[0].pk)],
        "mode": "days",
        "days": "3",
        "time_zone": "UTC",
        "_preview": "Preview",
    }
    assert extender.post(reverse(EXTEND), data).status_code == 403
    assert AccessChange.objects.count() == 0


def test_confirm_without_a_matching_preview_shows_the_preview_again(
    operator_client, three_enrollments
):
    ids = [e.pk for e in three_enrollments]
    page = post_action(operator_client, "extend_access", ids)
    shown = preview(operator_client, page, days="30")
    # The staff member changed the number of days after the preview, then hit Confirm.
    again = confirm(operator_client, shown, days="300")
    assert again.status_code == 200
    assert again.context["preview"].changed == 3
    assert again.context["notice"] == INPUT_CHANGED
    assert AccessChange.objects.count() == 0
    done = confirm(operator_client, again, days="300")
    assert done.status_code == 302
    assert AccessChange.objects.count() == 3


def test_confirm_after_the_selection_grew_shows_the_preview_again(operator_client, clock):
    course = CourseFactory()
    for _ in range(3):
        EnrollmentFactory(course=course, ended_at=clock.current + timedelta(days=5))
    query = f"course__id__exact={course.pk}"
    first = Enrollment.objects.filter(course=course).first()
    page = post_action(
        operator_client, "extend_access", [first.pk], select_across=True, query=query
    )
    shown = preview(operator_client, page, days="30")
    assert shown.context["preview"].selected == 3
    EnrollmentFactory(course=course, ended_at=clock.current + timedelta(days=5))
    again = confirm(operator_client, shown, days="30")
    assert again.status_code == 200
    assert again.context["preview"].selected == 4
    assert AccessChange.objects.count() == 0


def test_select_all_larger_than_the_upload_field_limit(operator_client, operator, clock):
    """The selection travels as the changelist's filters, not one field per row."""
    limit = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
    course = CourseFactory()
    other = EnrollmentFactory(ended_at=clock.current + timedelta(days=5))  # not in the filter
    end = clock.current + timedelta(days=5)
    users = bulk_users(limit + 50)
    Enrollment.objects.bulk_create(
        Enrollment(user=u, course=course, start_at=clock.current, ended_at=end) for u in users
    )
    query = f"course__id__exact={course.pk}"
    one_page = Enrollment.objects.filter(course=course).values_list("pk", flat=True)[:50]
    page = post_action(operator_client, "extend_access", one_page, select_across=True, query=query)
    assert page.context["selected"] == limit + 50
    assert page.context["scope"].hidden_fields == (
        ("select_across", "1"),
        ("_changelist_filters", query),
    )
    shown = preview(operator_client, page, days="30")
    assert shown.context["preview"].changed == limit + 50
    assert len(shown.context["preview"].changed_rows) == 100, "big selections list the first rows"
    assert f"<strong>{limit + 50:,}</strong> enrollments will be extended" in shown.content.decode()
    done = confirm(operator_client, shown, days="30")
    assert done.status_code == 302
    assert done["Location"] == changelist_url(query)
    assert f"Extended access for {limit + 50:,} enrollments." in messages_of(done)
    assert Enrollment.objects.filter(course=course, ended_at=end + timedelta(days=30)).count() == (
        limit + 50
    )
    assert AccessChange.objects.filter(enrollment__course=course, actor=operator).count() == (
        limit + 50
    )
    other.refresh_from_db()
    assert other.ended_at == clock.current + timedelta(days=5)
    assert not AccessChange.objects.filter(enrollment=other).exists()


def test_select_all_with_search_and_state_filter_rebuilds_the_same_selection(
    operator_client, clock
):
    course = CourseFactory(slug="rust-intro", title="Rust intro")
    window = {
        "start_at": clock.current - timedelta(days=1),
        "ended_at": clock.current + timedelta(days=5),
    }
    active = [EnrollmentFactory(course=course, **window) for _ in range(2)]
    paused = EnrollmentFactory(course=course, is_paused=True, paused_at=clock.current, **window)
    EnrollmentFactory(ended_at=clock.current + timedelta(days=5))  # another course
    query = "q=rust-intro&access_state=active"
    page = post_action(
        operator_client, "extend_access", [active[0].pk], select_across=True, query=query
    )
    assert page.context["selected"] == 2
    shown = preview(operator_client, page, days="7")
    done = confirm(operator_client, shown, days="7")
    assert done.status_code == 302
    assert set(AccessChange.objects.values_list("enrollment_id", flat=True)) == {
        e.pk for e in active
    }
    assert not AccessChange.objects.filter(enrollment=paused).exists()


def test_tampered_selection_changes_nothing(operator_client, three_enrollments):
    url = reverse(EXTEND)
    for data in (
        {"_selected_action": ["not-a-uuid"], "mode": "days", "days": "3", "_confirm": "1"},
        {"mode": "days", "days": "3", "_confirm": "1"},
        {
            "select_across": "1",
            "_changelist_filters": "no_such_field=1",
            "mode": "days",
            "days": "3",
            "_confirm": "1",
        },
        {  # a drill-down month past a C long was an OverflowError: a 500
            "select_across": "1",
            "_changelist_filters": "ended_at__year=2026&ended_at__month=99999999999999999999",
            "mode": "days",
            "days": "3",
            "_confirm": "1",
        },
    ):
        response = operator_client.post(url, data)
        assert response.status_code == 302
        assert any(m.startswith("Invalid selection") for m in messages_of(response))
    assert AccessChange.objects.count() == 0


def test_extend_view_refuses_get(operator_client):
    assert operator_client.get(reverse(EXTEND)).status_code == 405


def action_choices(response) -> dict:
    form = response.context["action_form"]
    return dict(form.fields["action"].choices) if form else {}


def test_staff_without_the_permission_do_not_see_the_action(viewer_client, operator_client, db):
    EnrollmentFactory()
    hidden = viewer_client.get(changelist_url())
    assert hidden.status_code == 200
    assert "extend_access" not in action_choices(hidden)
    assert "Extend access" not in hidden.content.decode()
    shown = operator_client.get(changelist_url())
    assert "extend_access" in action_choices(shown)


def test_staff_with_only_the_pause_permission_see_pause_but_not_extend(db):
    pauser = grant(StaffFactory(), "view_enrollment", "pause_enrollment")
    EnrollmentFactory()
    choices = action_choices(logged_in(pauser).get(changelist_url()))
    assert "pause_enrollments" in choices
    assert "resume_enrollments" in choices
    assert "extend_access" not in choices


def test_a_crafted_post_without_the_permission_changes_nothing(viewer_client, three_enrollments):
    ids = [e.pk for e in three_enrollments]
    before = list(Enrollment.objects.order_by("pk").values_list("ended_at", flat=True))
    # Through the changelist's action machinery: the action does not exist for this user.
    response = post_action(viewer_client, "extend_access", ids)
    assert response.status_code == 200
    assert response.templates[0].name == "admin/enrollments/enrollment/change_list.html"
    pauser = logged_in(grant(StaffFactory(), "view_enrollment", "pause_enrollment"))
    response = post_action(pauser, "extend_access", ids)
    assert "No action selected." in messages_of(response)
    # Straight to the confirmation URL: refused.
    data = {
        "_selected_action": [str(pk) for pk in ids],
        "mode": "days",
        "days": "30",
        "time_zone": "UTC",
        "_confirm": "Confirm",
    }
    assert viewer_client.post(reverse(EXTEND), data).status_code == 403
    one = reverse("admin:enrollments_enrollment_extend_access_one", args=[ids[0]])
    assert viewer_client.get(one).status_code == 403
    assert viewer_client.post(one, data).status_code == 403
    assert list(Enrollment.objects.order_by("pk").values_list("ended_at", flat=True)) == before
    assert AccessChange.objects.count() == 0


def test_anonymous_users_are_sent_to_the_login_page(client, three_enrollments):
    response = client.post(reverse(EXTEND), {"_selected_action": [str(three_enrollments[0].pk)]})
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def bulk_users(count: int):
    from lms.models import User

    return User.objects.bulk_create(
        User(email=f"bulk{n}@example.com", first_name=f"Bulk {n}") for n in range(count)
    )


def test_a_select_all_preview_counts_once_and_never_scans_for_the_course_filter(
    operator_client, clock, django_assert_num_queries
):
    """The rebuilt changelist's count is the selection's size: no second COUNT, no unfiltered
    COUNT, and the course filter reads the course table, not every enrollment."""
    course = CourseFactory()
    rows = [
        EnrollmentFactory(course=course, ended_at=clock.current + timedelta(days=5))
        for _ in range(3)
    ]
    EnrollmentFactory(ended_at=clock.current + timedelta(days=5))  # another course
    query = f"course__id__exact={course.pk}"
    page = post_action(
        operator_client, "extend_access", [rows[0].pk], select_across=True, query=query
    )
    preview(operator_client, page, days="30")  # the staff member's time zone is now chosen
    # Session, user, permissions (user and group), the course filter's choices, the one
    # COUNT, the rows read for the plan, the named rows of the tables and the webhook endpoints
    # (what Confirm sends; the time zone is unchanged: no write).
    with django_assert_num_queries(9) as captured:
        shown = preview(operator_client, page, days="30")
    assert shown.context["preview"].changed == 3
    sqls = [q["sql"] for q in captured.captured_queries]
    assert sum("COUNT(" in sql for sql in sqls) == 1
    assert not any("DISTINCT" in sql for sql in sqls)


def test_confirm_after_rows_swapped_with_the_same_count_shows_the_preview_again(
    operator_client, clock
):
    """A "select all" of a filter: one previewed row leaves it, another joins it; the count is
    the same, the rows are not."""
    window = {"start_at": clock.current - timedelta(days=1)}
    leaving = EnrollmentFactory(ended_at=clock.current + timedelta(days=3), **window)
    staying = EnrollmentFactory(ended_at=clock.current + timedelta(days=4), **window)
    joining = EnrollmentFactory(ended_at=clock.current + timedelta(days=20), **window)
    query = "ends_within=7"
    page = post_action(
        operator_client, "extend_access", [leaving.pk], select_across=True, query=query
    )
    shown = preview(operator_client, page, days="30")
    assert {r.enrollment_id for r in shown.context["preview"].changed_rows} == {
        leaving.pk,
        staying.pk,
    }
    Enrollment.objects.filter(pk=leaving.pk).update(ended_at=clock.current + timedelta(days=25))
    Enrollment.objects.filter(pk=joining.pk).update(ended_at=clock.current + timedelta(days=2))

    again = confirm(operator_client, shown, days="30")
    assert again.status_code == 200
    assert "changed since the preview" in again.context["notice"]
    assert again.context["preview"].selected == 2
    assert {r.enrollment_id for r in again.context["preview"].changed_rows} == {
        staying.pk,
        joining.pk,
    }
    assert AccessChange.objects.count() == 0
    done = confirm(operator_client, again, days="30")
    assert done.status_code == 302
    assert set(AccessChange.objects.values_list("enrollment_id", flat=True)) == {
        staying.pk,
        joining.pk,
    }


def test_confirm_after_an_end_date_moved_shows_the_preview_again(
    operator_client, three_enrollments, clock
):
    """Same rows, same count, but one end date changed meanwhile (say, through the API)."""
    page = post_action(operator_client, "extend_access", [e.pk for e in three_enrollments])
    shown = preview(operator_client, page, days="30")
    moved = three_enrollments[0]
    Enrollment.objects.filter(pk=moved.pk).update(ended_at=clock.current + timedelta(days=8))
    again = confirm(operator_client, shown, days="30")
    assert again.status_code == 200
    assert "changed since the preview" in again.context["notice"]
    rows = {r.enrollment_id: r for r in again.context["preview"].changed_rows}
    assert rows[moved.pk].current_end == "2026-01-09 00:00 UTC"
    assert rows[moved.pk].new_end == "2026-02-08 00:00 UTC"
    assert AccessChange.objects.count() == 0
