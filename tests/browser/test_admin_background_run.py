"""A "Select all" above RUNS["BACKGROUND_ABOVE"] in a real browser: the preview says it runs in
the background, Confirm opens the job page at once (queued), the worker runs the job (in this
process: tests/jobs/worker.run_jobs) and the page, refreshing itself, moves to done; then "Undo
this batch" from the job page undoes every row. axe-core on the preview, the job page and the
list of jobs; the job page's screenshot in docs/admin.md comes from here at 1366 px
(`UPDATE_SCREENSHOTS=1`)."""

from datetime import timedelta

import pytest

from enrollments.models import AccessChange, Enrollment, OperationRun
from tests.browser.conftest import assert_accessible, log_in_directly, staff_with
from tests.browser.helpers import (
    active_enrollments,
    choose_action,
    fill_days_and_preview,
    save_screenshot,
    select_all_of_course,
)
from tests.factories import CourseFactory
from tests.jobs.worker import run_jobs

pytestmark = pytest.mark.browser

ROWS = 60
JOB_PAGES = "**/admin/enrollments/operationrun/*/change/"


def test_a_select_all_runs_in_the_background_then_is_undone(
    page, transactional_db, axe_script, settings, tmp_path
):
    settings.RUNS = {"BACKGROUND_ABOVE": 50, "CHUNK_SIZE": 25, "STALE_AFTER_SECONDS": 120}
    staff = staff_with(
        "view_enrollment", "change_enrollment", "extend_access", "view_accesschange", "undo_batch"
    )
    course = CourseFactory(title="Big Course", slug="big-course")
    rows = active_enrollments(course, ROWS)
    original = {e.pk: e.ended_at for e in rows}
    active_enrollments(CourseFactory(title="Other Course"), 2)

    log_in_directly(page, staff)
    select_all_of_course(page, "Big Course", ROWS)
    choose_action(page, "extend_access")
    fill_days_and_preview(page, 30)
    assert "This runs in the background" in page.inner_text("#background-notice")
    assert_accessible(page, axe_script)

    page.fill("#id_reason", "term moved")
    page.click("input[name=_confirm]")
    page.wait_for_url(JOB_PAGES)
    assert "queued" in page.inner_text(".run-state")
    assert page.get_attribute("#run-progress", "value") == "0"
    assert not AccessChange.objects.exists()
    assert_accessible(page, axe_script)

    # The page's refreshes reach the live server only through this route, whose handler the
    # sync API runs only while the test waits on the browser: never while the worker below
    # uses the database in this thread (on SQLite the live server shares its connection).
    with page.expect_response(lambda response: "/operationrun/" in response.url):
        pass  # one refresh answered: none is in flight now
    page.route(JOB_PAGES, lambda route: route.continue_())
    (job,) = run_jobs()
    assert job.status == "SUCCESSFUL"

    page.wait_for_selector(".run-state:has-text('done')")
    assert page.get_attribute("#run-progress", "value") == str(ROWS)
    assert page.get_attribute("#run-progress", "max") == str(ROWS)
    assert f"{ROWS} changed" in page.inner_text(".counts")
    assert_accessible(page, axe_script)
    page.set_viewport_size({"width": 1366, "height": 900})
    save_screenshot(page, "admin-job-page-1366.png", tmp_path)  # docs/admin.md
    run = OperationRun.objects.get()
    assert (run.state, run.changed) == (OperationRun.State.DONE, ROWS)
    assert all(
        e.ended_at == original[e.pk] + timedelta(days=30)
        for e in Enrollment.objects.filter(course=course)
    )

    job_page = page.url
    page.goto("/admin/enrollments/operationrun/")  # the list of jobs
    assert page.locator("#result_list tbody tr").count() == 1
    assert_accessible(page, axe_script)
    page.goto(job_page)

    page.click("a.undo-batch-link")
    page.wait_for_selector("h2:has-text('Preview')")
    assert f"{ROWS} enrollments will be restored" in page.inner_text(".counts")
    page.click("input[name=_confirm]")
    page.wait_for_selector(".messagelist .success")
    assert f"Undid the batch for {ROWS} enrollments." in page.inner_text(".messagelist")

    now = dict(Enrollment.objects.filter(course=course).values_list("pk", "ended_at"))
    assert now == original
    assert AccessChange.objects.filter(undoes_batch_id=run.batch_id).count() == ROWS
