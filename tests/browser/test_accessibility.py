"""WCAG 2.1 AA on the staff pages: axe-core (from the npm registry, tests/browser/axe) on every
page of the project's own templates and the enrollment admin pages, with 0 violations; and the
reflow criterion at 320 px (tables scroll within themselves, the page does not widen)."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from enrollments.models import AccessChange
from enrollments.operations import Pause, apply_to_one
from enrollments.operations.audit import Attribution
from tests.browser.conftest import (
    SUPPORT_PERMISSIONS,
    assert_accessible,
    axe_violations,
    log_in_directly,
    staff_with,
    submit_log_in_form,
)
from tests.factories import (
    AccessChangeFactory,
    CourseFactory,
    CourseItemFactory,
    EnrollmentFactory,
)

pytestmark = pytest.mark.browser

ENROLLMENTS = "/admin/enrollments/enrollment/"


@pytest.fixture
def staff(transactional_db):
    return staff_with(
        *SUPPORT_PERMISSIONS,
        "add_enrollment",
        "enroll_learners",  # adding is enrolling: the add page asks for both
        "expire_access",
        email="support@example.com",
        first_name="Support",
    )


@pytest.fixture
def enrollments(staff):
    """An active (with a history: extended in a batch, paused), an indefinite and an expired
    enrollment, in a course with items."""
    course = CourseFactory(title="Python Basics", slug="python-basics")
    CourseItemFactory.create_batch(3, course=course)
    now = timezone.now()
    active = EnrollmentFactory(
        course=course,
        start_at=now - timedelta(days=5),
        ended_at=datetime(2036, 3, 1, 12, 0, tzinfo=UTC),
    )
    AccessChangeFactory(
        enrollment=active,
        action=AccessChange.Action.EXTEND,
        old_ended_at=active.ended_at - timedelta(days=30),
        new_ended_at=active.ended_at,
        actor=staff,
        source=AccessChange.Source.ADMIN,
        reason="Goodwill after the March outage",
        batch_id=uuid.uuid4(),
    )
    apply_to_one(Pause(), active, Attribution(staff, AccessChange.Source.ADMIN))
    indefinite = EnrollmentFactory(course=course, start_at=now - timedelta(days=5), ended_at=None)
    expired = EnrollmentFactory(
        course=course, start_at=now - timedelta(days=400), ended_at=now - timedelta(days=100)
    )
    return {"active": active, "indefinite": indefinite, "expired": expired}


def test_every_staff_page_has_no_axe_violations(page, staff, enrollments, axe_script):
    active = enrollments["active"]
    page.goto("/admin/login/?next=/admin/")
    failures = axe_violations(page, axe_script)
    submit_log_in_form(page, staff)  # the page checked: not loaded again to log in
    change = AccessChange.objects.filter(enrollment=active).first()
    pages = [
        "/admin/",
        "/admin/enrollments/",
        ENROLLMENTS,
        f"{ENROLLMENTS}?access_state=active&q=python",
        f"{ENROLLMENTS}add/",
        f"{ENROLLMENTS}{active.pk}/change/",
        f"{ENROLLMENTS}{enrollments['indefinite'].pk}/change/",
        f"{ENROLLMENTS}{active.pk}/history/",  # the access-change trail of the enrollment
        f"{ENROLLMENTS}{active.pk}/extend-access/",
        f"{ENROLLMENTS}{active.pk}/expire-access/",
        "/admin/enrollments/accesschange/",
        f"/admin/enrollments/accesschange/{change.pk}/change/",
        "/admin/time-zone/?next=/admin/",
    ]
    for path in pages:
        response = page.goto(path)
        assert response.status == 200, path
        failures += axe_violations(page, axe_script)
    assert not failures, "\n".join(failures)


def test_the_extend_steps_have_no_axe_violations(page, staff, enrollments, axe_script):
    """The form from the action, its preview (changed and skipped rows), a field error and a
    rule error."""
    log_in_directly(page, staff)
    page.goto(ENROLLMENTS)
    page.check("#action-toggle")
    page.select_option("select[name=action]", "extend_access")
    page.click("button[name=index]")
    page.wait_for_selector("#extend-access-form")
    assert_accessible(page, axe_script)

    page.fill("#id_days", "30")
    page.click("input[name=_preview]")
    page.wait_for_selector("#preview-heading")
    assert page.locator("table.preview-skipped tbody tr").count() == 2
    assert_accessible(page, axe_script)

    page.fill("#id_days", "0")  # a rule of the core: shown at the field
    page.click("input[name=_preview]")
    page.wait_for_selector("#form-errors")
    assert page.locator("#id_days_error").count() == 1
    assert_accessible(page, axe_script)

    page.check("#id_mode_1")
    page.click("input[name=_preview]")  # no date: a form error
    page.wait_for_selector("#id_until_error")
    assert_accessible(page, axe_script)


def test_the_confirmation_pages_have_no_axe_violations(page, staff, enrollments, axe_script):
    """Pause, resume and remove (enrollments/admin/confirming.py): from the changelist action
    (changed and skipped rows), from an enrollment's button, and a bad reason at its field."""
    staff.user_permissions.add(*permissions("remove_from_course"))
    log_in_directly(page, staff)
    active, indefinite = enrollments["active"], enrollments["indefinite"]
    for action in ("pause_enrollments", "resume_enrollments", "remove_from_course"):
        page.goto(ENROLLMENTS)
        page.check("#action-toggle")
        page.select_option("select[name=action]", action)
        page.click("button[name=index]")
        page.wait_for_selector(".confirm-operation #preview-heading")
        assert page.locator("table.preview-changed tbody tr").count() >= 1, action
        assert_accessible(page, axe_script)
    for path in (
        f"{ENROLLMENTS}{indefinite.pk}/pause/",
        f"{ENROLLMENTS}{active.pk}/resume/",
        f"{ENROLLMENTS}{active.pk}/remove/",
    ):
        response = page.goto(path)
        assert response.status == 200, path
        assert_accessible(page, axe_script)
    # A bad reason (the browser's maxlength stops typing more; a NUL gets past it).
    page.goto(f"{ENROLLMENTS}{indefinite.pk}/pause/")
    page.evaluate("document.getElementById('id_reason').value = 'nul \\u0000 inside'")
    page.click("input[name=_confirm]")
    page.wait_for_selector("#form-errors")
    assert page.locator("#id_reason_error").count() == 1
    assert_accessible(page, axe_script)
    assert not AccessChange.objects.filter(enrollment=indefinite).exists()


