"""Erasing a learner (enrollments/privacy/erasure.py): afterwards nothing in the database, the
export, the reminders or the event payloads names them, and every fact stays: the audit rows'
count, actions, dates, values and actors, the enrollments, events and completions."""

import json

import pytest
from axes.models import AccessAttempt, AccessLog
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.backends import ModelBackend
from django.contrib.contenttypes.models import ContentType

from apikeys.models import APIKey, IdempotencyKey
from enrollments import privacy
from enrollments.events.envelope import body, envelope
from enrollments.models import (
    AccessChange,
    AccessEvent,
    Enrollment,
    Erasure,
    ExpiryReminder,
    ItemCompletion,
    OperationRun,
    OperationRunChunk,
)
from enrollments.operations import Extend, Selection, runs
from enrollments.operations.audit import Attribution
from enrollments.permissions import ENROLL_LEARNERS, VIEW_ENROLLMENT
from enrollments.privacy.erasure import is_erased
from lms.models import CourseRole, CourseRoleChange, User
from tests.factories import CourseFactory, EnrollmentFactory, StaffFactory, UserFactory
from tests.privacy.helpers import EMAIL, NAMES, grant, naming

pytestmark = pytest.mark.django_db

FACTS = [f.name for f in AccessChange._meta.concrete_fields if f.name != "reason"]


def facts() -> list[tuple]:
    return sorted(AccessChange.objects.values_list(*FACTS), key=str)


def erase(history, actor=None):
    return privacy.erase_learner(
        history.learner, actor=actor or history.staff, source=AccessChange.Source.ADMIN
    )


def test_before_the_erasure_the_learner_is_named_all_over(history):
    # The fixture's point: every place the erasure must clean holds them now.
    columns = {column for column, _pk, _text in naming(*NAMES)}
    assert columns >= {
        "lms.User.email",
        "lms.User.first_name",
        "lms.User.last_name",
        "enrollments.AccessChange.reason",
        "enrollments.OperationRun.reason",
        "enrollments.OperationRun.parts",
        "enrollments.ExpiryReminder.last_error",
        "enrollments.WebhookDelivery.last_error",
        "enrollments.WebhookAttempt.error",
        "enrollments.WebhookEndpoint.owner_email",
        "apikeys.APIKey.name",
        "apikeys.IdempotencyKey.response_body",
        "axes.AccessAttempt.username",
        "axes.AccessAttempt.post_data",
        "axes.AccessLog.username",
        "admin.LogEntry.object_repr",
        "django_tasks_database.DBTaskResult.traceback",
    }


def test_after_the_erasure_nothing_in_the_database_names_the_learner(history):
    erase(history)
    assert naming(*NAMES) == []


def test_the_export_reminders_and_event_payloads_name_them_no_more(history):
    erase(history)
    learner = User.objects.get(pk=history.learner.pk)
    exported = privacy.render(privacy.learner_export(learner)).lower()
    assert not [name for name in NAMES if name.lower() in exported]
    for reminder in ExpiryReminder.objects.filter(enrollment__user=learner):
        assert reminder.last_error == ""
    for event in AccessEvent.objects.filter(enrollment__user=learner):
        payload = body(envelope(event)).decode().lower()
        assert not [name for name in NAMES if name.lower() in payload]


def test_every_fact_of_the_audit_trail_stays_and_only_their_reasons_go(history):
    before, count = facts(), AccessChange.objects.count()
    mate_reason = AccessChange.objects.get(enrollment__user=history.other).reason
    erase(history)
    assert AccessChange.objects.count() == count
    assert facts() == before
    theirs = AccessChange.objects.filter(enrollment__user=history.learner)
    assert theirs.count() == 6  # extend x2, pause, resume, the run's extend x2
    assert set(theirs.values_list("reason", flat=True)) == {""}
    # Another learner's reason keeps its words; only the quote of the address changes.
    [mate] = AccessChange.objects.filter(enrollment__user=history.other)
    assert mate_reason.startswith("seat swapped with") and EMAIL.upper() in mate_reason
    assert mate.reason.startswith("seat swapped with erased-")
    assert mate.reason.endswith("@erased.invalid")


