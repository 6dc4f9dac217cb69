"""The "Enroll learners…" page in a real browser: from the enrollment list's button, paste,
preview (focus on the preview, axe-clean, refused lines named), confirm."""

import pytest

from enrollments.models import AccessChange, Enrollment
from lms.models import User
from tests.browser.conftest import assert_accessible, log_in_directly, staff_with
from tests.factories import CourseFactory, UserFactory

pytestmark = pytest.mark.browser


@pytest.fixture
def enroller(transactional_db):
    return staff_with("view_enrollment", "enroll_learners")


def test_paste_preview_confirm(page, enroller, axe_script):
    course = CourseFactory(title="Python Basics", access_days=30)
    UserFactory(email="ann@example.com")
    log_in_directly(page, enroller)

    page.goto("/admin/enrollments/enrollment/")
    page.click("text=Enroll learners…")
    page.wait_for_selector("h1:has-text('Enroll learners')")
    assert_accessible(page, axe_script)  # the empty form

    page.select_option("#id_course", str(course.pk))
    page.fill("#id_learners", "ann@example.com\nnew@example.com,New Person\nnot-an-address")
    page.fill("#id_reason", "spring cohort")
    page.click("input[name=_preview]")
    page.wait_for_selector("h2:has-text('Preview')")

    # The result of the step takes the focus (staff.js data-focus-on-load).
    assert page.evaluate("document.activeElement.id") == "preview-heading"
    assert "2 will be enrolled." in page.inner_text(".count-enrolled")
    refused = page.inner_text("table.preview-refused")
    assert "not-an-address" in refused and "Enter a valid email address" in refused
    assert_accessible(page, axe_script)
    assert not Enrollment.objects.exists()

    page.click("input[name=_confirm]")
    page.wait_for_selector(".messagelist")
    assert "Enrolled 2 learners (1 new account)" in page.inner_text(".messagelist")
    assert Enrollment.objects.filter(course=course).count() == 2
    assert User.objects.filter(email="new@example.com").exists()
    assert set(AccessChange.objects.values_list("reason", flat=True)) == {"spring cohort"}


def test_form_errors_take_the_focus(page, enroller, axe_script):
    CourseFactory(title="Python Basics")
    log_in_directly(page, enroller)
    page.goto("/admin/enrollments/enrollment/enroll/")
    page.click("input[name=_preview]")
    page.wait_for_selector("#form-errors")
    assert page.evaluate("document.activeElement.id") == "form-errors"
    assert_accessible(page, axe_script)
