"""`auditLog`: the audit trail of access changes over the API (issue 27 item 5), shaped after
Healthie's `auditLog` query (docs.gethealthie.com, reference `queries/auditlog` and
`objects/auditevent`), whose names are kept where they mean something here:

- arguments: `acting_user_id` (who made the change; `"no_author"` for the records without one,
  as Healthie's), `resource_name` / `resource_id` (the only resource here is a course
  membership: `resource_id` is the membership's id), `event_type` (CREATE / UPDATE / DESTROY),
  `occurred_after` / `occurred_before`, `page_size` (Healthie's default 50, at most the API's
  page size limit, 100 like Healthie's) and `after` (a `Cursor`);
- the answer: a list `[AuditEvent!]`, each with its `cursor` (pass the last one as `after` for
  the next page; a page shorter than `page_size` is the last), `occurred_at`, `acting_user`,
  `resource_name`, `resource_id`, `type` and `resource_changes` (`field`,
  `value_before_change`, `value_after_change`).

This API's own additions, for what Healthie's shape cannot say about an access change:
`client_id` and `course_id` filters (the learner and the course, Healthie's names for them in
`courseMemberships`), `action` (the change exactly: extend, pause, ...), and on each event its
`id`, `action`, `source`, `reason`, `batch_id`, `client` and `course_id`.

Who may ask: VIEW_ACCESS_CHANGE (the admin's audit trail permission, named once in
enrollments.permissions), globally (every record) or through a course role (the records of
their courses' memberships; another course's are not there, as missing ones). Without it
anywhere: FORBIDDEN. The rows are enrollments.selectors.audit_log's, the admin's list's read.

Reasons and the learner's e-mail: free text about a learner and their address are shown to a
caller who may read that learner's membership (permissions.may_read_learner: VIEW_ENROLLMENT
in the record's course, the rule of every e-mail of the API), null to one who may only view the
trail. Every other fact of a record is shown to whoever sees it.
"""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import graphene
from graphql import GraphQLResolveInfo

from enrollments.graphql.errors import bad_input
from enrollments.graphql.limits import limits
from enrollments.graphql.pagination import AUDIT_LOG_CURSORS, decode_cursor, encode_cursor
from enrollments.graphql.permissions import may_read_learner, require_scope
from enrollments.graphql.scalars import Cursor, ISO8601DateTime
from enrollments.graphql.types import ReadByAttribute, User
from enrollments.models import AccessChange
from enrollments.permissions import VIEW_ACCESS_CHANGE
from enrollments.selectors.audit_log import AuditFilter, audit_page
from lms.identifiers import parse_uuid

#: Healthie's default page size of `auditLog`.
DEFAULT_PAGE_SIZE = 50
#: `acting_user_id`'s value for the records no user made (Healthie's).
NO_AUTHOR = "no_author"
#: The one resource whose changes this trail records.
COURSE_MEMBERSHIP = "COURSE_MEMBERSHIP"

#: Healthie's event types, from each action: a membership made (or made again), changed,
#: removed.
EVENT_TYPE_OF_ACTION = {
    action: "CREATE"
    if action == AccessChange.Action.ENROLL
    else "DESTROY"
    if action == AccessChange.Action.REMOVE
    else "UPDATE"
    for action in AccessChange.Action.values
}


class AuditEventType(graphene.Enum):
    """Healthie's event types: CREATE (a learner enrolled, or enrolled again), UPDATE (any other
    change of access), DESTROY (a learner removed from the course)."""

    CREATE = "CREATE"
    UPDATE = "UPDATE"
    DESTROY = "DESTROY"


class AuditEventResourceName(graphene.Enum):
    """The resources whose changes the audit log records: course memberships here."""

    COURSE_MEMBERSHIP = COURSE_MEMBERSHIP


AccessChangeAction = graphene.Enum(
    "AccessChangeAction",
    [(value.upper(), value) for value in AccessChange.Action.values],
    description="What an access change did (the admin's audit trail's action).",
)
AccessChangeSource = graphene.Enum(
    "AccessChangeSource",
    [(value.upper(), value) for value in AccessChange.Source.values],
    description="Where an access change came from: the admin, the API, a command, the system.",
)


@dataclass(frozen=True, slots=True)
class ResourceChange:
    field: str
    value_before_change: str | None
    value_after_change: str | None


