"""The export: one JSON document with everything held about a learner (`export_learner`, the
admin's "Export learner data").

What it holds, and where from (docs/privacy.md has the same list for people):

- `learner`: the account (lms.User): e-mail, names, time zone, dates, active.
- `enrollments`: each membership (enrollments.Enrollment) with its window (start, end, the
  pause fields, the removal mark), its progress (the stored status and counts, and the course's
  item count), and under it what belongs to it: `completed_items` (ItemCompletion),
  `access_changes` (the audit rows, AccessChange, reasons included: what staff wrote about
  them), `reminders` (ExpiryReminder: each reminder e-mail claimed or sent) and `events` (the
  AccessEvent records sent to other systems about the membership, each with its deliveries to
  webhook endpoints: the event id a receiver got, the endpoint's id, the delivery's state).
- `api_keys`: the learner's own keys (prefix, name, dates); never the hash.
- `course_roles`: the roles they hold in courses (lms.CourseRole).
- `course_role_changes`: every grant, change and revoke of a role of theirs
  (lms.CourseRoleChange), oldest first: a revoked role is remembered only there.

Other people appear by id only (an audit row's actor, a role's grantor or changer): the
document is the learner's, not their staff's. Instants are ISO 8601 UTC (`...Z`), ids strings.
The shape is the committed JSON Schema, enrollments/schemas/learner-export.schema.json
(`SCHEMA_ID`), which the tests hold the document to; a change of shape changes both, and
`format` when it breaks a reader (a new part added does not).

A constant number of queries whatever the learner's history (tests pin it): one per kind of row.
"""

import json
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from django.db.models import Count

from apikeys.models import APIKey
from enrollments import clock
from enrollments.models import (
    AccessChange,
    AccessEvent,
    Enrollment,
    ExpiryReminder,
    ItemCompletion,
    WebhookDelivery,
)
from lms.models import CourseItem, CourseRole, CourseRoleChange, User

#: The committed schema the document follows (its `$id`), and the document's `format`.
SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schemas" / "learner-export.schema.json"
SCHEMA_ID = "https://course-access.example/schemas/learner-export.schema.json"
FORMAT = "learner-export/1"


