"""The zone picker in Chromium: it lists canonical IANA zones only, and still proposes the
browser's zone when the browser names it by an older alias (Chromium reports Asia/Calcutta for
Asia/Kolkata): staff.js matches the option the browser resolves to the same zone."""

import pytest
from django.urls import reverse

from tests.browser.conftest import live_context, log_in_directly
from tests.factories import StaffFactory

pytestmark = pytest.mark.browser


@pytest.fixture
def india_page(playwright_browser, live_server):
    context = live_context(
        playwright_browser, live_server, timezone_id="Asia/Kolkata", locale="en-IN"
    )
    page = context.new_page()
    yield page
    context.close()


def test_the_browsers_alias_proposes_its_canonical_zone(transactional_db, india_page):
    staff = StaffFactory(time_zone="")
    log_in_directly(india_page, staff)
    india_page.goto(reverse("admin_time_zone"))
    reported = india_page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone")
    assert reported == "Asia/Calcutta"  # Chromium (ICU) names the zone by its old name
    select = india_page.locator("#id_time_zone")
    assert select.input_value() == "Asia/Kolkata"
    options = select.locator("option").evaluate_all("options => options.map(o => o.value)")
    assert "Asia/Calcutta" not in options and "US/Eastern" not in options
    assert 300 <= len(options) <= 420
    india_page.click("input[type=submit]")
    india_page.wait_for_load_state()
    staff.refresh_from_db()
    assert staff.time_zone == "Asia/Kolkata"