@dataclass(frozen=True, slots=True)
class Event:
    """One record as the API shows it, everything decided (no resolver reads anything)."""

    id: str
    cursor: str
    occurred_at: datetime
    acting_user: object | None
    resource_name: str
    resource_id: str
    type: str
    action: str
    source: str
    reason: str | None
    batch_id: str | None
    course_id: str
    client_id: str
    client: object
    resource_changes: list[ResourceChange]


class AuditEventResourceChange(graphene.ObjectType):
    """The details of a change associated with a audit event."""

    class Meta(ReadByAttribute):
        pass

    field = graphene.String(
        required=True,
        description=(
            "The field that was changed: `ended_at` (ISO 8601, null: no end) or `is_paused`"
        ),
    )
    value_after_change = graphene.String(description="The value after the change.")
    value_before_change = graphene.String(description="The value before the change.")


class AuditEvent(graphene.ObjectType):
    """An audit event: one change of a course membership's access."""

    class Meta(ReadByAttribute):
        pass

    acting_user = graphene.Field(
        User, description="The user who caused this event (null: the system, or a command)."
    )
    cursor = graphene.Field(Cursor, required=True, description="Pagination cursor")
    occurred_at = graphene.Field(
        ISO8601DateTime, required=True, description="Date and time that the event happened."
    )
    resource_changes = graphene.List(
        graphene.NonNull(AuditEventResourceChange),
        description="The set of changes associated with the event",
    )
    resource_id = graphene.ID(
        required=True, description="The ID of the resource that was affected by the event."
    )
    resource_name = graphene.Field(
        AuditEventResourceName,
        required=True,
        description="The name of the resource that was affected by this event.",
    )
    type = graphene.Field(AuditEventType, required=True, description="The type of the event.")
    id = graphene.ID(required=True, description="The id of the audit record")
    action = graphene.Field(
        AccessChangeAction, required=True, description="What the change did, exactly"
    )
    source = graphene.Field(
        AccessChangeSource, required=True, description="Where the change came from"
    )
    reason = graphene.String(
        description=(
            "The reason given with the change (empty when none was given); null when the "
            "caller may not read this learner's membership"
        )
    )
    batch_id = graphene.ID(
        description="Shared by the records of one bulk operation (undoAccessChangeBatch's id)"
    )
    course_id = graphene.ID(required=True, description="The course of the membership")
    client_id = graphene.ID(required=True, description="The learner of the membership")
    client = graphene.Field(
        User,
        required=True,
        description=(
            "The learner (their e-mail null when the caller may not read their membership)"
        ),
    )


def audit_log_field() -> graphene.Field:
    """The Query's `auditLog` field (made where the Query lists it)."""
    return graphene.Field(
        graphene.List(graphene.NonNull(AuditEvent)),
        name="auditLog",
        description=(
            "Fetch paginated audit log of access changes, newest first (keyset: pass the last "
            "event's `cursor` as `after`). Needs the "
            f"{VIEW_ACCESS_CHANGE} permission: every record when held globally, else those of "
            "the courses of their course roles."
        ),
        resolver=resolve_audit_log,
        acting_user_id=graphene.ID(
            description=(
                "Only the actions taken by this user; 'no_author' for those taken with no "
                "user (the system, an operator's command)."
            )
        ),
        resource_name=AuditEventResourceName(
            description="The kind of resource `resource_id` names (COURSE_MEMBERSHIP)"
        ),
        resource_id=graphene.ID(description="Only the changes of this course membership"),
        client_id=graphene.ID(description="Only the changes of this learner's memberships"),
        course_id=graphene.ID(description="Only the changes of memberships of this course"),
        event_type=AuditEventType(description="Use this to filter by the type of audit event."),
        action=AccessChangeAction(description="Only changes that did this"),
        occurred_after=ISO8601DateTime(
            description="Only events that occurred at or after this instant"
        ),
        occurred_before=ISO8601DateTime(
            description="Only events that occurred before this instant (exclusive)"
        ),
        page_size=graphene.Int(
            description=(
                f"The number of events to return at one time. Defaults to {DEFAULT_PAGE_SIZE}. "
                "Maximum of the API's page size limit (100)."
            )
        ),
        after=Cursor(description="Cursor to fetch results after"),
    )


