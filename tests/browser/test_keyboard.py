"""Keyboard only (Tab, Shift+Tab, Space, Enter, arrows; no mouse, no `fill`): each "Extend
access" mode end to end, and pause, resume and remove through their confirmation page (from
the list and from an enrollment's page, with a reason). Also that after each step the focus is
on its result: the preview's heading, or the error summary."""

from datetime import UTC, datetime

import pytest

from enrollments.models import AccessChange
from tests.browser.conftest import SUPPORT_PERMISSIONS, staff_with
from tests.browser.helpers import (
    ENROLLMENTS,
    enrollment,
    focused,
    log_in_by_keyboard,
    open_extend_page_of,
    preview_and_confirm,
    tab_to,
)

pytestmark = pytest.mark.browser


def test_extend_by_days_from_the_list_by_keyboard(page, support_staff):
    """The issue's case: Tab forward past every field to Preview keeps "days" (focusing the
    new-end field no longer switches the mode), then Confirm applies it."""
    chosen = enrollment("learner3@example.com")
    other = enrollment("learner10@example.com")
    log_in_by_keyboard(page, support_staff)
    page.goto(f"{ENROLLMENTS}?q=learner3%40")
    tab_to(page, f"input.action-select[value='{chosen.pk}']")
    page.keyboard.press("Space")
    tab_to(page, "select[name=action]", backwards=True)
    while page.input_value("select[name=action]") != "extend_access":
        page.keyboard.press("ArrowDown")
    tab_to(page, "button[name=index]")
    page.keyboard.press("Enter")
    page.wait_for_selector("#extend-access-form")

    tab_to(page, "#id_mode_0")  # the radio group: "Extend by a number of days" is checked
    page.keyboard.press("Tab")
    assert focused(page, "#id_days"), "the days field follows its radio"
    page.keyboard.type("30")
    tab_to(page, "input[name=_preview]")  # past the time zone and the reason
    tab_to(page, "#id_mode_0", backwards=True)
    assert page.is_checked("#id_mode_0"), "tabbing through the form never changes the mode"
    preview_and_confirm(page)

    chosen.refresh_from_db()
    assert chosen.ended_at == datetime(2036, 3, 31, 12, 0, tzinfo=UTC)
    assert AccessChange.objects.get(enrollment=chosen).action == AccessChange.Action.EXTEND
    assert not AccessChange.objects.filter(enrollment=other).exists()


def test_set_a_new_end_by_keyboard(page, support_staff):
    target = enrollment("learner4@example.com")
    log_in_by_keyboard(page, support_staff)
    open_extend_page_of(page, target)
    tab_to(page, "#id_mode_0")
    page.keyboard.press("ArrowDown")  # arrows move the choice within the group
    assert page.is_checked("#id_mode_1")
    assert page.is_hidden("#id_days"), "the other mode's field leaves the tab order"
    page.keyboard.press("Tab")
    assert focused(page, "#id_until")
    # The date-time control's parts take digits; Tab moves from the date to the time part
    # (Debian's Chromium orders them month, day, year, then hours and minutes, 24-hour).
    page.keyboard.type("06012036")
    page.keyboard.press("Tab")
    page.keyboard.type("1430")
    assert page.input_value("#id_until") == "2036-06-01T14:30"
    preview_and_confirm(page)

    target.refresh_from_db()
    # 14:30 in Berlin (the staff member's zone) is 12:30 UTC in summer.
    assert target.ended_at == datetime(2036, 6, 1, 12, 30, tzinfo=UTC)
    assert AccessChange.objects.get(enrollment=target).action == AccessChange.Action.SET_END


def test_grant_indefinite_access_by_keyboard(page, support_staff):
    target = enrollment("learner5@example.com")
    log_in_by_keyboard(page, support_staff)
    open_extend_page_of(page, target)
    tab_to(page, "#id_mode_0")
    page.keyboard.press("ArrowUp")  # wraps round to the last choice
    assert page.is_checked("#id_mode_2")
    page.keyboard.press("Tab")
    assert focused(page, "#id_time_zone"), "no hidden field in between"
    preview_and_confirm(page)

    target.refresh_from_db()
    assert target.ended_at is None
    granted = AccessChange.objects.get(enrollment=target)
    assert granted.action == AccessChange.Action.GRANT_INDEFINITE


def test_a_rule_error_takes_the_focus_and_names_its_field(page, support_staff):
    target = enrollment("learner6@example.com")
    log_in_by_keyboard(page, support_staff)
    open_extend_page_of(page, target)
    tab_to(page, "#id_days")
    page.keyboard.type("0")
    tab_to(page, "input[name=_preview]")
    page.keyboard.press("Enter")
    page.wait_for_selector("#form-errors")
    assert focused(page, "#form-errors"), "the focus moves to the error summary"
    assert "extension days must be positive" in page.inner_text("#id_days_error")
    described_by = page.get_attribute("#id_days", "aria-describedby").split()
    assert "id_days_error" in described_by
    assert all(page.locator(f"#{ref}").count() == 1 for ref in described_by)
    # The summary's link leads to the field.
    tab_to(page, "#form-errors a[href='#id_days']")
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#id_days"
    target.refresh_from_db()
    assert not AccessChange.objects.filter(enrollment=target).exists()


