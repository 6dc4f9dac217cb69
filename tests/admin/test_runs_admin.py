"""The admin's background runs (enrollments/admin/background.py, jobs.py): a "Select all"
above RUNS["BACKGROUND_ABOVE"] is written down as a draft before its preview, Confirm queues it
as a job and answers with the job page, the job applies it (each row once, one audit row each,
rows changed since the preview skipped and listed); the job page, Cancel, Retry, the list of
jobs, and their permissions. Below the threshold the page applies inline as before."""

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.db.models import Count
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from enrollments.admin import background
from enrollments.models import AccessChange, Enrollment, OperationRun
from enrollments.operations import Extend, Selection, apply
from enrollments.operations.audit import Attribution
from lms.models import Course
from tests.admin.conftest import grant, logged_in
from tests.admin.helpers import confirm, confirm_page, post_action, preview
from tests.factories import CourseFactory, CourseRoleFactory, EnrollmentFactory, StaffFactory
from tests.jobs.worker import run_jobs

pytestmark = pytest.mark.django_db

State = OperationRun.State
ROWS = 6


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def job_url(run) -> str:
    return reverse("admin:enrollments_operationrun_change", args=[run.pk])


@pytest.fixture
def small_threshold(settings):
    """Above 3 rows a "Select all" runs in the background, 2 rows per chunk."""
    settings.RUNS = {"BACKGROUND_ABOVE": 3, "CHUNK_SIZE": 2, "STALE_AFTER_SECONDS": 120}


@pytest.fixture
def course_rows(clock):
    """ROWS active enrollments of one course ending in 5 days, and one of another course."""
    course = CourseFactory(title="Big Course")
    ends = clock.current + timedelta(days=5)
    rows = [
        EnrollmentFactory(
            course=course,
            user__email=f"learner{n}@example.com",
            start_at=clock.current - timedelta(days=1),
            ended_at=ends,
        )
        for n in range(ROWS)
    ]
    EnrollmentFactory(start_at=clock.current - timedelta(days=1), ended_at=ends)
    return course, rows


def select_all(client, action: str, course):
    """ "Select all" of the course's rows (the page's first row ticked), then `action`."""
    first = Enrollment.objects.filter(course=course).values_list("pk", flat=True)[:1]
    query = f"course__id__exact={course.pk}"
    return post_action(client, action, list(first), select_across=True, query=query)


def extend_preview(client, course, days="30"):
    """ "Select all" of the course's rows, "Extend access…", then the preview of `days`."""
    page = select_all(client, "extend_access", course)
    assert page.status_code == 200
    return preview(client, page, days=days)


def confirm_in_background(client, shown, django_capture_on_commit_callbacks, **fields):
    fields.setdefault("days", "30")
    fields.setdefault(background.RUN, str(shown.context["draft"].pk))
    with django_capture_on_commit_callbacks(execute=True):
        return confirm(client, shown, **fields)


def audit_counts(course) -> dict:
    return dict(
        AccessChange.objects.filter(enrollment__course=course)
        .values("enrollment")
        .annotate(n=Count("id"))
        .values_list("enrollment", "n")
    )


# -- the background path -----------------------------------------------------------------------


