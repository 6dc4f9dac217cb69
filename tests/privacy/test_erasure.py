"""Erasing a learner (enrollments/privacy/erasure.py): afterwards nothing in the database, the
export, the reminders or the event payloads names them, and every fact stays: the audit rows'
count, actions, dates, values and actors, the enrollments, events and completions."""

import base64
import json
from datetime import timedelta

import pytest
from axes.models import AccessAttempt, AccessLog
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
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
from enrollments.operations import Extend, Selection, apply, runs
from enrollments.operations.audit import Attribution
from enrollments.permissions import (
    ENROLL_LEARNERS,
    EXTEND_ACCESS,
    PAUSE_ENROLLMENT,
    VIEW_ENROLLMENT,
)
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
        "admin_log_rewritten": 2,  # their account's entry, their key's
        "login_records_deleted": 2,
        "endpoint_owners_blanked": 1,
        "run_filters_dropped": 1,
        "drafts_deleted": 0,
        "quotes_replaced": 2,  # the mate's reason, the job's traceback
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


def log_user_entry(staff: User, user: User, action_flag: int, change_message: str) -> LogEntry:
    """What the user admin's log_addition / log_change write: `object_repr` is `str(user)`,
    the account's address at that moment."""
    return LogEntry.objects.create(
        user=staff,
        content_type=ContentType.objects.get_for_model(User),
        object_id=str(user.pk),
        object_repr=str(user),
        action_flag=action_flag,
        change_message=change_message,
    )


def test_a_longer_address_that_holds_theirs_is_someone_else_and_left_alone(clock):
    """Erasing ann@example.com once rewrote every quote of joann@example.com too (no boundary
    in mentions.address_pattern): the admin's log of Joann's account read
    `joerased-…@erased.invalid`, and a reason about Joann named someone else."""
    ann = UserFactory(email="ann@example.com")
    joann = UserFactory(email="joann@example.com", first_name="Joann")
    log_user_entry(StaffFactory(), joann, ADDITION, '[{"added": {}}]')
    enrollment = EnrollmentFactory(user=joann, course=CourseFactory())
    apply(
        Extend(days=7),
        Selection.named([enrollment.pk]),
        Attribution(None, AccessChange.Source.COMMAND, "asked by joann@example.com by e-mail"),
    )
    privacy.erase_learner(ann, actor=None, source=AccessChange.Source.COMMAND)
    assert LogEntry.objects.get(object_id=str(joann.pk)).object_repr == "joann@example.com"
    assert AccessChange.objects.get(enrollment=enrollment).reason == (
        "asked by joann@example.com by e-mail"
    )


PAUSE = """mutation P($id: ID!) {
  pauseCourseMembership(input: {id: $id}) {
    courseMembership { id user_id user { first_name last_name name } }
  }
}"""


def test_a_stored_answer_naming_them_below_their_enrollment_is_rewritten(client, settings, clock):
    """A staff member's stored answer (Idempotency-Key) holds the learner's names one level
    below the objects holding their ids: `courseMembership { id user_id user { first_name
    last_name name } }`. Only the object holding an id had its names blanked, so the staff
    member's retry replayed the learner's names after the erasure."""
    settings.RATE_LIMIT = {**settings.RATE_LIMIT, "ENABLED": False}
    learner = UserFactory(first_name="Zebulon", last_name="Quillfeather")
    enrollment = EnrollmentFactory(user=learner, course=CourseFactory())
    staff = grant(StaffFactory(), VIEW_ENROLLMENT, PAUSE_ENROLLMENT)
    raw = APIKey.objects.create_key(user=staff, name="ops")[1]

    def send():
        return client.post(
            "/graphql/",
            json.dumps({"query": PAUSE, "variables": {"id": str(enrollment.pk)}}),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {raw}",
            HTTP_IDEMPOTENCY_KEY="pause-zeb",
        )

    first = send().json()
    membership = first["data"]["pauseCourseMembership"]["courseMembership"]
    assert membership["user"]["first_name"] == "Zebulon", first
    assert membership["user_id"] == str(learner.pk), first
    privacy.erase_learner(learner, actor=None, source=AccessChange.Source.COMMAND)
    stored = IdempotencyKey.objects.get(key="pause-zeb").response_body
    replayed = json.dumps(send().json())
    assert "Zebulon" not in stored and "Quillfeather" not in stored, stored
    assert "Zebulon" not in replayed, replayed
    assert json.loads(replayed)["data"]["pauseCourseMembership"]["courseMembership"] == {
        "id": str(enrollment.pk),
        "user_id": str(learner.pk),
        "user": {"first_name": "", "last_name": "", "name": ""},
    }


