"""Two Confirms of one preview at once (a double click, a proxy retry) apply once: the core
re-plans under the row locks and compares with the previewed plan, so the second Confirm finds
the ends already moved and answers with the changed-since-preview page (PostgreSQL, threads)."""

from datetime import timedelta

import pytest
from django.urls import reverse

from enrollments.models import AccessChange, Enrollment
from tests.admin.conftest import grant, logged_in
from tests.admin.helpers import EXTEND, extend_form_data, post_action
from tests.factories import CourseFactory, EnrollmentFactory, StaffFactory
from tests.markers import requires_postgres
from tests.threads import run_at_once

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]


def operator():
    return grant(
        StaffFactory(), "view_enrollment", "change_enrollment", "extend_access", "pause_enrollment"
    )


@pytest.mark.parametrize("round_", range(4))
def test_two_confirms_of_one_preview_apply_once(round_):
    course = CourseFactory()
    rows = EnrollmentFactory.create_batch(5, course=course)
    before = {e.pk: e.ended_at for e in rows}
    staff = operator()
    first, second = logged_in(staff), logged_in(staff)
    page = post_action(first, "extend_access", [e.pk for e in rows])
    shown = first.post(reverse(EXTEND), extend_form_data(page, _preview="Preview", days="30"))
    confirm = extend_form_data(
        shown, _confirm="Confirm", fingerprint=shown.context["fingerprint"], days="30"
    )

    responses = run_at_once(2, lambda i: (first, second)[i].post(reverse(EXTEND), confirm))

    assert sorted(r.status_code for r in responses) == [200, 302]
    again = next(r for r in responses if r.status_code == 200)
    assert "changed since the preview" in again.content.decode()
    # The page shows the new preview: the same rows, now from their new ends.
    assert again.context["preview"].changed == 5
    assert again.context["fingerprint"] != shown.context["fingerprint"]
    for enrollment in Enrollment.objects.filter(course=course):
        assert enrollment.ended_at == before[enrollment.pk] + timedelta(days=30)
    audit = AccessChange.objects.filter(enrollment__course=course)
    assert audit.count() == 5
    assert sorted(audit.values_list("enrollment_id", flat=True)) == sorted(before)


def test_two_pause_confirms_of_one_plan_through_the_core_apply_once():
    """The same guarantee for any operation, at the core: two applies expecting one plan."""
    from enrollments.errors import ChangedSincePreview
    from enrollments.operations import Pause, Selection, apply, preview
    from enrollments.operations.audit import Attribution

    rows = EnrollmentFactory.create_batch(3)
    selection = Selection.named(e.pk for e in rows)
    expected = preview(Pause(), selection).fingerprint()
    by = Attribution(None, AccessChange.Source.COMMAND)

    results = run_at_once(2, lambda i: apply(Pause(), selection, by, expected=expected))

    errors = [r for r in results if isinstance(r, Exception)]
    assert len(errors) == 1 and isinstance(errors[0], ChangedSincePreview)
    assert [s.error.code for s in errors[0].plan.skips] == ["ALREADY_PAUSED"] * 3
    assert AccessChange.objects.count() == 3
