"""Issue 26 items 1 and 3 in a real browser, on the demo data (seed_demo): erin@example.com,
removed from Python Basics, found by a search of the enrollment list and restored from her
page; carol@example.com's over-extension (365 days instead of 65) previewed as "Shorten by 300
days" and put right with "Restore the end before this change". axe-core on every page these
items add or change: 0 violations."""

from io import StringIO

import pytest
from django.core.management import call_command

from enrollments.management.commands.seed_demo import (
    DEFAULT_STAFF_PASSWORD,
    OVER_EXTENDED_EMAIL,
    REMOVED_EMAIL,
    STAFF_EMAIL,
)
from enrollments.models import AccessChange, Enrollment
from tests.browser.conftest import assert_accessible

pytestmark = pytest.mark.browser


def test_erin_found_and_restored_then_carols_end_corrected(page, transactional_db, axe_script):
    call_command("seed_demo", force=True, stdout=StringIO())
    erin = Enrollment.objects.get(user__email=REMOVED_EMAIL)
    assert erin.removed_at is not None

    page.goto("/admin/login/?next=/admin/")
    page.fill("#id_username", STAFF_EMAIL)
    page.fill("#id_password", DEFAULT_STAFF_PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#user-tools")

    # The list's default says what it leaves out, and the search says what it found there.
    page.goto("/admin/enrollments/enrollment/")
    page.fill("#searchbar", REMOVED_EMAIL)
    page.keyboard.press("Enter")
    page.wait_for_selector(".messagelist .info")
    assert "1 removed enrollment also matches" in page.inner_text(".messagelist")
    selected = "#changelist-filter li.selected:has-text('Not removed (default)')"
    assert page.locator(selected).count() == 1
    assert_accessible(page, axe_script)

    page.click("a.show-removed-link")
    page.wait_for_url("**access_state=all**")
    assert page.locator("#result_list tbody tr").count() == 1
    assert "Removed from course" in page.inner_text("#result_list .access-badge")
    page.click("#result_list tbody tr th a")
    page.wait_for_selector("a.restore-link")

    # Her page: Restore…, and none of the buttons the core would refuse; History stays.
    for refused in ("a.extend-access-link", "a.expire-access-link", "a.pause-link"):
        assert page.locator(refused).count() == 0
    assert page.locator("a.historylink").count() == 1
    assert_accessible(page, axe_script)

    page.click("a.restore-link")
    page.wait_for_selector("#preview-heading")
    assert page.evaluate("document.activeElement.id") == "preview-heading"
    assert "will be restored" in page.inner_text(".counts")
    assert_accessible(page, axe_script)
    page.fill("#id_reason", "removed by mistake")
    page.click("input[name=_confirm]")
    page.wait_for_selector(".messagelist .success")
    assert "Restored this enrollment." in page.inner_text(".messagelist")
    assert page.locator("a.extend-access-link").count() == 1
    erin.refresh_from_db()
    assert erin.removed_at is None
    assert AccessChange.objects.filter(enrollment=erin, reason="removed by mistake").count() == 1

    # Carol: "Shorten by N days" beside "Set a new end" (previewed only) ...
    carol = Enrollment.objects.get(user__email=OVER_EXTENDED_EMAIL)
    over = carol.ended_at
    page.goto(f"/admin/enrollments/enrollment/{carol.pk}/change/")
    page.click("a.expire-access-link")
    page.wait_for_selector("#expire-access-form")
    assert page.is_hidden("#id_days")  # shown while its choice is checked (staff.js)
    page.check("#id_end_mode_1")
    page.fill("#id_days", "300")
    page.click("input[name=_preview]")
    page.wait_for_selector("#preview-heading")
    assert "will get the new end" in page.inner_text(".counts")
    assert_accessible(page, axe_script)

    # ... then the history's "Restore the end before this change", confirmed.
    page.goto(f"/admin/enrollments/enrollment/{carol.pk}/change/")
    page.click("a.restore-end-link")
    page.wait_for_selector("#preview-heading")
    assert "will get the end back" in page.inner_text(".counts")
    assert_accessible(page, axe_script)
    page.fill("#id_reason", "365 days instead of 65")
    page.click("input[name=_confirm]")
    page.wait_for_selector(".messagelist .success")
    carol.refresh_from_db()
    mistake = AccessChange.objects.get(enrollment=carol, action="extend")
    assert (mistake.new_ended_at, carol.ended_at) == (over, mistake.old_ended_at)