def test_a_select_all_above_the_threshold_runs_as_a_job(
    operator,
    operator_client,
    clock,
    course_rows,
    small_threshold,
    django_capture_on_commit_callbacks,
):
    course, rows = course_rows
    shown = extend_preview(operator_client, course)

    draft = shown.context["draft"]
    assert (draft.state, draft.total, draft.actor, draft.bound_to_preview) == (
        State.PREVIEWED,
        ROWS,
        operator,
        True,
    )
    assert shown.context["preview"].changed == ROWS
    html = shown.content.decode()
    assert "This runs in the background" in html
    assert f'name="run" value="{draft.pk}"' in html

    response = confirm_in_background(
        operator_client, shown, django_capture_on_commit_callbacks, reason="term moved"
    )

    assert response.status_code == 302
    assert response.url == job_url(draft)
    assert DBTaskResult.objects.count() == 1
    run = OperationRun.objects.get(pk=draft.pk)
    assert (run.state, run.reason) == (State.QUEUED, "term moved")
    assert not AccessChange.objects.exists()  # nothing applied in the request

    (job,) = run_jobs()
    assert job.status == "SUCCESSFUL"
    run.refresh_from_db()
    assert (run.state, run.changed, run.skipped, run.unchanged) == (State.DONE, ROWS, 0, 0)
    ends = set(Enrollment.objects.filter(course=course).values_list("ended_at", flat=True))
    assert ends == {clock.current + timedelta(days=35)}
    assert audit_counts(course) == {e.pk: 1 for e in rows}
    audit = AccessChange.objects.filter(enrollment__course=course)
    assert {(a.batch_id, a.source, a.reason, a.actor_id) for a in audit} == {
        (run.batch_id, "admin", "term moved", operator.pk)
    }

    page = operator_client.get(job_url(run))
    html = page.content.decode()
    assert f'<progress id="run-progress" max="{ROWS}" value="{ROWS}">' in html
    assert "<strong>6</strong> changed" in html and "<strong>0</strong> skipped" in html
    assert "data-refresh-every" not in html and 'http-equiv="refresh"' not in html
    assert f"?batch_id={run.batch_id}" in html
    undo = reverse("admin:enrollments_accesschange_undo_batch", args=[run.batch_id])
    assert undo not in html  # the operator may not undo
    undoer = grant(StaffFactory(), "view_enrollment", "undo_batch")
    assert undo in logged_in(undoer).get(job_url(run)).content.decode()


def test_a_pause_of_a_select_all_runs_as_a_job_too(
    operator_client, course_rows, small_threshold, django_capture_on_commit_callbacks
):
    course, rows = course_rows
    shown = select_all(operator_client, "pause_enrollments", course)
    draft = shown.context["draft"]
    assert draft is not None
    with django_capture_on_commit_callbacks(execute=True):
        response = confirm_page(operator_client, shown, "holiday", run=str(draft.pk))
    assert response.url == job_url(draft)
    run_jobs()
    assert Enrollment.objects.filter(course=course, paused_at__isnull=False).count() == ROWS


def test_a_row_changed_between_preview_and_confirm_is_skipped_and_listed(
    operator_client, clock, course_rows, small_threshold, django_capture_on_commit_callbacks
):
    course, rows = course_rows
    shown = extend_preview(operator_client, course)
    moved = rows[2]
    clock.advance(minutes=1)
    by = Attribution(None, AccessChange.Source.COMMAND, "meanwhile")
    apply(Extend(days=1), Selection.named([moved.pk]), by)

    response = confirm_in_background(operator_client, shown, django_capture_on_commit_callbacks)
    run_jobs()

    run = OperationRun.objects.get(pk=shown.context["draft"].pk)
    assert (run.state, run.changed, run.skipped) == (State.DONE, ROWS - 1, 1)
    moved.refresh_from_db()
    assert moved.ended_at == clock.current - timedelta(minutes=1) + timedelta(days=6)
    assert AccessChange.objects.filter(enrollment=moved).count() == 1  # the other change only
    html = operator_client.get(response.url).content.decode()
    assert "learner2@example.com" in html
    assert "The enrollment changed since the preview: it was left as it is" in html
    assert "<strong>1</strong> skipped" in html


def test_a_course_that_stopped_freezing_pauses_since_the_preview_skips_its_rows(
    operator_client, clock, small_threshold, django_capture_on_commit_callbacks
):
    """A select-all Resume previewed while the course froze access during pauses shows every
    end moved by the pause; the course then stops freezing before the job runs. No row is
    resumed with an end the preview did not show: all are skipped as changed since."""
    course = CourseFactory(pause_freezes_access=True)
    ends = clock.current + timedelta(days=5)
    EnrollmentFactory.create_batch(
        ROWS,
        course=course,
        start_at=clock.current - timedelta(days=10),
        ended_at=ends,
        is_paused=True,
        paused_at=clock.current - timedelta(days=2),
    )
    shown = select_all(operator_client, "resume_enrollments", course)
    assert {c.after.ended_at for c in shown.context["plan"].changes} == {ends + timedelta(days=2)}
    Course.objects.filter(pk=course.pk).update(pause_freezes_access=False)

    with django_capture_on_commit_callbacks(execute=True):
        confirm_page(operator_client, shown, "", run=str(shown.context["draft"].pk))
    run_jobs()

    run = OperationRun.objects.get(pk=shown.context["draft"].pk)
    assert (run.state, run.changed, run.skipped) == (State.DONE, 0, ROWS)
    assert set(Enrollment.objects.filter(course=course).values_list("is_paused", "ended_at")) == {
        (True, ends)
    }


