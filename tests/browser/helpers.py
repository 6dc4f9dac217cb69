"""What the browser tests share: driving the admin by keyboard alone (Tab until a control has the
focus, log in, preview and confirm) and by mouse (an action, the "Extend access" days), bulk
enrollments to act on, and the screenshots docs/admin.md shows."""

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.utils import timezone

from enrollments.models import Enrollment
from lms.models import User
from tests.browser.conftest import PASSWORD
from tests.factories import CourseFactory, EnrollmentFactory

ENROLLMENTS = "/admin/enrollments/enrollment/"
DOCS = Path(__file__).resolve().parents[2] / "docs"
#: A generous bound on the Tab presses to reach a control: a missing control fails, not hangs.
MAX_PRESSES = 120


def enrollment(email: str, ended_at=datetime(2036, 3, 1, 12, 0, tzinfo=UTC)) -> Enrollment:
    return EnrollmentFactory(
        user__email=email,
        course=CourseFactory(title=f"Course of {email}"),
        start_at=timezone.now() - timedelta(days=5),
        ended_at=ended_at,
    )


def focused(page, selector: str) -> bool:
    return page.evaluate(
        "s => document.activeElement !== null && document.activeElement.matches(s)", selector
    )


def tab_to(page, selector: str, *, backwards: bool = False) -> None:
    """Presses Tab (Shift+Tab backwards) until the focus is on `selector`."""
    key = "Shift+Tab" if backwards else "Tab"
    for _ in range(MAX_PRESSES):
        page.keyboard.press(key)
        if focused(page, selector):
            return
    active = page.evaluate("document.activeElement && document.activeElement.outerHTML")
    raise AssertionError(f"{key} never reached {selector}; the focus is on {active}")


def log_in_by_keyboard(page, user) -> None:
    page.goto("/admin/login/?next=/admin/")
    assert focused(page, "#id_username"), "the log-in page focuses the e-mail field"
    page.keyboard.type(user.email)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_selector("#user-tools")


def open_extend_page_of(page, target: Enrollment) -> None:
    """From the enrollment's page: Tab to "Extend access", Enter."""
    page.goto(f"{ENROLLMENTS}{target.pk}/change/")
    tab_to(page, "a.extend-access-link")
    page.keyboard.press("Enter")
    page.wait_for_selector("#extend-access-form")


def preview_and_confirm(page) -> None:
    """Tab to Preview, Enter; the focus lands on the preview; Tab to Confirm, Enter."""
    tab_to(page, "input[name=_preview]")
    page.keyboard.press("Enter")
    page.wait_for_selector("#preview-heading")
    assert focused(page, "#preview-heading"), "the focus moves to the preview"
    tab_to(page, "input[name=_confirm]")
    page.keyboard.press("Enter")
    page.wait_for_selector(".messagelist .success")
    assert focused(page, '.messagelist[role="status"]'), "the result is announced and focused"


def active_enrollments(
    course, count: int, *, ends_in_days: int = 10, first_end: datetime | None = None
) -> list[Enrollment]:
    """`count` active enrollments in `course`, written in two bulk INSERTs; the n-th ends n
    hours after `first_end` (default: `ends_in_days` from now)."""
    now = timezone.now()
    first_end = first_end or now + timedelta(days=ends_in_days)
    start = User.objects.count()
    users = User.objects.bulk_create(
        User(email=f"learner{start + n:04d}@example.com", first_name=f"Learner {start + n}")
        for n in range(count)
    )
    return Enrollment.objects.bulk_create(
        Enrollment(
            user=user,
            course=course,
            start_at=now - timedelta(days=5),
            ended_at=first_end + timedelta(hours=n),
        )
        for n, user in enumerate(users)
    )


def select_all_of_course(page, title: str, count: int) -> None:
    """On the enrollments' list: the course filter `title`, every row of the page ticked, then
    "Select all `count`" across the pages (the select-all a background run starts from)."""
    page.goto("/admin/enrollments/enrollment/")
    page.click(f"#changelist-filter a:has-text('{title}')")
    page.wait_for_url("**course__id__exact=*")
    page.check("#action-toggle")
    page.click(f".actions .question a:has-text('Select all {count}')")
    page.wait_for_selector(".actions .all:visible")


def choose_action(page, action: str) -> None:
    page.select_option("select[name=action]", action)
    page.click("button[name=index]")


def fill_days_and_preview(page, days: int) -> None:
    page.check("input[name=mode][value=days]")
    page.fill("#id_days", str(days))
    page.click("input[name=_preview]")
    page.wait_for_selector("h2:has-text('Preview')")


def save_screenshot(page, name: str, tmp_path, *, full_page: bool = True) -> None:
    """The page as it is, into docs/`name` with UPDATE_SCREENSHOTS=1 (docs/admin.md shows it),
    else a scratch file, so that a test run leaves the work tree clean."""
    target = DOCS / name if os.environ.get("UPDATE_SCREENSHOTS") == "1" else tmp_path / name
    page.screenshot(path=str(target), full_page=full_page)
    assert target.stat().st_size > 10_000