def choose_action(page, action: str) -> None:
    """Shift+Tab back to the action menu, arrows to `action`, Tab to "Go", Enter."""
    tab_to(page, "select[name=action]", backwards=True)
    while page.input_value("select[name=action]") != action:
        page.keyboard.press("ArrowDown")
    tab_to(page, "button[name=index]")
    page.keyboard.press("Enter")


def confirm_with_reason(page, reason: str, done: str) -> None:
    """On a confirmation page: the focus is on the preview; Tab to the reason, type it, Tab to
    Confirm, Enter; the result's message."""
    page.wait_for_selector(".confirm-operation #preview-heading")
    assert focused(page, "#preview-heading"), "the focus moves to the preview"
    tab_to(page, "#id_reason")
    page.keyboard.type(reason)
    tab_to(page, "input[name=_confirm]")
    page.keyboard.press("Enter")
    page.wait_for_selector(f".messagelist .success:has-text('{done}')")


def test_pause_from_the_list_by_keyboard(page, support_staff):
    chosen = enrollment("learner8@example.com")
    other = enrollment("learner80@example.com")
    log_in_by_keyboard(page, support_staff)
    page.goto(f"{ENROLLMENTS}?q=learner8%40")
    tab_to(page, f"input.action-select[value='{chosen.pk}']")
    page.keyboard.press("Space")
    choose_action(page, "pause_enrollments")
    assert not AccessChange.objects.exists(), "the action only shows the confirmation"
    confirm_with_reason(page, "Parental leave", "Paused 1 enrollment.")
    chosen.refresh_from_db()
    assert chosen.is_paused
    assert AccessChange.objects.get(enrollment=chosen).reason == "Parental leave"
    assert not AccessChange.objects.filter(enrollment=other).exists()


def test_pause_then_resume_from_its_page_by_keyboard(page, support_staff):
    target = enrollment("learner7@example.com")
    log_in_by_keyboard(page, support_staff)
    page.goto(f"{ENROLLMENTS}{target.pk}/change/")
    tab_to(page, "a.pause-link")
    page.keyboard.press("Enter")
    confirm_with_reason(page, "Sick leave", "Paused this enrollment.")
    target.refresh_from_db()
    assert target.is_paused

    tab_to(page, "a.resume-link")
    page.keyboard.press("Enter")
    confirm_with_reason(page, "Back", "Resumed this enrollment.")
    target.refresh_from_db()
    assert not target.is_paused
    rows = list(
        AccessChange.objects.filter(enrollment=target)
        .order_by("created_at")
        .values_list("action", "reason")
    )
    assert rows == [(AccessChange.Action.PAUSE, "Sick leave"), (AccessChange.Action.RESUME, "Back")]


def test_remove_from_the_list_and_from_its_page_by_keyboard(page, transactional_db):
    remover = staff_with(*SUPPORT_PERMISSIONS, "remove_from_course", time_zone="Europe/Berlin")
    listed = enrollment("learner9@example.com")
    own_page = enrollment("learner90@example.com")
    log_in_by_keyboard(page, remover)
    page.goto(f"{ENROLLMENTS}?q=learner9%40")
    tab_to(page, f"input.action-select[value='{listed.pk}']")
    page.keyboard.press("Space")
    choose_action(page, "remove_from_course")
    confirm_with_reason(page, "Refunded", "Removed 1 enrollment.")

    page.goto(f"{ENROLLMENTS}{own_page.pk}/change/")
    tab_to(page, "a.remove-link")
    page.keyboard.press("Enter")
    confirm_with_reason(page, "Left the company", "Removed this enrollment.")
    reasons = dict(
        AccessChange.objects.filter(action=AccessChange.Action.REMOVE).values_list(
            "enrollment_id", "reason"
        )
    )
    assert reasons == {listed.pk: "Refunded", own_page.pk: "Left the company"}


def test_a_bad_reason_takes_the_focus_and_names_its_field(page, support_staff):
    target = enrollment("learner11@example.com")
    log_in_by_keyboard(page, support_staff)
    page.goto(f"{ENROLLMENTS}{target.pk}/pause/")
    # A NUL cannot be typed; it arrives pasted or from a script.
    page.evaluate("document.getElementById('id_reason').value = 'nul \\u0000 inside'")
    tab_to(page, "input[name=_confirm]")
    page.keyboard.press("Enter")
    page.wait_for_selector("#form-errors")
    assert focused(page, "#form-errors"), "the focus moves to the error summary"
    assert "A reason is at most 1000 characters" in page.inner_text("#id_reason_error")
    described_by = page.get_attribute("#id_reason", "aria-describedby").split()
    assert "id_reason_error" in described_by
    assert all(page.locator(f"#{ref}").count() == 1 for ref in described_by)
    tab_to(page, "#form-errors a[href='#id_reason']")
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#id_reason"
    assert not AccessChange.objects.filter(enrollment=target).exists()
