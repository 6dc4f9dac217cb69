"""The admin in German in Chromium (issue 26 item 9, "the admin in the second locale"): a
browser whose language is German (Playwright's locale de-DE sends Accept-Language: de-DE) and a
staff member with no language of their own read the dashboard, the "Zugang verlängern" preview
and its confirmed result in German, the result announced (focused status region), with 0 axe
violations on each page; then the staff member's own setting, English, chosen on the language
page from the header's link, beats the browser's German."""

from datetime import UTC, datetime

import pytest

from enrollments.models import Enrollment
from lms.models import User
from tests.browser.conftest import (
    SUPPORT_PERMISSIONS,
    assert_accessible,
    live_context,
    log_in_directly,
    staff_with,
)
from tests.browser.helpers import ENROLLMENTS, active_enrollments, choose_action, focused
from tests.factories import CourseFactory

pytestmark = pytest.mark.browser


@pytest.fixture
def german_page(playwright_browser, live_server):
    """A page of a browser whose language is German, in Berlin."""
    context = live_context(
        playwright_browser,
        live_server,
        locale="de-DE",
        timezone_id="Europe/Berlin",
        viewport={"width": 1400, "height": 1000},
    )
    yield context.new_page()
    context.close()


@pytest.fixture
def staff(transactional_db):
    """Support staff with no language of their own (the browser's is used) in Berlin."""
    return staff_with(*SUPPORT_PERMISSIONS, time_zone="Europe/Berlin", language="")


def test_a_german_browser_reads_the_admin_and_an_extension_in_german(
    german_page, staff, axe_script
):
    page = german_page
    course = CourseFactory(title="Python Basics", slug="python-basics")
    chosen = active_enrollments(course, 2, first_end=datetime(2036, 3, 1, 12, 0, tzinfo=UTC))
    log_in_directly(page, staff)

    # The admin home and its dashboard.
    page.goto("/admin/")
    assert page.get_attribute("html", "lang") == "de"
    assert page.get_by_role("heading", name="Einschreibungen auf einen Blick").count() == 1
    assert page.get_by_role("button", name="Abmelden").count() == 1  # Django's own German
    assert_accessible(page, axe_script)

    # "Zugang verlängern": the action, its form, the preview.
    page.goto(ENROLLMENTS)
    for enrollment in chosen:
        page.check(f"input.action-select[value='{enrollment.pk}']")
    assert page.locator("select[name=action] option[value=extend_access]").inner_text() == (
        "Zugang verlängern…"
    )
    choose_action(page, "extend_access")
    page.wait_for_selector("#extend-access-form")
    assert page.get_attribute("html", "lang") == "de"
    assert page.get_by_role("heading", name="Zugang verlängern").count() >= 1
    assert_accessible(page, axe_script)
    page.check("input[name=mode][value=days]")
    page.fill("#id_days", "30")
    page.click("input[name=_preview]")
    page.wait_for_selector("#preview-heading")
    assert page.inner_text("#preview-heading") == "Vorschau"
    assert "2 Einschreibungen werden verlängert." in page.inner_text(".counts")
    assert page.locator("input[name=_confirm]").get_attribute("value") == "Bestätigen"
    assert_accessible(page, axe_script)

    # Confirm: the result in German, announced (the status region takes the focus).
    page.click("input[name=_confirm]")
    page.wait_for_selector(".messagelist .success")
    assert page.inner_text(".messagelist .success") == ("Zugang für 2 Einschreibungen verlängert.")
    assert page.get_attribute(".messagelist", "role") == "status"
    assert focused(page, ".messagelist"), "the result is announced and focused"
    assert page.get_attribute(".messagelist", "aria-label") == "Ergebnis"
    assert_accessible(page, axe_script)
    assert {e.ended_at for e in Enrollment.objects.filter(pk__in=[e.pk for e in chosen])} == {
        datetime(2036, 3, 31, 12, 0, tzinfo=UTC),
        datetime(2036, 3, 31, 13, 0, tzinfo=UTC),
    }

    # The staff member's own setting beats the browser's German: English, chosen from the
    # header's link to the language page.
    page.click("#user-tools a.language-link")
    page.wait_for_selector("#id_language")
    assert page.locator("label[for=id_language]").inner_text() == "Ihre Sprache:"
    assert page.locator("#id_language option").all_inner_texts() == [
        "Die Sprache des Browsers",
        "English",
        "Deutsch",
    ]
    page.select_option("#id_language", "en")
    with page.expect_navigation():
        page.click("input[type=submit]")
    assert page.get_attribute("html", "lang") == "en"
    assert User.objects.get(pk=staff.pk).language == "en"
    page.goto("/admin/")
    assert page.get_attribute("html", "lang") == "en"
    assert page.get_by_role("heading", name="Enrollments at a glance").count() == 1
    assert page.get_by_role("button", name="Log out").count() == 1
