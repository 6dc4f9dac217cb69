"""Keyboard only (Tab, Space, Enter, arrows, typing; no mouse, no `fill`), the lifecycle flows
not covered next door (test_keyboard.py: Extend's three modes, pause, resume, remove;
test_admin_lifecycle_expire.py: end access now): extend from today, enroll learners, undo a
batch. After each step the focus is on its result."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from enrollments.models import AccessChange, Enrollment
from enrollments.operations import Extend, Selection, apply
from enrollments.operations.audit import Attribution
from lms.models import User
from tests.browser.conftest import staff_with
from tests.browser.helpers import (
    ENROLLMENTS,
    enrollment,
    focused,
    log_in_by_keyboard,
    open_extend_page_of,
    preview_and_confirm,
    tab_to,
)
from tests.factories import CourseFactory, OperatorFactory, UserFactory

pytestmark = pytest.mark.browser


def test_extend_from_today_by_keyboard(page, support_staff):
    lapsed = enrollment("learner12@example.com", ended_at=timezone.now() - timedelta(days=40))
    log_in_by_keyboard(page, support_staff)
    open_extend_page_of(page, lapsed)
    tab_to(page, "#id_mode_0")
    page.keyboard.press("Tab")
    assert focused(page, "#id_days")
    page.keyboard.type("30")
    tab_to(page, "#id_from_today")
    page.keyboard.press("Space")
    assert page.is_checked("#id_from_today")
    started = timezone.now()
    preview_and_confirm(page)

    lapsed.refresh_from_db()
    # Counted from now (the later of the old end and now), not from the end 40 days ago.
    assert started + timedelta(days=30) <= lapsed.ended_at <= timezone.now() + timedelta(days=30)
    assert AccessChange.objects.get(enrollment=lapsed).action == AccessChange.Action.EXTEND


def test_enroll_learners_by_keyboard(page, transactional_db):
    staff = staff_with("view_enrollment", "enroll_learners")
    course = CourseFactory(title="Keyboard Course", access_days=30)
    known = UserFactory(email="known@example.com")
    log_in_by_keyboard(page, staff)
    page.goto(ENROLLMENTS)
    tab_to(page, "a.enroll-learners-link")
    page.keyboard.press("Enter")
    page.wait_for_selector("#id_course")
    tab_to(page, "#id_course")
    while page.input_value("#id_course") != str(course.pk):
        page.keyboard.press("ArrowDown")
    tab_to(page, "#id_learners")
    page.keyboard.type("known@example.com\nnew.person@example.com,New Person")
    tab_to(page, "#id_reason")
    page.keyboard.type("cohort by keyboard")
    tab_to(page, "input[name=_preview]")
    page.keyboard.press("Enter")
    page.wait_for_selector("#preview-heading")
    assert focused(page, "#preview-heading"), "the focus moves to the preview"
    assert not Enrollment.objects.exists(), "the preview writes nothing"
    tab_to(page, "input[name=_confirm]")
    page.keyboard.press("Enter")
    page.wait_for_selector(".messagelist .success")

    new = User.objects.get(email="new.person@example.com")
    enrolled = set(Enrollment.objects.filter(course=course).values_list("user_id", flat=True))
    assert enrolled == {known.pk, new.pk}
    assert set(AccessChange.objects.values_list("reason", flat=True)) == {"cohort by keyboard"}


def test_undo_a_batch_by_keyboard(page, transactional_db):
    staff = staff_with("view_enrollment", "view_accesschange", "undo_batch")
    rows = [enrollment(f"learner{n}@example.com") for n in (13, 14)]
    before = {e.pk: e.ended_at for e in rows}
    batch_id = uuid.uuid4()
    # The mistaken batch by someone who may extend (the core keeps to its actor's scope).
    by = Attribution(OperatorFactory(), AccessChange.Source.ADMIN, "300 instead of 30", batch_id)
    apply(Extend(days=300), Selection.named([e.pk for e in rows]), by)
    log_in_by_keyboard(page, staff)
    page.goto(f"/admin/enrollments/accesschange/?batch_id={batch_id}")
    tab_to(page, "a.undo-batch-link")
    page.keyboard.press("Enter")
    page.wait_for_selector("#preview-heading")
    assert focused(page, "#preview-heading"), "the focus moves to the preview"
    tab_to(page, "#id_reason")
    page.keyboard.type("wrong number of days")
    tab_to(page, "input[name=_confirm]")
    page.keyboard.press("Enter")
    page.wait_for_selector(".messagelist .success")

    assert dict(Enrollment.objects.values_list("pk", "ended_at")) == before
    undo = AccessChange.objects.filter(undoes_batch_id=batch_id)
    assert {(r.action, r.reason) for r in undo} == {("undo", "wrong number of days")}
    assert undo.count() == 2
