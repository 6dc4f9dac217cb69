"""Wording that said what did not happen (issue 26, item 7): the enroll result names only the
counts that happened; a refused Confirm says whether the staff member's own request changed
or the enrollments did; after an undo, the page says it is the undo of a batch, and its link
re-applies the undone batch under that name (never "Undo this batch")."""

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from enrollments.admin.confirming import INPUT_CHANGED
from enrollments.admin.enrolling import enroll_summary
from enrollments.admin.undoing import REAPPLY_LABEL, UNDO_LABEL
from enrollments.models import AccessChange, Enrollment
from enrollments.operations import Extend, Remove, Selection, apply
from enrollments.operations.audit import Attribution
from tests.admin.conftest import grant, logged_in
from tests.admin.helpers import (
    EXTEND,
    confirm,
    confirm_page,
    extend_form_data,
    post_action,
    preview,
)
from tests.factories import CourseFactory, EnrollmentFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

SYSTEM = Attribution(None, AccessChange.Source.SYSTEM)
ENROLL = "/admin/enrollments/enrollment/enroll/"
#: The undo's landing page (the audit list filtered to its batch), read a second time; two of
#: them list the course and actor filters' choices (enrollments/admin/audit_filters.py).
QUERIES = 13
ROWS_CHANGED = (
    "The enrollments changed since the preview: nothing was applied: "
    "check the new preview and confirm again."
)


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# -- 1. the enroll result --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("counts", "new", "expected"),
    [
        ({"enrolled": 0, "restored": 1, "updated": 0, "unchanged": 0}, 0, "Restored 1 learner."),
        (
            {"enrolled": 2, "restored": 1, "updated": 0, "unchanged": 3},
            1,
            "Enrolled 2 learners (1 new account); restored 1; 3 unchanged.",
        ),
        ({"enrolled": 1, "restored": 0, "updated": 0, "unchanged": 0}, 0, "Enrolled 1 learner."),
        (
            {"enrolled": 0, "restored": 0, "updated": 2, "unchanged": 1},
            0,
            "Set a new end of access for 2 learners; 1 unchanged.",
        ),
        (
            {"enrolled": 3, "restored": 0, "updated": 1, "unchanged": 0},
            3,
            "Enrolled 3 learners (3 new accounts); set a new end for 1.",
        ),
        (
            {"enrolled": 0, "restored": 0, "updated": 0, "unchanged": 2},
            0,
            "2 learners already enrolled: nothing changed.",
        ),
        ({"enrolled": 0, "restored": 0, "updated": 0, "unchanged": 0}, 0, ""),
    ],
)
def test_the_enroll_summary_names_only_what_happened(counts, new, expected):
    assert enroll_summary(counts, new) == expected


@pytest.fixture
def course(db):
    return CourseFactory(title="Python", access_days=30)


def enroll_preview(client, course, learners, **extra):
    return client.post(
        ENROLL, {"course": str(course.pk), "learners": learners, "_preview": "1", **extra}
    )


def enroll_confirm(client, shown, **extra):
    form = shown.context["form"]
    data = {
        "course": form.data["course"],
        "learners": form.data["learners"],
        "ended_at": form.data.get("ended_at", ""),
        "reason": form.data.get("reason", ""),
        "fingerprint": shown.context["fingerprint"],
        "previewed": shown.context["previewed"],
        "_confirm": "1",
        **extra,
    }
    return ENROLL, data


def test_restoring_one_learner_says_only_that(enroller_client, course):
    removed = EnrollmentFactory(course=course, user=UserFactory(email="bob@example.com"))
    apply(Remove(), Selection.named([removed.pk]), SYSTEM)
    shown = enroll_preview(enroller_client, course, "bob@example.com")
    done = enroller_client.post(*enroll_confirm(enroller_client, shown))
    assert done.status_code == 302
    assert messages_of(done) == ["Restored 1 learner."]


