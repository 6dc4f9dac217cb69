"""A background job's page watched in a real browser (job_page.js replacing the parts marked
`data-live-part`): its facts move with the job. They used to stay as the page was opened
(`<dl class="facts">` was no live part), so a page watched from "queued" to "done" never said
when the job started or finished, where a reload did (docs/admin.md "Large selections:
background jobs", 3: the page shows "who started it and when" and refreshes itself)."""

import pytest

from enrollments.models import OperationRun
from tests.browser.conftest import log_in_directly, staff_with
from tests.browser.helpers import (
    active_enrollments,
    choose_action,
    fill_days_and_preview,
    select_all_of_course,
)
from tests.factories import CourseFactory
from tests.jobs.worker import run_jobs

pytestmark = pytest.mark.browser

ROWS = 60
JOB_PAGES = "**/admin/enrollments/operationrun/*/change/"


def facts_named(page) -> list[str]:
    """The names (<dt>) of the job page's facts."""
    return page.eval_on_selector_all("dl.facts dt", "els => els.map(e => e.textContent.trim())")


def test_the_watched_job_page_says_when_the_job_started_and_finished(
    page, transactional_db, settings
):
    settings.RUNS = {"BACKGROUND_ABOVE": 50, "CHUNK_SIZE": 25, "STALE_AFTER_SECONDS": 120}
    staff = staff_with("view_enrollment", "change_enrollment", "extend_access")
    course = CourseFactory(title="Big Course", slug="big-course")
    active_enrollments(course, ROWS)
    active_enrollments(CourseFactory(title="Other Course"), 2)

    log_in_directly(page, staff)
    select_all_of_course(page, "Big Course", ROWS)
    choose_action(page, "extend_access")
    fill_days_and_preview(page, 30)
    page.click("input[name=_confirm]")
    page.wait_for_url(JOB_PAGES)
    assert "queued" in page.inner_text(".run-state")
    assert "Started" not in facts_named(page)

    # As the background-run test does: the worker runs while no refresh is in flight (on
    # SQLite the live server shares the test's connection); the route's handler runs only
    # while the test waits on the browser.
    with page.expect_response(lambda response: "/operationrun/" in response.url):
        pass
    page.route(JOB_PAGES, lambda route: route.continue_())
    (job,) = run_jobs()
    assert job.status == "SUCCESSFUL"
    page.wait_for_selector(".run-state:has-text('done')")
    run = OperationRun.objects.get()
    assert run.started_at is not None and run.finished_at is not None

    watched = facts_named(page)
    page.reload()
    reloaded = facts_named(page)
    assert {"Started", "Finished"} <= set(reloaded), "a reload shows them"
    assert watched == reloaded, (
        f"the page watched until done says:\n{watched}\n-- a reload says:\n{reloaded}"
    )