def instant(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a `Z`, as the API's events write it; None stays None."""
    if value is None:
        return None
    return value.isoformat().replace("+00:00", "Z")


def _id(value: object) -> str | None:
    return None if value is None else str(value)


def learner_export(learner: User) -> dict[str, Any]:
    """Everything held about `learner`, as one JSON-ready dict (see the module's docstring)."""
    enrollments = list(
        Enrollment.objects.filter(user=learner).select_related("course").order_by("created_at")
    )
    ids = [enrollment.pk for enrollment in enrollments]
    items_total = dict(
        CourseItem.objects.filter(course_id__in={e.course_id for e in enrollments})
        .order_by()
        .values_list("course_id")
        .annotate(n=Count("*"))
    )
    completions = _by_enrollment(
        ItemCompletion.objects.filter(enrollment_id__in=ids)
        .select_related("item")
        .order_by("completed_at", "id")
    )
    changes = _by_enrollment(
        AccessChange.objects.filter(enrollment_id__in=ids).order_by("created_at", "id")
    )
    reminders = _by_enrollment(
        ExpiryReminder.objects.filter(enrollment_id__in=ids).order_by("claimed_at", "id")
    )
    events = list(AccessEvent.objects.filter(enrollment_id__in=ids).order_by("id"))
    deliveries: dict[int, list[WebhookDelivery]] = defaultdict(list)
    for delivery in WebhookDelivery.objects.filter(event__enrollment_id__in=ids).order_by("id"):
        deliveries[delivery.event_id].append(delivery)
    events_of: dict[object, list[AccessEvent]] = defaultdict(list)
    for event in events:
        events_of[event.enrollment_id].append(event)
    return {
        "$schema": SCHEMA_ID,
        "format": FORMAT,
        "exported_at": instant(clock.now()),
        "learner": {
            "id": str(learner.pk),
            "email": learner.email,
            "first_name": learner.first_name,
            "last_name": learner.last_name,
            "time_zone": learner.time_zone,
            "language": learner.language,
            "is_active": learner.is_active,
            "is_staff": learner.is_staff,
            "date_joined": instant(learner.date_joined),
            "last_login": instant(learner.last_login),
        },
        "enrollments": [
            {
                "id": str(enrollment.pk),
                "course": {
                    "id": str(enrollment.course_id),
                    "slug": enrollment.course.slug,
                    "title": enrollment.course.title,
                },
                "start_at": instant(enrollment.start_at),
                "ended_at": instant(enrollment.ended_at),
                "is_paused": enrollment.is_paused,
                "paused_at": instant(enrollment.paused_at),
                "total_paused_seconds": enrollment.total_paused_duration,
                "removed_at": instant(enrollment.removed_at),
                "created_at": instant(enrollment.created_at),
                "updated_at": instant(enrollment.updated_at),
                "progress": {
                    "status": enrollment.course_status,
                    "items_completed": enrollment.items_completed,
                    "items_total": items_total.get(enrollment.course_id, 0),
                },
                "completed_items": [
                    {
                        "item_id": str(completion.item_id),
                        "title": completion.item.title,
                        "position": completion.item.position,
                        "completed_at": instant(completion.completed_at),
                    }
                    for completion in completions[enrollment.pk]
                ],
                "access_changes": [_change(change) for change in changes[enrollment.pk]],
                "reminders": [_reminder(reminder) for reminder in reminders[enrollment.pk]],
                "events": [
                    _event(event, deliveries[event.pk]) for event in events_of[enrollment.pk]
                ],
            }
            for enrollment in enrollments
        ],
        "api_keys": [
            {
                "prefix": key.prefix,
                "name": key.name,
                "created_at": instant(key.created_at),
                "last_used_at": instant(key.last_used_at),
                "expires_at": instant(key.expires_at),
                "revoked_at": instant(key.revoked_at),
            }
            for key in APIKey.objects.filter(user=learner).order_by("created_at", "id")
        ],
        "course_roles": [
            {
                "course": {"id": str(role.course_id), "slug": role.course.slug},
                "role": role.role,
                "granted_at": instant(role.granted_at),
                "granted_by_id": _id(role.granted_by_id),
            }
            for role in CourseRole.objects.filter(user=learner)
            .select_related("course")
            .order_by("granted_at", "id")
        ],
        "course_role_changes": [
            {
                "course": {"id": str(change.course_id), "slug": change.course.slug},
                "action": change.action,
                "old_role": change.old_role or None,
                "new_role": change.new_role or None,
                "actor_id": _id(change.actor_id),
                "source": change.source,
                "created_at": instant(change.created_at),
            }
            for change in CourseRoleChange.objects.filter(user=learner)
            .select_related("course")
            .order_by("created_at", "id")
        ],
    }


def _by_enrollment(rows: Iterable) -> dict[object, list]:
    grouped: dict[object, list] = defaultdict(list)
    for row in rows:
        grouped[row.enrollment_id].append(row)
    return grouped


def _change(change: AccessChange) -> dict[str, Any]:
    return {
        "id": str(change.pk),
        "action": change.action,
        "created_at": instant(change.created_at),
        "source": change.source,
        "actor_id": _id(change.actor_id),
        "reason": change.reason,
        "batch_id": _id(change.batch_id),
        "undoes_batch_id": _id(change.undoes_batch_id),
        "old_ended_at": instant(change.old_ended_at),
        "new_ended_at": instant(change.new_ended_at),
        "old_is_paused": change.old_is_paused,
        "new_is_paused": change.new_is_paused,
        "paused_seconds": change.paused_seconds,
        "old_removed_at": instant(change.old_removed_at),
    }


def _reminder(reminder: ExpiryReminder) -> dict[str, Any]:
    return {
        "ended_at": instant(reminder.ended_at),
        "state": reminder.state,
        "claimed_at": instant(reminder.claimed_at),
        "attempts": reminder.attempts,
        "last_attempt_at": instant(reminder.last_attempt_at),
        "sent_at": instant(reminder.sent_at),
        "last_error": reminder.last_error,
    }


def _event(event: AccessEvent, deliveries: list[WebhookDelivery]) -> dict[str, Any]:
    return {
        "event_id": str(event.event_id),
        "sequence": event.pk,
        "event_type": event.event_type,
        "action": event.action,
        "changed_fields": list(event.changed_fields),
        "batch_id": _id(event.batch_id),
        "occurred_at": instant(event.occurred_at),
        "deliveries": [
            {
                "endpoint_id": delivery.endpoint_id,
                "state": delivery.state,
                "attempts": delivery.attempts,
                "created_at": instant(delivery.created_at),
                "delivered_at": instant(delivery.delivered_at),
            }
            for delivery in deliveries
        ],
    }


def render(document: dict[str, Any]) -> str:
    """The document as written: UTF-8 JSON, indented, keys in the document's order."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