def test_another_member_of_staff_cannot_confirm_the_draft(
    operator_client, course_rows, small_threshold, django_capture_on_commit_callbacks
):
    course, _rows = course_rows
    shown = extend_preview(operator_client, course)
    draft = shown.context["draft"]
    other = logged_in(
        grant(StaffFactory(), "view_enrollment", "change_enrollment", "extend_access")
    )

    response = confirm_in_background(other, shown, django_capture_on_commit_callbacks)

    assert response.status_code == 200
    assert response.context["notice"] == background.NOT_QUEUED
    assert not DBTaskResult.objects.exists()
    assert OperationRun.objects.get(pk=draft.pk).state == State.PREVIEWED  # left alone
    assert response.context["draft"].actor != draft.actor  # the other's own new draft


def test_confirming_twice_queues_once(
    operator_client, course_rows, small_threshold, django_capture_on_commit_callbacks
):
    course, _rows = course_rows
    shown = extend_preview(operator_client, course)
    first = confirm_in_background(operator_client, shown, django_capture_on_commit_callbacks)
    second = confirm_in_background(operator_client, shown, django_capture_on_commit_callbacks)

    assert first.status_code == 302
    assert second.status_code == 200
    assert second.context["notice"] == background.NOT_QUEUED
    assert 'role="alert"' in second.content.decode()
    assert DBTaskResult.objects.count() == 1


def test_parameters_changed_without_a_new_preview_queue_nothing(
    operator_client, course_rows, small_threshold, django_capture_on_commit_callbacks
):
    course, _rows = course_rows
    shown = extend_preview(operator_client, course)
    response = confirm_in_background(
        operator_client, shown, django_capture_on_commit_callbacks, days="60"
    )
    assert response.status_code == 200
    assert response.context["notice"] == background.CHANGED
    assert not DBTaskResult.objects.exists()
    # The new preview (60 days) replaced the draft: one draft, of 60 days.
    (draft,) = OperationRun.objects.filter(state=State.PREVIEWED)
    assert draft == response.context["draft"]
    assert "60 days" in draft.description or "60" in str(draft.parts)


@pytest.mark.parametrize(("previewed", "confirmed"), [("", "holiday"), ("holiday", "")])
def test_a_reason_changed_without_a_new_preview_queues_nothing_where_it_plans(
    course_rows, small_threshold, django_capture_on_commit_callbacks, previewed, confirmed
):
    """A course that requires its staff to give a reason: previewed without one, every row is
    skipped; the draft was queued all the same with a reason typed afterwards, and the job
    paused every row the preview said it would not (and the other way round). The inline
    path's fingerprint refuses the same Confirm."""
    course, rows = course_rows
    Course.objects.filter(pk=course.pk).update(staff_reason_required=True)
    staff = StaffFactory()
    CourseRoleFactory(user=staff, course=course, role="staff")
    client = logged_in(staff)
    shown = select_all(client, "pause_enrollments", course)
    if previewed:  # "Update preview" with the reason typed
        draft = shown.context["draft"].pk
        data = {"_preview": "Preview", "reason": previewed, background.RUN: draft}
        for name, value in shown.context["scope"].hidden_fields:
            data.setdefault(name, []).append(value)
        shown = client.post(shown.context["scope"].form_url, data)
    preview_counts = (shown.context["preview"].changed, shown.context["preview"].skipped)
    assert preview_counts == ((ROWS, 0) if previewed else (0, ROWS))
    with django_capture_on_commit_callbacks(execute=True):
        response = confirm_page(client, shown, confirmed, run=str(shown.context["draft"].pk))
    assert response.status_code == 200
    assert response.context["notice"] == background.CHANGED
    assert not DBTaskResult.objects.exists()
    run_jobs()
    assert not Enrollment.objects.filter(course=course, is_paused=True).exists()
    # The new preview planned with the reason now given, and its draft keeps it.
    (draft,) = OperationRun.objects.filter(state=State.PREVIEWED)
    assert draft == response.context["draft"] and draft.reason == confirmed