def test_a_mixed_enroll_reports_each_count_once(enroller_client, course):
    EnrollmentFactory(course=course, user=UserFactory(email="ann@example.com"))
    removed = EnrollmentFactory(course=course, user=UserFactory(email="bob@example.com"))
    apply(Remove(), Selection.named([removed.pk]), SYSTEM)
    UserFactory(email="cat@example.com")
    text = "ann@example.com\nbob@example.com\ncat@example.com\nnew@example.com,New\nbad"
    shown = enroll_preview(enroller_client, course, text)
    done = enroller_client.post(*enroll_confirm(enroller_client, shown))
    assert messages_of(done) == [
        "Enrolled 2 learners (1 new account); restored 1; 1 unchanged.",
        "Refused 1 line.",
    ]


# -- 2. a refused Confirm: whose change? ------------------------------------------------------


def test_changed_days_after_the_preview_say_the_request_changed(operator_client, three_enrollments):
    page = post_action(operator_client, "extend_access", [e.pk for e in three_enrollments])
    shown = preview(operator_client, page, days="30")
    again = confirm(operator_client, shown, days="31")
    assert again.status_code == 200
    assert again.context["notice"] == INPUT_CHANGED
    assert INPUT_CHANGED in again.content.decode()
    assert "changed since the preview" not in again.content.decode()
    assert AccessChange.objects.count() == 0
    # The new preview is the one for 31 days, and confirming it applies it.
    done = confirm(operator_client, again, days="31")
    assert done.status_code == 302
    assert set(AccessChange.objects.values_list("action", flat=True)) == {"extend"}


def test_rows_changed_under_the_same_request_say_the_enrollments_changed(
    operator_client, three_enrollments, clock
):
    page = post_action(operator_client, "extend_access", [e.pk for e in three_enrollments])
    shown = preview(operator_client, page, days="30")
    Enrollment.objects.filter(pk=three_enrollments[0].pk).update(
        ended_at=clock.current + timedelta(days=8)
    )
    again = confirm(operator_client, shown, days="30")
    assert again.status_code == 200
    assert again.context["notice"] == ROWS_CHANGED
    assert INPUT_CHANGED not in again.content.decode()
    assert AccessChange.objects.count() == 0


def test_a_reason_typed_after_the_preview_is_not_a_changed_request(operator_client, mixed_pause):
    """The normal flow: the preview at once, the reason typed, Confirm. Confirmed twice, the
    second refusal is about the rows, though its reason differs."""
    shown = post_action(operator_client, "pause_enrollments", [mixed_pause.pk])
    first = confirm_page(operator_client, shown, "first")
    assert first.status_code == 302
    again = confirm_page(operator_client, shown, "second")
    assert again.context["notice"] == ROWS_CHANGED


@pytest.fixture
def mixed_pause(clock):
    return EnrollmentFactory(ended_at=clock.current + timedelta(days=10))


def test_the_enroll_page_tells_edited_lines_from_changed_rows(enroller_client, course):
    shown = enroll_preview(enroller_client, course, "new@example.com,New Person")
    url, data = enroll_confirm(enroller_client, shown)
    edited = enroller_client.post(url, {**data, "learners": "other@example.com,Other Person"})
    assert edited.status_code == 200
    assert edited.context["notice"] == INPUT_CHANGED
    assert not Enrollment.objects.exists()
    # Someone else enrolled the same address meanwhile: same lines, other rows.
    apply_url, apply_data = enroll_confirm(enroller_client, shown)
    assert enroller_client.post(apply_url, apply_data).status_code == 302
    twice = enroller_client.post(apply_url, apply_data)
    assert twice.status_code == 200
    assert twice.context["notice"] == ROWS_CHANGED


def test_a_forged_or_missing_digest_only_picks_the_words(operator_client, three_enrollments):
    page = post_action(operator_client, "extend_access", [e.pk for e in three_enrollments])
    shown = preview(operator_client, page, days="30")
    for previewed in ("", "0" * 64):
        data = extend_form_data(
            shown, _confirm="Confirm", fingerprint="0" * 64, previewed=previewed, days="30"
        )
        refused = operator_client.post(reverse(EXTEND), data)
        assert refused.status_code == 200
        # Missing: the rows' words, as before; forged: the request's. Nothing applied.
        assert refused.context["notice"] == (INPUT_CHANGED if previewed else ROWS_CHANGED)
    assert AccessChange.objects.count() == 0
    # A forged digest never makes a matching Confirm refuse.
    done = confirm(operator_client, shown, days="30", previewed="0" * 64)
    assert done.status_code == 302