def _id(name: str, value: str | None) -> uuid.UUID | None:
    if value is None:
        return None
    parsed = parse_uuid(value)
    if parsed is None:
        raise bad_input(f"`{name}` is not a valid id")
    return parsed


def _filters(arguments: dict) -> AuditFilter:
    """The filters the arguments name. Raises BAD_USER_INPUT for a malformed id or an empty
    time range."""
    actor = arguments.get("acting_user_id")
    system_only = actor == NO_AUTHOR
    actions: set[str] | None = None
    action = arguments.get("action")
    if action is not None:
        actions = {getattr(action, "value", action)}
    event_type = arguments.get("event_type")
    if event_type is not None:
        wanted = getattr(event_type, "value", event_type)
        of_type = {a for a, kind in EVENT_TYPE_OF_ACTION.items() if kind == wanted}
        actions = of_type if actions is None else actions & of_type
    after, before = arguments.get("occurred_after"), arguments.get("occurred_before")
    if after is not None and before is not None and after >= before:
        raise bad_input("`occurred_after` must be earlier than `occurred_before`")
    return AuditFilter(
        enrollment_id=_id("resource_id", arguments.get("resource_id")),
        learner_id=_id("client_id", arguments.get("client_id")),
        course_id=_id("course_id", arguments.get("course_id")),
        actor_id=None if system_only else _id("acting_user_id", actor),
        system_only=system_only,
        actions=None if actions is None else frozenset(actions),
        occurred_after=after,
        occurred_before=before,
    )


def _instant(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat()


def _flag(value: bool | None) -> str | None:
    return None if value is None else str(value).lower()


def resource_changes(change: AccessChange) -> list[ResourceChange]:
    """What the record changed, field by field (Healthie's AuditEventResourceChange): the end
    of access and the pause, each when it differs (an enrollment's first record: its new
    values, from nothing)."""
    changes = []
    created = change.action == AccessChange.Action.ENROLL
    old_end = None if created else _instant(change.old_ended_at)
    new_end = _instant(change.new_ended_at)
    if created or old_end != new_end:
        changes.append(ResourceChange("ended_at", old_end, new_end))
    old_paused, new_paused = _flag(change.old_is_paused), _flag(change.new_is_paused)
    if new_paused is not None and old_paused != new_paused:
        changes.append(ResourceChange("is_paused", old_paused, new_paused))
    return changes


class _Learner:
    """The learner as the `User` type reads it, their e-mail withheld when asked."""

    __slots__ = ("id", "email", "first_name", "last_name", "full_name", "name", "contact_withheld")

    def __init__(self, user, *, withheld: bool) -> None:
        self.id = user.pk
        self.email = user.email
        self.first_name = user.first_name
        self.last_name = user.last_name
        self.full_name = user.full_name
        self.name = user.name
        self.contact_withheld = withheld


def render(change: AccessChange, viewer) -> Event:
    enrollment = change.enrollment
    readable = may_read_learner(viewer, enrollment.user_id, enrollment.course_id)
    return Event(
        id=str(change.pk),
        cursor=encode_cursor(change, tag=AUDIT_LOG_CURSORS),
        occurred_at=change.created_at,
        acting_user=change.actor,
        resource_name=COURSE_MEMBERSHIP,
        resource_id=str(enrollment.pk),
        type=EVENT_TYPE_OF_ACTION[change.action],
        action=change.action,
        source=change.source,
        reason=change.reason if readable else None,
        batch_id=None if change.batch_id is None else str(change.batch_id),
        course_id=str(enrollment.course_id),
        client_id=str(enrollment.user_id),
        client=_Learner(enrollment.user, withheld=not readable),
        resource_changes=resource_changes(change),
    )


def resolve_audit_log(root, info: GraphQLResolveInfo, **arguments) -> list[Event]:
    user, scope = require_scope(info, VIEW_ACCESS_CHANGE)
    page_size = arguments.get("page_size")
    maximum = limits().max_page_size
    if page_size is None:
        page_size = min(DEFAULT_PAGE_SIZE, maximum)
    elif not 1 <= page_size <= maximum:
        raise bad_input(f"`page_size` must be between 1 and {maximum}")
    after = arguments.get("after")
    position = None if after is None else decode_cursor(after, tag=AUDIT_LOG_CURSORS)
    page = audit_page(scope=scope, filters=_filters(arguments), after=position, size=page_size)
    return [render(change, user) for change in page.rows]