def test_the_admin_log_of_their_account_forgets_a_former_address(clock):
    """The user admin logs an account by its address at the time: a learner added as
    zeb.quill@old-employer.example and later changed has an entry about their own account
    naming the old address, which no search for the current one finds. Every entry about their
    account, found by its key, is named as the account is now (the pseudonym)."""
    staff = StaffFactory()
    learner = UserFactory(email="zeb.quill@old-employer.example", first_name="Zeb")
    log_user_entry(staff, learner, ADDITION, '[{"added": {}}]')
    learner.email = "zeb.quill@new-home.example"
    learner.save(update_fields=["email"])
    log_user_entry(staff, learner, CHANGE, '[{"changed": {"fields": ["Email address"]}}]')
    record = privacy.erase_learner(learner, actor=None, source=AccessChange.Source.COMMAND)
    learner.refresh_from_db()
    reprs = LogEntry.objects.filter(object_id=str(learner.pk)).values_list("object_repr", flat=True)
    assert sorted(reprs) == [learner.email, learner.email]
    assert record.counts["admin_log_rewritten"] == 2


def test_the_admin_log_of_their_enrollments_keys_and_roles_is_named_anew(history):
    """Their enrollments, API keys and course roles are logged by names holding the address
    they had then (`ann@… in python-basics`, `… of ann@…`, `ann@… is staff of …`)."""
    staff, learner = history.staff, history.learner
    former = "zeb@before.example"
    role = CourseRole.objects.get(user=learner)
    logged = [history.enrollments[0], history.key, role]
    for row in logged:
        LogEntry.objects.create(
            user=staff,
            content_type=ContentType.objects.get_for_model(row),
            object_id=str(row.pk),
            object_repr=str(row).replace(EMAIL, former),
            action_flag=CHANGE,
            change_message="[]",
        )
    erase(history)
    for row in logged:
        row = type(row).objects.get(pk=row.pk)
        entries = LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(row), object_id=str(row.pk)
        )
        assert set(entries.values_list("object_repr", flat=True)) == {str(row)}
        assert "@erased.invalid" in str(row)
    assert naming(former) == []


def stored_filters() -> str:
    """Every finished run's stored filters, decoded (the pickled queries' bytes)."""
    return "".join(
        base64.b64decode(part["query"]).decode("latin-1")
        for parts in OperationRun.objects.values_list("parts", flat=True)
        for part in parts
        if part.get("query")
    )


def test_a_run_selected_by_their_address_that_skipped_them_loses_its_filter(clock):
    """A staff member searches the admin for the learner's address and extends all by a day;
    their access ended 30 days ago, so their row is skipped and no audit row of theirs has the
    run's batch. Only the runs of their audit rows' batches were searched, so this finished
    run kept their address in its pickled filter after the erasure. Its reason is about them
    too, and goes."""
    email = "zebulon.q@example.org"
    learner = UserFactory(email=email, first_name="Zebulon", last_name="Quillfeather")
    EnrollmentFactory(
        user=learner,
        course=CourseFactory(),
        start_at=clock.current - timedelta(days=90),
        ended_at=clock.current - timedelta(days=30),
    )
    staff = grant(StaffFactory(), EXTEND_ACCESS)
    search = Enrollment.objects.filter(user__email__icontains=email)
    run = runs.start(
        [(Extend(days=1), Selection.by_filter(search))],
        Attribution(staff, AccessChange.Source.ADMIN, "extension"),
    )
    run = runs.advance(run.pk)
    assert run.finished_at is not None and (run.total, run.skipped) == (1, 1), run.state
    assert email in stored_filters()  # what the run stored
    # Another learner's run, searched by a longer address that holds theirs: not theirs.
    other = UserFactory(email=f"jo{email}")
    EnrollmentFactory(user=other, course=CourseFactory())
    search = Enrollment.objects.filter(user__email__icontains=other.email)
    kept = runs.advance(
        runs.start(
            [(Extend(days=1), Selection.by_filter(search))],
            Attribution(staff, AccessChange.Source.ADMIN, "another extension"),
        ).pk
    )
    record = privacy.erase_learner(learner, actor=None, source=AccessChange.Source.COMMAND)
    run.refresh_from_db()
    assert run.parts[0]["query"] is None and run.parts[0]["operation"]
    assert run.reason == ""
    assert f"jo{email}" in stored_filters()
    assert OperationRun.objects.get(pk=kept.pk).reason == "another extension"
    assert (record.counts["run_filters_dropped"], record.counts["run_reasons_blanked"]) == (1, 1)
