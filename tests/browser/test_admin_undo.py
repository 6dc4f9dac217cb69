"""Undoing a "select all" batch in a real browser: extend every row of a course across pages,
then from the audit trail "Undo this batch", preview (axe-checked), Confirm by keyboard, and
every end is back."""

from datetime import timedelta

import pytest

from enrollments.models import AccessChange, Enrollment
from tests.browser.conftest import assert_accessible, log_in_directly, staff_with
from tests.browser.helpers import (
    active_enrollments,
    choose_action,
    fill_days_and_preview,
    select_all_of_course,
)
from tests.factories import CourseFactory

pytestmark = pytest.mark.browser


def test_undo_a_select_all_extension_from_the_audit_trail(page, transactional_db, axe_script):
    staff = staff_with(
        "view_enrollment", "change_enrollment", "extend_access", "view_accesschange", "undo_batch"
    )
    course = CourseFactory(title="Big Course", slug="big-course")
    rows = active_enrollments(course, 60)
    original = {e.pk: e.ended_at for e in rows}
    active_enrollments(CourseFactory(title="Other Course"), 2)

    log_in_directly(page, staff)
    select_all_of_course(page, "Big Course", 60)
    choose_action(page, "extend_access")
    fill_days_and_preview(page, 30)
    page.click("input[name=_confirm]")
    page.wait_for_selector(".messagelist .success")
    (batch_id,) = set(
        AccessChange.objects.filter(enrollment__course=course).values_list("batch_id", flat=True)
    )

    page.goto("/admin/enrollments/accesschange/")
    page.click(f"#result_list a[href$='?batch_id={batch_id}']  >> nth=0")
    page.wait_for_url(f"**batch_id={batch_id}")
    page.click("a.undo-batch-link")
    page.wait_for_selector("h2:has-text('Preview')")
    assert "60 enrollments will be restored" in page.inner_text(".counts")
    assert page.locator("table.preview-changed tbody tr").count() == 60
    assert page.evaluate("document.activeElement.id") == "preview-heading"
    assert_accessible(page, axe_script)

    page.fill("#id_reason", "extended the wrong course")
    page.focus("#id_reason")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.value") == "Confirm"
    page.keyboard.press("Enter")
    page.wait_for_selector(".messagelist .success")
    assert "Undid the batch for 60 enrollments." in page.inner_text(".messagelist")
    # The undo's own batch: its link re-applies the undone batch, and says so.
    assert page.text_content("a.undo-batch-link") == "Re-apply the undone batch"
    assert page.inner_text("h1").startswith("Undo of batch ")

    now = dict(Enrollment.objects.filter(course=course).values_list("pk", "ended_at"))
    assert now == original
    undo_rows = AccessChange.objects.filter(undoes_batch_id=batch_id)
    assert undo_rows.count() == 60
    assert {(r.action, r.source, r.reason) for r in undo_rows} == {
        ("undo", "admin", "extended the wrong course")
    }
    assert all(r.old_ended_at == r.new_ended_at + timedelta(days=30) for r in undo_rows)