def test_the_rest_of_their_history_is_kept(history):
    kept = {
        "enrollments": list(Enrollment.objects.filter(user=history.learner).values_list()),
        "completions": ItemCompletion.objects.filter(enrollment__user=history.learner).count(),
        "events": list(AccessEvent.objects.filter(enrollment__user=history.learner).values_list()),
        "roles": CourseRole.objects.filter(user=history.learner).count(),
        "role changes": list(CourseRoleChange.objects.filter(user=history.learner).values_list()),
        "reminders sent": ExpiryReminder.objects.filter(state="sent").count(),
    }
    erase(history)
    assert kept == {
        "enrollments": list(Enrollment.objects.filter(user=history.learner).values_list()),
        "completions": ItemCompletion.objects.filter(enrollment__user=history.learner).count(),
        "events": list(AccessEvent.objects.filter(enrollment__user=history.learner).values_list()),
        "roles": CourseRole.objects.filter(user=history.learner).count(),
        "role changes": list(CourseRoleChange.objects.filter(user=history.learner).values_list()),
        "reminders sent": ExpiryReminder.objects.filter(state="sent").count(),
    }
    assert not ExpiryReminder.objects.filter(state="pending").exists()  # unsent: deleted


def test_the_account_is_pseudonymised_and_cannot_log_in(history):
    erase(history)
    learner = User.objects.get(pk=history.learner.pk)
    assert learner.email.startswith("erased-") and learner.email.endswith("@erased.invalid")
    assert is_erased(learner)
    assert (learner.first_name, learner.last_name, learner.time_zone, learner.language) == (
        "",
        "",
        "",
        "",
    )
    assert not learner.is_active
    assert not learner.has_usable_password()
    assert ModelBackend().authenticate(None, username=EMAIL, password="pass-word-123") is None
    key = APIKey.objects.get(pk=history.key.pk)
    assert key.revoked_at is not None and key.name == ""
    assert not key.is_usable()


def test_their_address_is_free_for_a_new_account(history):
    erase(history)
    newcomer = User.objects.create_user(email=EMAIL, password="another-pass-123")
    assert newcomer.pk != history.learner.pk
    signed_in = ModelBackend().authenticate(None, username=EMAIL, password="another-pass-123")
    assert signed_in == newcomer


def test_stored_answers_of_theirs_go_and_others_naming_them_are_rewritten(history):
    erase(history)
    assert not IdempotencyKey.objects.filter(client=f"key:{history.key.prefix}").exists()
    staff_row = IdempotencyKey.objects.get(client=f"user:{history.staff.pk}")
    answer = json.loads(staff_row.response_body)
    theirs, others = answer["data"]["memberships"]
    assert theirs["user"] == {"id": str(history.learner.pk), "name": "", "lastName": ""}
    assert others["user"] == {
        "id": str(history.other.pk),
        "name": "Olga Other",
        "lastName": "Other",
    }


def test_log_in_records_go_and_the_endpoint_loses_its_contact(history):
    erase(history)
    assert not AccessAttempt.objects.exists()
    assert not AccessLog.objects.exists()
    history.endpoint.refresh_from_db()
    assert history.endpoint.owner_email == ""


def test_a_finished_run_loses_the_filter_that_named_them_and_its_reason(history):
    [run] = OperationRun.objects.all()
    assert run.parts[0]["query"] is not None and run.reason
    erase(history)
    run.refresh_from_db()
    assert run.parts[0]["query"] is None
    assert run.reason == ""
    assert run.parts[0]["operation"]  # what the run did stays


def test_the_preview_counts_what_the_erasure_does_and_writes_nothing(history):
    before = sorted(str(row) for row in naming(*NAMES))
    counts = privacy.erasure_preview(history.learner, actor=history.staff)
    assert sorted(str(row) for row in naming(*NAMES)) == before
    record = erase(history)
    assert record.counts == counts
    assert counts == {
        "enrollments_kept": 2,
        "audit_rows_kept": 6,
        "audit_reasons_blanked": 5,
        "run_reasons_blanked": 1,
        "events_kept": 6,
        "delivery_errors_blanked": 2,  # the delivery's last error and its try's
        "reminders_kept": 1,
        "reminders_unsent_deleted": 1,
        "own_answers_deleted": 1,
        "api_keys_revoked": 1,
        "answers_rewritten": 1,
        "admin_log_rewritten": 2,
        "login_records_deleted": 2,
        "endpoint_owners_blanked": 1,
        "run_filters_dropped": 1,
        "drafts_deleted": 0,
        "quotes_replaced": 3,
    }


def test_the_erasure_writes_its_own_record_by_id(history):
    record = erase(history)
    assert record.kind == Erasure.Kind.LEARNER
    assert record.learner_id == history.learner.pk
    assert record.actor_id == history.staff.pk
    assert record.source == "admin"
    assert Erasure.objects.count() == 1


