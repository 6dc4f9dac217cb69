"""tests/privacy's helpers: a learner with everything the database can hold about them
(`build_history`), and the scans that look for them afterwards (`texts`, `naming`)."""

import base64
import json
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from axes.models import AccessAttempt, AccessLog
from django.apps import apps
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import Permission as DjangoPermission
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django_tasks_db.models import DBTaskResult

from apikeys.models import APIKey, IdempotencyKey
from enrollments.events.fan_out import fan_out
from enrollments.jobs.reminders import send_expiry_reminder
from enrollments.models import (
    AccessChange,
    Enrollment,
    ExpiryReminder,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from enrollments.operations import Extend, Pause, Resume, Selection, apply, runs
from enrollments.operations.audit import Attribution
from enrollments.permissions import (
    ERASE_LEARNER,
    EXPORT_LEARNER_DATA,
    EXTEND_ACCESS,
    PAUSE_ENROLLMENT,
    VIEW_ACCESS_CHANGE,
    VIEW_ENROLLMENT,
    Permission,
)
from lms.models import User
from lms.roles import Source as RoleSource
from lms.roles import grant_role, revoke_role
from tests.factories import (
    CourseFactory,
    CourseItemFactory,
    EnrollmentFactory,
    ItemCompletionFactory,
    StaffFactory,
    UserFactory,
)

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "enrollments" / "schemas" / "learner-export.schema.json"

#: What names the learner: distinctive, so that a scan finds only them.
EMAIL = "zebulon.quillfeather@example.org"
FIRST, LAST = "Zebulon", "Quillfeather"
NAMES = (EMAIL, FIRST, LAST)


def grant(user: User, *permissions: Permission) -> User:
    """`user` holding `permissions` globally, fetched again (no permission cache)."""
    for permission in permissions:
        user.user_permissions.add(
            DjangoPermission.objects.get(
                content_type__app_label=permission.app_label, codename=permission.codename
            )
        )
    return User.objects.get(pk=user.pk)


@dataclass
class History:
    learner: User
    staff: User
    other: User
    enrollments: list[Enrollment]
    key: APIKey
    endpoint: WebhookEndpoint


def texts() -> list[tuple[str, object, str]]:
    """Every text value of every row of every table: (column, row pk, text). JSON as its
    JSON text; a run's stored filters (pickled, base64 in its parts) decoded too."""
    found = []
    for model in apps.get_models():
        fields = [
            f
            for f in model._meta.concrete_fields
            if isinstance(f, models.CharField | models.TextField | models.JSONField)
        ]
        if not fields:
            continue
        for row in model.objects.values_list("pk", *(f.name for f in fields)):
            pk, values = row[0], row[1:]
            for field, value in zip(fields, values, strict=True):
                if value is None:
                    continue
                text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
                if model._meta.label == "enrollments.OperationRun" and field.name == "parts":
                    text += "".join(
                        base64.b64decode(part["query"]).decode("latin-1")
                        for part in value
                        if part.get("query")
                    )
                found.append((f"{model._meta.label}.{field.name}", pk, text))
    return found


def naming(*needles: str) -> list[tuple[str, object, str]]:
    """The text values holding one of `needles` (any case)."""
    lowered = [needle.lower() for needle in needles]
    return [row for row in texts() if any(n in row[2].lower() for n in lowered)]


def build_history(clock) -> History:
    """A learner (EMAIL, FIRST LAST) with two enrollments and all that comes with them: audit
    rows with reasons that name them (theirs, and another learner's), completions, a pause,
    reminders sent and unsent (a mail server's error quoting the address), events delivered
    and failed (a receiver's answer quoting the name), an API key, stored GraphQL answers
    (theirs, and staff's naming them), log-in records, the admin's log, a job's traceback, a
    finished bulk run selected by a search for their address, a course role, and a webhook
    endpoint they are the contact of."""
    now = clock.current
    learner = UserFactory(
        email=EMAIL, first_name=FIRST, last_name=LAST, time_zone="Europe/Oslo", language="de"
    )
    staff = grant(
        StaffFactory(first_name="Staff", last_name="Member"),
        EXTEND_ACCESS,
        PAUSE_ENROLLMENT,
        VIEW_ENROLLMENT,
        VIEW_ACCESS_CHANGE,
        EXPORT_LEARNER_DATA,
        ERASE_LEARNER,
    )
    other = UserFactory(first_name="Olga", last_name="Other")
    course, second = CourseFactory(), CourseFactory()
    items = [CourseItemFactory(course=course, position=n) for n in (1, 2, 3)]
    enrollments = [
        EnrollmentFactory(
            user=learner,
            course=c,
            start_at=now - timedelta(days=40),
            ended_at=now + timedelta(days=3),
        )
        for c in (course, second)
    ]
    mate = EnrollmentFactory(user=other, course=course, start_at=now - timedelta(days=5))
    endpoint = WebhookEndpoint.objects.create(
        url="https://hooks.example.com/in",
        secret="whsec_dGVzdA==",
        owner_email=EMAIL,
        created_at=now,
        updated_at=now,
    )
    by_staff = Attribution(staff, AccessChange.Source.ADMIN, f"{FIRST} {LAST} asked, ill since May")
    apply(Extend(days=30), Selection.named([e.pk for e in enrollments]), by_staff)
    apply(Pause(), Selection.named([enrollments[1].pk]), by_staff)
    clock.advance(days=2)
    apply(
        Resume(),
        Selection.named([enrollments[1].pk]),
        Attribution(None, AccessChange.Source.SYSTEM),
    )
    apply(
        Extend(days=5),
        Selection.named([mate.pk]),
        Attribution(staff, AccessChange.Source.ADMIN, f"seat swapped with {EMAIL.upper()}"),
    )
    search = Enrollment.objects.filter(user__email__icontains=EMAIL)
    run = runs.start(
        [(Extend(days=1), Selection.by_filter(search))],
        Attribution(staff, AccessChange.Source.ADMIN, f"bulk for {FIRST}"),
    )
    runs.advance(run.pk)
    ItemCompletionFactory(enrollment=enrollments[0], item=items[0], completed_at=clock.current)
    fan_out()
    delivery = WebhookDelivery.objects.filter(event__enrollment=enrollments[0]).first()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        state="failed", attempts=1, last_status=400, last_error=f"400: unknown user {FIRST}"
    )
    WebhookAttempt.objects.create(
        delivery=delivery, attempted_at=clock.current, status=400, error=f"400: no {LAST}"
    )
    sent = ExpiryReminder.objects.create(
        enrollment=enrollments[0],
        ended_at=enrollments[0].ended_at,
        state="sent",
        claimed_at=clock.current,
        attempts=2,
        sent_at=clock.current,
        last_error=f"452 mailbox of {EMAIL} full",
    )
    ExpiryReminder.objects.create(
        enrollment=enrollments[1],
        ended_at=now + timedelta(days=90),
        state="pending",
        claimed_at=clock.current,
        next_attempt_at=clock.current,
    )
    job = send_expiry_reminder.enqueue(sent.pk)
    DBTaskResult.objects.filter(pk=job.id).update(
        traceback=f"SMTPRecipientsRefused: {{'{EMAIL}': (550, b'no')}}"
    )
    key, _raw = APIKey.objects.create_key(user=learner, name=f"{FIRST}'s laptop")
    answer = {"data": {"user": {"id": str(learner.pk), "email": EMAIL, "firstName": FIRST}}}
    IdempotencyKey.objects.create(
        client=f"key:{key.prefix}",
        key="k-1",
        fingerprint="f" * 64,
        token="00000000-0000-4000-8000-000000000001",
        created_at=clock.current,
        reserved_at=clock.current,
        response_status=200,
        response_body=json.dumps(answer),
    )
    staff_answer = {
        "data": {
            "memberships": [
                {"user": {"id": str(learner.pk), "name": f"{FIRST} {LAST}", "lastName": LAST}},
                {"user": {"id": str(other.pk), "name": "Olga Other", "lastName": "Other"}},
            ]
        }
    }
    IdempotencyKey.objects.create(
        client=f"user:{staff.pk}",
        key="k-2",
        fingerprint="e" * 64,
        token="00000000-0000-4000-8000-000000000002",
        created_at=clock.current,
        reserved_at=clock.current,
        response_status=200,
        response_body=json.dumps(staff_answer),
    )
    AccessAttempt.objects.create(
        username=EMAIL,
        ip_address="192.0.2.1",
        user_agent="test",
        http_accept="*/*",
        path_info="/admin/login/",
        get_data="",
        post_data=f"username={EMAIL}",
        failures_since_start=2,
    )
    AccessLog.objects.create(
        username=EMAIL, ip_address="192.0.2.1", user_agent="test", http_accept="*/*", path_info="/"
    )
    LogEntry.objects.create(
        user=staff,
        content_type=ContentType.objects.get_for_model(User),
        object_id=str(learner.pk),
        object_repr=str(learner),
        action_flag=CHANGE,
        change_message=json.dumps(
            [{"changed": {"fields": ["Time zone"]}}, {"added": {"name": "key", "object": str(key)}}]
        ),
    )
    LogEntry.objects.create(
        user=staff,
        content_type=ContentType.objects.get_for_model(APIKey),
        object_id=str(key.pk),
        object_repr=str(key),
        action_flag=CHANGE,
        change_message="[]",
    )
    # A role held (granted by staff in the admin) and a role revoked (by the command, no actor).
    grant_role(learner, course, "manager", actor=None, source=RoleSource.COMMAND)
    revoke_role(learner, course, actor=None, source=RoleSource.COMMAND)
    grant_role(learner, second, "staff", actor=staff, source=RoleSource.ADMIN)
    return History(learner, staff, other, enrollments, key, endpoint)