# -- 3. after an undo -------------------------------------------------------------------------


@pytest.fixture
def undoer_client(db):
    return logged_in(grant(StaffFactory(), "view_enrollment", "view_accesschange", "undo_batch"))


@pytest.fixture
def batch(clock):
    course = CourseFactory(title="Python")
    rows = [
        EnrollmentFactory(
            course=course,
            user=UserFactory(email=f"l{i}@example.com"),
            ended_at=clock.current + timedelta(days=20),
        )
        for i in range(2)
    ]
    clock.advance(hours=1)
    done = apply(Extend(days=30), Selection.named([e.pk for e in rows]), SYSTEM)
    clock.advance(hours=1)
    return done.batch_id


def undo(client, batch_id):
    page = client.get(reverse("admin:enrollments_accesschange_undo_batch", args=[batch_id]))
    return client.post(
        page.context["scope"].form_url,
        {"_confirm": "Confirm", "fingerprint": page.context["fingerprint"], "reason": "oops"},
    )


def test_after_an_undo_the_page_is_the_undo_of_the_batch(
    undoer_client, batch, django_assert_num_queries
):
    done = undo(undoer_client, batch)
    assert done.status_code == 302
    (undo_batch,) = set(
        AccessChange.objects.filter(action="undo").values_list("batch_id", flat=True)
    )
    landed = undoer_client.get(done["Location"])
    html = landed.content.decode()
    assert "Undid the batch for 2 enrollments." in html
    assert f"<h1>Undo of batch {str(batch)[:8]}…</h1>" in html
    assert "Select access change to view" not in html
    assert f"put the enrollments of batch {batch} back to their state before it" in html
    assert f'href="/admin/enrollments/accesschange/?batch_id={batch}"' in html
    assert f'class="undo-batch-link">{REAPPLY_LABEL}</a>' in html
    assert UNDO_LABEL not in html
    assert len(landed.context["cl"].result_list) == 2
    assert str(undo_batch) in html
    # Read again (the message shown): which batch it undid costs one query of its own.
    with django_assert_num_queries(QUERIES):
        undoer_client.get(done["Location"])


def test_an_ordinary_batch_keeps_undo_this_batch(undoer_client, batch):
    page = undoer_client.get(
        f"{reverse('admin:enrollments_accesschange_changelist')}?batch_id={batch}"
    )
    html = page.content.decode()
    assert f"<h1>Changes of batch {str(batch)[:8]}…</h1>" in html
    assert f'class="undo-batch-link">{UNDO_LABEL}</a>' in html
    assert REAPPLY_LABEL not in html and "undone-batch-link" not in html


def test_the_undo_of_an_undo_is_labelled_and_re_applies_the_batch(undoer_client, batch):
    undo(undoer_client, batch)
    undo_record = AccessChange.objects.filter(action="undo").first()
    record = undoer_client.get(
        reverse("admin:enrollments_accesschange_change", args=[undo_record.pk])
    )
    assert f'class="undo-batch-link">{REAPPLY_LABEL}</a>' in record.content.decode()
    history = undoer_client.get(
        reverse("admin:enrollments_enrollment_change", args=[undo_record.enrollment_id])
    )
    html = history.content.decode()
    assert html.count(f">{REAPPLY_LABEL}</a>") == 1  # the undo's row
    assert html.count(f">{UNDO_LABEL}</a>") == 1  # the extension's row
    page = undoer_client.get(
        reverse("admin:enrollments_accesschange_undo_batch", args=[undo_record.batch_id])
    )
    assert f"This batch undid batch <code>{batch}</code>" in page.content.decode()
    ends_before = set(Enrollment.objects.values_list("ended_at", flat=True))
    undo(undoer_client, undo_record.batch_id)
    ends_after = set(Enrollment.objects.values_list("ended_at", flat=True))
    assert ends_after == {end + timedelta(days=30) for end in ends_before}


def test_the_audit_trail_is_titled_for_what_it_is(undoer_client, batch):
    """Read, never picked from: "Access changes", not Django's "Select access change to view"."""
    html = undoer_client.get(reverse("admin:enrollments_accesschange_changelist")).content.decode()
    assert "<h1>Access changes</h1>" in html
    assert "Select access change" not in html
