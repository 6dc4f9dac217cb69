"""Staff workflows in a real browser: filter, select, "Extend access…", preview, confirm."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from enrollments.models import AccessChange, Enrollment
from tests.browser.conftest import log_in_directly, staff_with
from tests.browser.helpers import (
    active_enrollments,
    choose_action,
    fill_days_and_preview,
    save_screenshot,
)
from tests.factories import CourseFactory, EnrollmentFactory

pytestmark = pytest.mark.browser


@pytest.fixture
def operator(transactional_db):
    return staff_with(
        "view_enrollment",
        "change_enrollment",
        "extend_access",
        "pause_enrollment",
        time_zone="Europe/Berlin",
    )


def test_filter_select_three_extend_by_30_days(page, operator):
    python = CourseFactory(title="Python Basics", slug="python-basics")
    django = CourseFactory(title="Django in Depth", slug="django-in-depth")
    # Fixed ends, so that the expected dates are written out: the 30 days cross the switch to
    # summer time in Berlin (CET -> CEST), and the wall time moves by an hour.
    in_python = active_enrollments(python, 5, first_end=datetime(2036, 3, 1, 12, 0, tzinfo=UTC))
    others = active_enrollments(django, 2)

    log_in_directly(page, operator)
    page.goto("/admin/enrollments/enrollment/")
    page.click("#changelist-filter a:has-text('Python Basics')")
    page.wait_for_url("**course__id__exact=*")
    assert page.locator("#result_list tbody tr").count() == 5

    chosen = in_python[:3]
    for enrollment in chosen:
        page.check(f"input.action-select[value='{enrollment.pk}']")
    choose_action(page, "extend_access")
    page.wait_for_selector("text=3 selected enrollments")
    # The new end's zone starts as the staff member's (never switched to the browser's).
    assert page.input_value("#id_time_zone") == "Europe/Berlin"

    fill_days_and_preview(page, 30)
    assert "3 enrollments will be extended" in page.inner_text(".counts")
    assert page.locator("table.preview-changed tbody tr").count() == 3
    expected = [
        ("2036-03-01 13:00 CET", "2036-03-31 14:00 CEST"),
        ("2036-03-01 14:00 CET", "2036-03-31 15:00 CEST"),
        ("2036-03-01 15:00 CET", "2036-03-31 16:00 CEST"),
    ]
    for enrollment, (current_end, new_end) in zip(chosen, expected, strict=True):
        row = page.locator(f"table.preview-changed tr[data-enrollment='{enrollment.pk}']")
        assert row.locator("td.current-end").inner_text() == current_end
        assert row.locator("td.new-end").inner_text() == new_end
    page.click("input[name=_confirm]")
    page.wait_for_selector(".messagelist .success")
    assert "Extended access for 3 enrollments." in page.inner_text(".messagelist")
    assert "course__id__exact" in page.url, "back on the filtered changelist"

    for enrollment in chosen:
        old_end = enrollment.ended_at
        enrollment.refresh_from_db()
        assert enrollment.ended_at == old_end + timedelta(days=30)
    audits = AccessChange.objects.filter(enrollment__in=chosen)
    assert audits.count() == 3
    assert set(audits.values_list("actor", "source", "action")) == {
        (operator.pk, "admin", "extend")
    }
    untouched = in_python[3:] + others
    assert not AccessChange.objects.filter(enrollment__in=untouched).exists()


def test_select_all_across_pages_extends_every_matching_row(page, operator):
    course = CourseFactory(title="Big Course", slug="big-course")
    rows = active_enrollments(course, 260)
    other = active_enrollments(CourseFactory(title="Other Course"), 3)

    log_in_directly(page, operator)
    page.goto("/admin/enrollments/enrollment/")
    page.click("#changelist-filter a:has-text('Big Course')")
    page.wait_for_url("**course__id__exact=*")
    assert page.locator("#result_list tbody tr").count() == 50, "one page of several"
    page.check("#action-toggle")
    page.click(".actions .question a:has-text('Select all 260')")
    page.wait_for_selector(".actions .all:visible")
    choose_action(page, "extend_access")
    page.wait_for_selector("text=all 260 enrollments")

    fill_days_and_preview(page, 30)
    assert "260 enrollments will be extended" in page.inner_text(".counts")
    assert page.locator("table.preview-changed tbody tr").count() == 100
    assert "first 100 of 260" in page.inner_text("#content-main")

    page.click("input[name=_confirm]")
    page.wait_for_selector(".messagelist .success")
    assert "Extended access for 260 enrollments." in page.inner_text(".messagelist")

    by_pk = {e.pk: e.ended_at for e in rows}
    for pk, ended_at in Enrollment.objects.filter(course=course).values_list("pk", "ended_at"):
        assert ended_at == by_pk[pk] + timedelta(days=30)
    audits = AccessChange.objects.filter(enrollment__course=course)
    assert audits.count() == 260
    assert audits.values("batch_id").distinct().count() == 1
    assert not AccessChange.objects.filter(enrollment__in=other).exists()


def test_preview_lists_the_skipped_rows_and_why(page, operator, tmp_path):
    course = CourseFactory(title="Data Science", slug="data-science")
    active = active_enrollments(course, 4)
    now = timezone.now()
    indefinite = EnrollmentFactory(course=course, start_at=now - timedelta(days=5), ended_at=None)
    lapsed = EnrollmentFactory(
        course=course, start_at=now - timedelta(days=400), ended_at=now - timedelta(days=120)
    )

    log_in_directly(page, operator)
    page.goto("/admin/enrollments/enrollment/?q=data-science")
    page.check("#action-toggle")
    choose_action(page, "extend_access")
    page.fill("#id_reason", "Goodwill after the March outage")
    fill_days_and_preview(page, 30)
    counts = page.inner_text(".counts")
    assert "4 enrollments will be extended" in counts
    assert "2 will be skipped" in counts
    reasons = {
        pk: page.inner_text(f"table.preview-skipped tr[data-enrollment='{pk}'] td.skip-reason")
        for pk in (indefinite.pk, lapsed.pk)
    }
    assert reasons == {
        indefinite.pk: "Current enrollment has no end date",
        lapsed.pk: "Access would still be expired after the extension",
    }
    save_screenshot(page, "admin-extend-preview.png", tmp_path)

    page.click("input[name=_confirm]")
    page.wait_for_selector(".messagelist .warning")
    messages = page.inner_text(".messagelist")
    assert "Extended access for 4 enrollments." in messages
    assert "Skipped 2 enrollments:" in messages
    assert f"{indefinite.user.email} in Data Science (Current enrollment has no end date)" in (
        messages
    )
    assert AccessChange.objects.filter(enrollment__in=active).count() == 4
    assert not AccessChange.objects.filter(enrollment__in=[indefinite, lapsed]).exists()


def test_change_page_button_extends_one_enrollment(page, operator):
    enrollment = EnrollmentFactory(
        course=CourseFactory(title="Solo Course"),
        start_at=timezone.now() - timedelta(days=3),
        ended_at=datetime(2036, 6, 10, 9, 30, tzinfo=UTC),
    )
    old_end = enrollment.ended_at
    log_in_directly(page, operator)
    page.goto(f"/admin/enrollments/enrollment/{enrollment.pk}/change/")
    page.click("a.extend-access-link")
    page.wait_for_selector("#extend-access-form")
    fill_days_and_preview(page, 30)
    row = page.locator(f"table.preview-changed tr[data-enrollment='{enrollment.pk}']")
    assert row.locator("td.current-end").inner_text() == "2036-06-10 11:30 CEST"
    assert row.locator("td.new-end").inner_text() == "2036-07-10 11:30 CEST"
    page.click("input[name=_confirm]")
    page.wait_for_selector(".messagelist .success")
    assert "Extended access for this enrollment." in page.inner_text(".messagelist")
    assert f"/{enrollment.pk}/change/" in page.url
    # The history panel shows the new audit record first.
    first = page.locator("#access_changes-group tbody tr").first
    assert "Extend by days" in first.inner_text()

    enrollment.refresh_from_db()
    assert enrollment.ended_at == old_end + timedelta(days=30)
    assert AccessChange.objects.get(enrollment=enrollment).actor_id == operator.pk


def test_staff_without_the_permission_do_not_see_the_action(page, transactional_db):
    enrollment = active_enrollments(CourseFactory(title="Any Course"), 2)[0]
    pauser = staff_with("view_enrollment", "pause_enrollment")
    log_in_directly(page, pauser)
    page.goto("/admin/enrollments/enrollment/")
    options = page.locator("select[name=action] option").all_inner_texts()
    assert "Pause selected enrollments…" in options
    assert not any("Extend access" in option for option in options)
    page.goto(f"/admin/enrollments/enrollment/{enrollment.pk}/change/")
    assert page.locator("a.extend-access-link").count() == 0
    # Typing the URL does not help either.
    response = page.goto(f"/admin/enrollments/enrollment/{enrollment.pk}/extend-access/")
    assert response.status == 403