def test_a_new_preview_replaces_the_staff_members_draft(
    operator_client, course_rows, small_threshold
):
    course, _rows = course_rows
    shown = extend_preview(operator_client, course)
    first = shown.context["draft"]
    again = preview(operator_client, shown, days="45", run=str(first.pk))
    assert not OperationRun.objects.filter(pk=first.pk).exists()
    assert list(OperationRun.objects.all()) == [again.context["draft"]]


def test_below_the_threshold_the_page_applies_inline(operator_client, course_rows, settings):
    settings.RUNS = {"BACKGROUND_ABOVE": ROWS}
    course, rows = course_rows
    shown = extend_preview(operator_client, course)
    assert shown.context["draft"] is None
    assert "This runs in the background" not in shown.content.decode()

    response = confirm(operator_client, shown, days="30")

    assert response.status_code == 302
    assert "Extended access for 6 enrollments." in messages_of(response)
    assert not OperationRun.objects.exists()
    assert not DBTaskResult.objects.exists()
    assert audit_counts(course) == {e.pk: 1 for e in rows}


def test_ticked_rows_and_one_enrollment_always_apply_inline(
    operator_client, course_rows, small_threshold
):
    course, rows = course_rows
    shown = post_action(operator_client, "pause_enrollments", [e.pk for e in rows[:5]])
    assert shown.context["draft"] is None
    one = operator_client.get(reverse("admin:enrollments_enrollment_pause_one", args=[rows[0].pk]))
    assert one.context["draft"] is None
    assert not OperationRun.objects.exists()


# -- the job page, Cancel, Retry ---------------------------------------------------------------


@pytest.fixture
def queued(operator_client, course_rows, small_threshold, django_capture_on_commit_callbacks):
    """A confirmed "+30 days" of the course's rows, queued, no worker has run it yet."""
    course, _rows = course_rows
    shown = extend_preview(operator_client, course)
    confirm_in_background(operator_client, shown, django_capture_on_commit_callbacks)
    return OperationRun.objects.get(pk=shown.context["draft"].pk)


def test_the_job_page_of_a_queued_run_refreshes_itself(operator_client, operator, queued):
    html = operator_client.get(job_url(queued)).content.decode()
    assert "waiting for a worker" in html
    assert f'<progress id="run-progress" max="{ROWS}" value="0">' in html
    assert 'data-refresh-every="2"' in html
    assert '<noscript><meta http-equiv="refresh" content="2"></noscript>' in html
    assert operator.email in html
    assert "Extend" in html or queued.description in html
    assert 'class="cancel-job"' in html


def test_the_time_left_is_estimated_from_the_rate_since_it_started(operator_client, clock, queued):
    OperationRun.objects.filter(pk=queued.pk).update(
        state=State.RUNNING, started_at=clock.current - timedelta(minutes=4), changed=2
    )
    html = operator_client.get(job_url(queued)).content.decode()
    # 2 rows in 4 minutes: 4 rows left take 8.
    assert "Time left: about 8 minutes" in html


def test_cancel_stops_a_queued_run_before_any_row(
    operator_client, course_rows, queued, django_capture_on_commit_callbacks
):
    course, _rows = course_rows
    cancel = reverse("admin:enrollments_operationrun_cancel", args=[queued.pk])
    response = operator_client.post(cancel)
    assert response.url == job_url(queued)
    assert "Cancel asked" in messages_of(response)[0]
    run_jobs()
    queued.refresh_from_db()
    assert (queued.state, queued.changed) == (State.CANCELLED, 0)
    assert not AccessChange.objects.exists()
    html = operator_client.get(job_url(queued)).content.decode()
    assert 'class="cancel-job"' not in html and "data-refresh-every" not in html


