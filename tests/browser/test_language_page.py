"""Languages in Chromium (lms.language, docs/admin.md "Languages"): the language page, reached
by a staff member for themself, passes axe-core and switches the whole admin to German, kept on
the user; a browser whose language is German reads the admin in German with no setting at all.
Django's own admin words ("Abmelden", "Anmelden") and the project's catalogue (the page's own
choices) are the German witnesses; test_german_admin.py reads the project's pages in German."""

import pytest

from lms.models import User
from tests.browser.conftest import assert_accessible, log_in_directly
from tests.factories import StaffFactory

pytestmark = pytest.mark.browser


def test_the_language_page_switches_the_admin_to_german(page, transactional_db, axe_script):
    staff = StaffFactory()
    log_in_directly(page, staff)
    response = page.goto("/admin/language/?next=/admin/")
    assert response.status == 200
    assert page.get_attribute("html", "lang") == "en"
    assert page.locator("label[for=id_language]").inner_text() == "Your language:"
    assert_accessible(page, axe_script)
    # By keyboard: the select, then Tab to Save and Enter.
    page.select_option("#id_language", "de")
    page.focus("#id_language")
    page.keyboard.press("Tab")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith("/admin/")
    assert page.get_attribute("html", "lang") == "de"
    assert page.get_by_role("button", name="Abmelden").count() == 1  # Django's "Log out"
    staff.refresh_from_db()
    assert staff.language == "de"
    # The page itself, now in German, still passes axe-core; a bad value cannot be posted
    # from it (the select offers the three choices only).
    page.goto("/admin/language/?next=/admin/")
    assert page.get_attribute("html", "lang") == "de"
    assert page.locator("#id_language option").all_inner_texts() == [
        "Die Sprache des Browsers",  # the project's catalogue (locale/de)
        "English",
        "Deutsch",
    ]
    assert_accessible(page, axe_script)
    assert User.objects.get(pk=staff.pk).language == "de"


def test_a_german_browser_reads_the_admin_in_german(playwright_browser, live_server):
    context = playwright_browser.new_context(base_url=live_server.url, locale="de-DE")
    try:
        page = context.new_page()
        page.goto("/admin/login/")
        assert page.get_attribute("html", "lang") == "de"
        assert page.get_by_role("button", name="Anmelden").count() == 1  # Django's "Log in"
    finally:
        context.close()