def test_refused_twice_for_themselves_and_for_someone_who_can_do_more(history):
    with pytest.raises(privacy.ErasureRefused, match="your own account"):
        privacy.erasure_preview(history.learner, actor=history.learner)
    boss = UserFactory(is_superuser=True)
    with pytest.raises(privacy.ErasureRefused, match="can do more than you"):
        privacy.erase_learner(boss, actor=history.staff, source="admin")
    assert privacy.erase_learner(boss, actor=None, source="command").learner_id == boss.pk
    erase(history)
    with pytest.raises(privacy.ErasureRefused, match="already erased"):
        erase(history)
    assert Erasure.objects.count() == 2


def test_refused_while_a_bulk_run_is_still_changing_their_enrollments(history, clock):
    run = runs.start(
        [(Extend(days=1), Selection.named([e.pk for e in history.enrollments]))],
        Attribution(history.staff, AccessChange.Source.COMMAND, "later"),
    )
    with pytest.raises(privacy.ErasureRefused, match=f"Run {run.pk} is still changing"):
        erase(history)
    assert User.objects.get(pk=history.learner.pk).email == EMAIL
    runs.advance(run.pk)
    erase(history)


def test_a_preview_draft_holding_their_enrollments_is_deleted(history):
    draft = runs.start(
        [(Extend(days=1), Selection.named([history.enrollments[0].pk]))],
        Attribution(history.staff, AccessChange.Source.ADMIN),
        state=OperationRun.State.PREVIEWED,
    )
    other = EnrollmentFactory()
    kept = runs.start(
        [(Extend(days=1), Selection.named([other.pk]))],
        Attribution(history.staff, AccessChange.Source.ADMIN),
        state=OperationRun.State.PREVIEWED,
    )
    assert erase(history).counts["drafts_deleted"] == 1
    assert not OperationRun.objects.filter(pk=draft.pk).exists()
    assert not OperationRunChunk.objects.filter(run_id=draft.pk).exists()
    assert OperationRun.objects.filter(pk=kept.pk).exists()


def test_a_learner_with_no_history_is_erased_too(db, clock):
    learner = UserFactory(email="lonnie@example.org", first_name="Lonnie", last_name="Solitaire")
    record = privacy.erase_learner(learner, actor=StaffFactory(), source="admin")
    assert set(record.counts.values()) == {0}
    assert naming("lonnie@example.org", "Lonnie", "Solitaire") == []


ENROLL = """mutation E($c: String!, $e: String!, $n: String!) {
  enrollStudentToCourse(courseId: $c, email: $e, name: $n) {
    enrollment { user { email name } }
    errors { code }
  }
}"""


def test_an_address_outside_ascii_is_found_as_json_escapes_it(client, settings, clock):
    """Stored answers and the admin's log are JSON written in ASCII: `zoe@ex\\u00e4mple.com`.
    Found by the address as typed, an answer that did not also hold the learner's id kept
    their address and name, and a staff member's retry replayed them."""
    settings.RATE_LIMIT = {**settings.RATE_LIMIT, "ENABLED": False}
    course = CourseFactory()
    manager = grant(StaffFactory(), VIEW_ENROLLMENT, ENROLL_LEARNERS)
    raw = APIKey.objects.create_key(user=manager, name="ops")[1]
    request = {
        "query": ENROLL,
        "variables": {"c": str(course.pk), "e": "zoe@exämple.com", "n": "Zoë Ann"},
    }

    def send():
        return client.post(
            "/graphql/",
            json.dumps(request),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {raw}",
            HTTP_IDEMPOTENCY_KEY="enroll-zoe",
        )

    assert send().json()["data"]["enrollStudentToCourse"]["errors"] == []
    stored = IdempotencyKey.objects.get(key="enroll-zoe").response_body
    assert "ex\\u00e4mple" in stored and "exämple" not in stored  # how it is written
    learner = User.objects.get(email="zoe@exämple.com")
    LogEntry.objects.create(
        user=manager,
        content_type=ContentType.objects.get_for_model(User),
        object_id=str(learner.pk),
        object_repr="a learner",
        action_flag=CHANGE,
        change_message=json.dumps([{"changed": {"name": "zoe@exämple.com"}}]),
    )
    privacy.erase_learner(learner, actor=None, source=AccessChange.Source.COMMAND)
    shown = send().json()["data"]["enrollStudentToCourse"]["enrollment"]["user"]
    assert "exämple" not in shown["email"] and "Zoë" not in shown["name"]
    for text in (
        IdempotencyKey.objects.get(key="enroll-zoe").response_body,
        LogEntry.objects.get().change_message,
    ):
        assert "u00e4mple" not in text and "exämple" not in text and "u00eb" not in text