def test_at_320_px_tables_scroll_within_themselves(page, staff, enrollments, axe_script):
    """WCAG 1.4.10: at 320 CSS px the page does not scroll sideways; the preview and history
    tables scroll inside their own (focusable, named) regions."""
    log_in_directly(page, staff)
    page.set_viewport_size({"width": 320, "height": 800})
    active = enrollments["active"]

    page.goto(f"{ENROLLMENTS}{active.pk}/change/")
    assert_no_sideways_scroll(page)
    region = page.locator("#access_changes-group .table-scroll")
    assert region.get_attribute("role") == "region"
    assert region.evaluate("el => el.scrollWidth > el.clientWidth"), "the table scrolls in place"

    page.goto(f"{ENROLLMENTS}{active.pk}/extend-access/")
    page.check("#id_mode_2")  # indefinite
    page.click("input[name=_preview]")
    page.wait_for_selector("#preview-heading")
    assert_no_sideways_scroll(page)
    # A preview reads as one card per row: the new end is on screen, under its name.
    assert_on_screen(page, ".preview td.new-end", 320)
    assert page.locator(".preview td.new-end").first.get_attribute("data-label") == "New end"
    assert_accessible(page, axe_script)

    # The confirmation pages (pause, resume, remove): the same tables, the reason field.
    staff.user_permissions.add(*permissions("remove_from_course"))
    page.goto(ENROLLMENTS)
    page.check("#action-toggle")
    page.select_option("select[name=action]", "pause_enrollments")
    page.click("button[name=index]")
    page.wait_for_selector("#preview-heading")
    assert page.locator("table.preview-skipped tbody tr").count() == 1  # the paused one
    assert_no_sideways_scroll(page)
    for path in (f"{active.pk}/resume/", f"{active.pk}/remove/"):
        page.goto(f"{ENROLLMENTS}{path}")
        page.wait_for_selector("#preview-heading")
        assert_no_sideways_scroll(page)
        region = page.locator(".preview .table-scroll").first
        assert region.get_attribute("role") == "region"
        assert_on_screen(page, ".preview td", 320)
    assert_accessible(page, axe_script)


def test_at_390_px_a_preview_shows_each_new_end_on_screen(page, staff, enrollments, axe_script):
    """A phone (390 CSS px): the preview of a change to several enrollments shows every row's
    new end without scrolling sideways, each value named by its column."""
    log_in_directly(page, staff)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(ENROLLMENTS)
    page.check("#action-toggle")
    page.select_option("select[name=action]", "extend_access")
    page.click("button[name=index]")
    page.wait_for_selector("#extend-access-form")
    page.fill("#id_days", "30")
    page.click("input[name=_preview]")
    page.wait_for_selector("#preview-heading")
    assert_no_sideways_scroll(page, 390)
    assert page.locator(".preview tbody tr").count() >= 2  # changed and skipped rows
    assert_on_screen(page, ".preview td", 390)
    assert_accessible(page, axe_script)


def permissions(*codenames: str):
    return Permission.objects.filter(content_type__app_label="enrollments", codename__in=codenames)


def assert_on_screen(page, selector: str, width: int) -> None:
    """Every element matched is drawn within the viewport's width (none cut off to the right)."""
    rights = page.eval_on_selector_all(
        selector, "els => els.map(el => el.getBoundingClientRect().right)"
    )
    assert rights, f"nothing matches {selector}"
    assert max(rights) <= width + 1, f"{selector} reaches {max(rights)} px of {width}"


def page_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def assert_no_sideways_scroll(page, width: int = 320) -> None:
    """The page is no wider than the viewport; on failure, names the elements that stick out."""
    wide = page.evaluate(
        """width => Array.from(document.querySelectorAll('body *'))
            .filter(el => el.getBoundingClientRect().right > width + 1)
            .filter(el => !el.closest('.table-scroll'))
            .slice(0, 8)
            .map(el => el.tagName + (el.id ? '#' + el.id : '') + '.' + el.className + ' '
                 + Math.round(el.getBoundingClientRect().right))""",
        width,
    )
    assert page_width(page) <= width, f"wider than {width} px: {wide}"