def test_a_failed_run_is_shown_with_its_error_and_retried(
    operator_client, course_rows, queued, monkeypatch, django_capture_on_commit_callbacks
):
    course, rows = course_rows

    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    with monkeypatch.context() as patched:
        patched.setattr("enrollments.operations.runs.apply", broken)
        (job,) = run_jobs()
    assert job.status == "FAILED"
    queued.refresh_from_db()
    assert queued.state == State.FAILED
    html = operator_client.get(job_url(queued)).content.decode()
    assert "RuntimeError: database went away" in html
    assert 'class="retry-job default"' in html

    retry = reverse("admin:enrollments_operationrun_retry", args=[queued.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = operator_client.post(retry)
    assert "Queued again" in messages_of(response)[0]
    queued.refresh_from_db()
    assert (queued.state, queued.error) == (State.QUEUED, "")
    assert 'data-refresh-every="2"' in operator_client.get(job_url(queued)).content.decode()
    assert operator_client.post(retry).status_code == 302  # twice: one job
    assert DBTaskResult.objects.filter(status="READY").count() == 1
    run_jobs()

    queued.refresh_from_db()
    assert (queued.state, queued.changed) == (State.DONE, ROWS)
    assert audit_counts(course) == {e.pk: 1 for e in rows}


def test_a_second_job_queued_before_the_failure_leaves_the_run_failed(
    course_rows, queued, monkeypatch, django_capture_on_commit_callbacks
):
    """The sweep may have queued a second job of a run whose runner still lived. When the
    first fails the run, the second must not resume it unasked (staff may be about to cancel
    it and undo what it did): a failed run waits for Retry."""
    from enrollments.jobs.runs import enqueue

    with django_capture_on_commit_callbacks(execute=True):
        enqueue(queued)  # the sweep's second job, queued while the first still lived

    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    with monkeypatch.context() as patched:
        patched.setattr("enrollments.operations.runs.apply", broken)
        first, second = run_jobs()
    assert (first.status, second.status) == ("FAILED", "SUCCESSFUL")
    assert second.return_value["state"] == State.FAILED
    queued.refresh_from_db()
    assert (queued.state, queued.changed) == (State.FAILED, 0)


def test_retry_of_a_run_that_did_not_fail_queues_nothing(operator_client, queued):
    retry = reverse("admin:enrollments_operationrun_retry", args=[queued.pk])
    response = operator_client.post(retry)
    assert messages_of(response) == ["Only a failed job can be retried."]
    assert DBTaskResult.objects.count() == 1  # the Confirm's job only


def test_the_list_shows_jobs_not_drafts_and_retries_failed_ones(
    operator_client, course_rows, queued, django_capture_on_commit_callbacks
):
    course, _rows = course_rows
    extend_preview(operator_client, course)  # a draft
    OperationRun.objects.filter(pk=queued.pk).update(state=State.FAILED, error="boom")
    changelist = reverse("admin:enrollments_operationrun_changelist")

    page = operator_client.get(changelist)
    assert list(page.context["cl"].result_list) == [queued]
    html = page.content.decode()
    assert job_url(queued) in html and "boom" in html
    assert list(operator_client.get(changelist, {"state": "done"}).context["cl"].result_list) == []
    assert "previewed" not in [
        c["display"] for c in page.context["cl"].filter_specs[0].choices(page.context["cl"])
    ]

    with django_capture_on_commit_callbacks(execute=True):
        response = operator_client.post(
            changelist,
            {"action": "retry_failed", "_selected_action": [str(queued.pk)], "index": "0"},
        )
    assert messages_of(response) == ["Queued again 1 failed job."]
    assert DBTaskResult.objects.count() == 2


# -- permissions -------------------------------------------------------------------------------


def test_staff_who_see_enrollments_see_jobs_but_control_them_only_with_the_permission(
    viewer_client, queued
):
    page = viewer_client.get(job_url(queued))
    assert page.status_code == 200
    assert 'class="cancel-job"' not in page.content.decode()
    for name in ("cancel", "retry"):
        url = reverse(f"admin:enrollments_operationrun_{name}", args=[queued.pk])
        assert viewer_client.post(url).status_code == 403
    queued.refresh_from_db()
    assert queued.state == State.QUEUED and not queued.cancel_requested


def test_staff_who_cannot_see_enrollments_get_403(queued):
    outsider = logged_in(grant(StaffFactory(), "extend_access"))
    assert outsider.get(job_url(queued)).status_code == 403
    changelist = reverse("admin:enrollments_operationrun_changelist")
    assert outsider.get(changelist).status_code == 403
    cancel = reverse("admin:enrollments_operationrun_cancel", args=[queued.pk])
    assert outsider.post(cancel).status_code == 403


def test_the_list_is_read_only(operator_client, queued):
    assert operator_client.get(reverse("admin:enrollments_operationrun_add")).status_code == 403
    delete = reverse("admin:enrollments_operationrun_delete", args=[queued.pk])
    assert operator_client.post(delete, {"post": "yes"}).status_code == 403
    assert OperationRun.objects.filter(pk=queued.pk).exists()


def test_an_unknown_job_leads_back_to_the_list(operator_client):
    response = operator_client.get(reverse("admin:enrollments_operationrun_change", args=["nope"]))
    assert response.url == reverse("admin:enrollments_operationrun_changelist")
    assert messages_of(response) == ["No such job."]


# -- cost --------------------------------------------------------------------------------------


def test_the_job_page_query_count_is_pinned(
    operator_client, clock, course_rows, queued, django_assert_num_queries
):
    """Session, user, permissions (user and group), their course roles (read once: they hold
    neither the audit trail's nor the undo's permission globally, admin/scoping.py), the run
    with its actor; with skipped rows, the skipped rows and their names (two more): whatever
    the number of rows."""
    with django_assert_num_queries(6):
        operator_client.get(job_url(queued))
    course, rows = course_rows
    clock.advance(minutes=1)
    apply(
        Extend(days=1), Selection.named([r.pk for r in rows[:3]]), Attribution(None, "command", "")
    )
    run_jobs()
    with django_assert_num_queries(8):
        page = operator_client.get(job_url(queued))
    assert len(page.context["skipped_rows"]) == 3


def test_the_background_preview_counts_by_sql_and_shows_a_sample(
    operator_client, clock, course_rows, small_threshold, monkeypatch
):
    """Counted over every row (skips by reason included), the tables showing only the first
    rows: the plan is not made row by row for a selection this large."""
    course, rows = course_rows
    for row in rows[:2]:  # two rows whose extension would leave them expired
        Enrollment.objects.filter(pk=row.pk).update(ended_at=clock.current - timedelta(days=90))
    monkeypatch.setattr("enrollments.operations.outcomes.SAMPLE_SIZE", 3)

    shown = extend_preview(operator_client, course)

    preview_ = shown.context["preview"]
    assert (preview_.selected, preview_.changed, preview_.skipped) == (ROWS, ROWS - 2, 2)
    assert preview_.skipped_by_reason == [("Access would still be expired after the extension", 2)]
    assert preview_.sampled == 3
    assert len(preview_.changed_rows) + len(preview_.skipped_rows) == 3
    page = shown.content.decode()
    assert "Access would still be expired after the extension: <strong>2</strong>" in page
    assert f"Counted over all {ROWS} enrollments; the tables show the first 3" in page


def a_job(clock, actor, number: int) -> OperationRun:
    """A failed job of its own staff member, created straight in the table (the list's cost)."""
    return OperationRun.objects.create(
        parts={},
        description=f"Extend by 30 days, job {number}",
        state=State.FAILED,
        actor=actor,
        source=AccessChange.Source.ADMIN,
        total=10,
        changed=4,
        skipped=1,
        error="boom",
        created_at=clock.current,
    )


@pytest.mark.parametrize("jobs", [1, 20])
def test_the_job_list_query_count_does_not_grow_with_its_rows(
    operator_client, clock, jobs, django_assert_num_queries
):
    """Session, user, permissions (user and group), their course roles (read once: they do
    not hold the audit trail's permission globally, admin/scoping.py), the count, the filter's
    total and the page of jobs with their staff members: the same for 1 job and for 20."""
    for number in range(jobs):
        a_job(clock, StaffFactory(), number)
    with django_assert_num_queries(8):
        page = operator_client.get(reverse("admin:enrollments_operationrun_changelist"))
    assert len(page.context["cl"].result_list) == jobs
