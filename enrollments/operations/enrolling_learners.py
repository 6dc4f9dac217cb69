"""Enrolling learners as the doors name them, over the core's `Enroll` operation
(operations/enrolling.py holds the rule: new, restored, updated, unchanged): one learner (the
admin's add form: `enrollment_create`; the API's enrollStudentToCourse: `enrollment_enroll`,
by user or e-mail address, creating a learner for an unknown address in the same transaction as
the enrollment, operations/learners.py), or many entries for the bulk doors (admin "Enroll
learners", `manage.py enroll --csv`): a preview with the refused ones named line by line,
applied later exactly as previewed (`preview_entries`, `apply_entries`).
"""

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime

from django.db import transaction
from django.utils.translation import gettext_noop

from enrollments import clock
from enrollments.errors import (
    ChangedSincePreview,
    CourseNotFound,
    DomainError,
    DuplicateEntry,
    EnrollmentTargetRequired,
    Phrase,
    UserNotFound,
)
from enrollments.models import AccessChange, Enrollment
from enrollments.operations.audit import Attribution
from enrollments.operations.base import Plan
from enrollments.operations.core import preview
from enrollments.operations.enrolling import (
    Enroll,
    NewEnrollment,
    PairToEnroll,
    check_access_end,
    default_end,
    enroll,
)
from enrollments.operations.learners import clean_email, learner_find_or_create, split_name
from enrollments.operations.scope import EVERYWHERE, Scope, actor_scope
from enrollments.selectors.by_key import learners_by_email, learners_by_id
from lms.identifiers import parse_uuid
from lms.models import Course, User

#: The most entries one bulk request (an admin paste or upload) may hold.
MAX_ENTRIES = 5000


def enrollment_create(
    *,
    user: User,
    course: Course,
    start_at: datetime | None = None,
    actor: User | None = None,
    source: AccessChange.Source = AccessChange.Source.SYSTEM,
    reason: str = "",
) -> Enrollment:
    """Enrolls `user` in `course`, starting at `start_at` (default: now); an existing
    enrollment (removed or not) is refused with AlreadyEnrolled (the admin's add form).

    The end of access is `start_at + course.access_days` (indefinite when the course has no
    default), stored on the enrollment: changing the course's default later does not move the
    learners already enrolled. Raises AlreadyEnrolled, AccessEndOutOfRange or InvalidAccessEnd
    (a start outside 1901-12-13T20:45:52Z .. 2038-01-19T03:14:07Z, or a default end before
    2020: enrolling.check_start, enrolling.default_end).
    """
    by = Attribution(actor, source, reason)
    operation = Enroll((PairToEnroll(user, course),), start_at=start_at, refuse_existing=True)
    plan = enroll(operation, by)
    if plan.skips:
        raise plan.skips[0].error
    return Enrollment.objects.get(pk=plan.changes[0].enrollment_id)


def enrollment_enroll(
    *,
    course: Course,
    user: User | None = None,
    email: str | None = None,
    name: str | None = None,
    ended_at: datetime | None = None,
    by: Attribution,
) -> Enrollment:
    """Enrolls the learner `user`, or the one with address `email` (created with `name` when
    nobody has it), in `course`, by the rule of operations.enrolling (an existing enrollment is
    restored, updated or left as it is). One transaction: a refused enrollment creates no user.

    Raises EnrollmentTargetRequired (neither user nor email), InvalidEmail, NameRequired,
    InvalidAccessEnd, AccessEndOutOfRange."""
    if user is None and not (email or "").strip():
        raise EnrollmentTargetRequired()
    check_access_end(ended_at)
    with transaction.atomic():
        if user is None:
            user = learner_find_or_create(email=email, name=name or "")
        plan = enroll(Enroll((PairToEnroll(user, course, ended_at),)), by)
        if plan.skips:
            raise plan.skips[0].error
    return Enrollment.objects.get(user=user, course=course)


# --- many entries: the admin's "Enroll learners" and `manage.py enroll` -------------------------


@dataclass(frozen=True, slots=True)
class Entry:
    """One learner to enroll, as a door read it: its line (0 outside a list), the learner (an
    e-mail address, or a user id), the course (None: the door found none, refused as
    CourseNotFound), the name for a learner to create, and the end of access asked."""

    line: int
    user: str
    course: Course | None
    name: str = ""
    ended_at: datetime | None = None


@dataclass(slots=True)
class EntriesPlan:
    """What enrolling some entries does: the core's plan for the learners who exist
    (`plan`: new enrollments, restored, updated, unchanged), the learners to create and enroll
    (`new_learners`) and the entries refused, each with its error."""

    plan: Plan
    new_learners: list[Entry] = field(default_factory=list)
    refused: list[tuple[Entry, DomainError]] = field(default_factory=list)
    #: The entry of each pair the plan enrolls: (user id, course id) -> entry.
    entries: dict[tuple, Entry] = field(default_factory=dict)
    #: The entry of each existing enrollment the plan names.
    by_enrollment: dict[object, Entry] = field(default_factory=dict)
    batch_id: object = None

    def fingerprint(self) -> str:
        digest = hashlib.sha256(self.plan.fingerprint().encode())
        for entry in self.new_learners:
            end = entry.ended_at.isoformat() if entry.ended_at else "-"
            course = entry.course.pk if entry.course else "-"
            digest.update(f"|n:{entry.user.lower()}:{entry.name}:{course}:{end}".encode())
        for entry, error in self.refused:
            digest.update(f"|r:{entry.line}:{error.code}".encode())
        return digest.hexdigest()

    def rows(
        self,
        *,
        end: Callable[[datetime | None], str] | None = None,
        error: Callable[[DomainError], str] | None = None,
    ) -> dict[str, list[tuple[Entry, str]]]:
        """The entries by outcome, for the doors' reports: enrolled (including new learners),
        restored, updated, unchanged, refused; each with a note. `end` writes an end of access
        and `error` a refusal: by default in UTC, as the commands show them; the admin passes
        its own, in the staff member's zone."""
        end = end or _end
        error = error or _message
        result: dict[str, list[tuple[Entry, str]]] = {
            key: [] for key in ("enrolled", "restored", "updated", "unchanged", "refused")
        }
        for change in self.plan.changes:
            if isinstance(change, NewEnrollment):
                entry = self.entries[(change.user_id, change.course_id)]
                result["enrolled"].append((entry, end(change.after.ended_at)))
            elif change.before.removed_at is not None:
                entry = self._entry_of(change.enrollment_id)
                result["restored"].append((entry, end(change.after.ended_at)))
            else:
                entry = self._entry_of(change.enrollment_id)
                note = f"{end(change.before.ended_at)} → {end(change.after.ended_at)}"
                result["updated"].append((entry, note))
        for entry in self.new_learners:
            result["enrolled"].append((entry, "new learner"))
        for pk in self.plan.unchanged:
            result["unchanged"].append((self._entry_of(pk), "already enrolled"))
        for skip in self.plan.skips:
            result["refused"].append((self._entry_of(skip.enrollment_id), error(skip.error)))
        for entry, refusal in self.refused:
            result["refused"].append((entry, error(refusal)))
        for rows in result.values():
            rows.sort(key=lambda row: row[0].line)
        return result

    def _entry_of(self, enrollment_id) -> Entry:
        """The entry naming an existing enrollment; one deleted since it was selected (the core
        skips it as NOT_FOUND) is named by its id."""
        entry = self.by_enrollment.get(enrollment_id)
        return entry if entry is not None else Entry(0, str(enrollment_id), None)

    def refusals(self) -> list[tuple[Entry, DomainError]]:
        """The refused entries with their errors, in line order."""
        refused = [(self._entry_of(s.enrollment_id), s.error) for s in self.plan.skips]
        return sorted(refused + self.refused, key=lambda pair: pair[0].line)

    @property
    def counts(self) -> dict[str, int]:
        return {key: len(rows) for key, rows in self.rows().items()}


def _message(error: DomainError) -> str:
    return error.message


def _end(value: datetime | None) -> str:
    return "indefinite access" if value is None else f"until {value:%Y-%m-%d %H:%M} UTC"


@dataclass(slots=True)
class _Resolved:
    targets: list[PairToEnroll]
    target_entries: dict[tuple, Entry]
    new_learners: list[Entry]
    refused: list[tuple[Entry, DomainError]]


def _resolve(entries: list[Entry], *, create_users: bool, now: datetime, scope: Scope) -> _Resolved:
    """Each entry's learner, with a few queries: known learners become targets, unknown
    addresses new learners (or UserNotFound without `create_users`), bad entries refused.

    An entry whose course `scope` (where the actor may enroll) does not cover is refused as
    CourseNotFound here, before anyone is created: the core refuses such a pair too
    (core._refuse_new_outside), but only once the learner exists, and a learner created for a
    course the actor may not enroll in would stay (docs/api.md: "nothing is created, not even
    a learner for a new e-mail"). The doors offer only the actor's courses; the core holds the
    rule whatever entries a door passes."""
    refused: list[tuple[Entry, DomainError]] = []
    checked: list[tuple[Entry, object]] = []  # (entry, UUID or cleaned address)
    for entry in entries:
        try:
            if entry.course is None or not scope.covers(entry.course.pk):
                raise CourseNotFound()
            check_access_end(entry.ended_at)
            if entry.ended_at is None:
                default_end(entry.course, now)
            key = parse_uuid(entry.user) or clean_email(entry.user)
        except DomainError as error:
            refused.append((entry, error.with_traceback(None)))  # no cycle via its frame
            continue
        checked.append((entry, key))
    by_id = learners_by_id(key for _entry, key in checked if not isinstance(key, str))
    by_email = learners_by_email(key for _entry, key in checked if isinstance(key, str))
    targets, target_entries, new_learners = [], {}, []
    seen: dict[tuple, int] = {}
    for entry, key in checked:
        user = by_email.get(key.lower()) if isinstance(key, str) else by_id.get(key)
        pair = (user.pk if user else str(key).lower(), entry.course.pk)
        if pair in seen:
            refused.append(
                (
                    entry,
                    DuplicateEntry(
                        Phrase(gettext_noop("line %(line)s names it already"), line=seen[pair])
                    ),
                )
            )
            continue
        seen[pair] = entry.line
        if user is not None:
            targets.append(PairToEnroll(user, entry.course, entry.ended_at))
            target_entries[(user.pk, entry.course.pk)] = entry
            continue
        try:
            if not isinstance(key, str):
                raise UserNotFound()
            if not create_users:
                raise UserNotFound(
                    Phrase(gettext_noop("no learner with e-mail %(email)s"), email=key)
                )
            split_name(entry.name)
        except DomainError as error:
            refused.append((entry, error.with_traceback(None)))  # no cycle via its frame
            continue
        new_learners.append(replace(entry, user=key))
    return _Resolved(targets, target_entries, new_learners, refused)


def _entries_plan(resolved: _Resolved, plan: Plan) -> EntriesPlan:
    return EntriesPlan(
        plan=plan,
        new_learners=resolved.new_learners,
        refused=resolved.refused,
        entries=resolved.target_entries,
        by_enrollment=_entry_by_enrollment(plan, resolved.target_entries),
        batch_id=plan.batch_id,
    )


def _entry_by_enrollment(plan: Plan, entries: dict[tuple, Entry]) -> dict[object, Entry]:
    """The entry (`entries`: by (user id, course id)) of each enrollment id `plan` names
    besides its new enrollments: an existing enrollment (changed, unchanged or skipped) by its
    pair, read in one query; and a new enrollment the core refused (core._refuse_new_outside:
    a CourseNotFound skip naming the id it drew, the pair dropped) by the pairs the plan left
    out. Those skips are alike, so which of them names which left-out pair does not change the
    report."""
    ids = {c.enrollment_id for c in plan.changes if not isinstance(c, NewEnrollment)}
    ids |= set(plan.unchanged) | {skip.enrollment_id for skip in plan.skips}
    found: dict[object, Entry] = {}
    planned = {(c.user_id, c.course_id) for c in plan.changes if isinstance(c, NewEnrollment)}
    if ids:
        for pk, user_id, course_id in Enrollment.objects.filter(pk__in=ids).values_list(
            "pk", "user_id", "course_id"
        ):
            found[pk] = entries.get((user_id, course_id))
            planned.add((user_id, course_id))
    refused_new = [
        skip.enrollment_id
        for skip in plan.skips
        if skip.enrollment_id not in found and isinstance(skip.error, CourseNotFound)
    ]
    if refused_new:
        left_out = sorted(pair for pair in entries if pair not in planned)
        found.update(zip(refused_new, (entries[pair] for pair in left_out), strict=False))
    return found


def preview_entries(
    entries: list[Entry], *, create_users: bool, scope: Scope = EVERYWHERE
) -> EntriesPlan:
    """What `apply_entries` would do with these entries now, within `scope` (where the actor
    it will be applied for may enroll: a door's `actor_scope`; the system's every course by
    default); writes nothing."""
    resolved = _resolve(entries, create_users=create_users, now=clock.now(), scope=scope)
    operation = Enroll(tuple(resolved.targets))
    return _entries_plan(resolved, preview(operation, operation.selection()))


def apply_entries(
    entries: list[Entry], *, create_users: bool, by: Attribution, expected: str | None = None
) -> EntriesPlan:
    """Enrolls the entries in one transaction: the known learners through the core (locked,
    planned, audited), then the new learners created and enrolled, all with one batch id.
    With `expected` (a preview's `fingerprint()`) anything different writes nothing and raises
    ChangedSincePreview. Refused entries are reported, not raised.

    An entry in a course outside the actor's scope (`actor_scope`, the core's own check) is
    refused before any learner is created (`_resolve`); should the core still refuse a new
    learner's enrollment, that entry is reported refused, not enrolled.

    The new learners are created in the order of their lower-cased addresses, the order of the
    unique index on lower(email), not in the entries' order: two imports creating the same
    learners, listed in any order, then insert them in one order, so the second waits at the
    first address they share and finds that learner once the first commits
    (learners.learner_find_or_create). In the entries' order each could hold an address the
    other waits for, a deadlock. The report keeps the entries' order (EntriesPlan.rows)."""
    by = replace(by, batch_id=by.batch_id or uuid.uuid4())
    with transaction.atomic():
        scope = actor_scope(by.actor, Enroll.permission)
        resolved = _resolve(entries, create_users=create_users, now=clock.now(), scope=scope)
        operation = Enroll(tuple(resolved.targets))
        plan = enroll(operation, by)
        result = _entries_plan(resolved, plan)
        if expected is not None and result.fingerprint() != expected:
            raise ChangedSincePreview()
        if resolved.new_learners:
            created, of_pair = [], {}
            for entry in sorted(resolved.new_learners, key=_address_order):
                user = learner_find_or_create(email=entry.user, name=entry.name)
                created.append(PairToEnroll(user, entry.course, entry.ended_at))
                of_pair[(user.pk, entry.course.pk)] = entry
            _refuse_skipped(result, enroll(Enroll(tuple(created)), by), of_pair)
    result.batch_id = by.batch_id
    return result


def _refuse_skipped(result: EntriesPlan, plan: Plan, of_pair: dict[tuple, Entry]) -> None:
    """Moves the new learners whose enrollment the core skipped (`plan`: theirs) from
    `result`'s new learners to its refused entries, each with the core's error: the report
    never calls enrolled someone the core refused."""
    if not plan.skips:
        return
    of_enrollment = _entry_by_enrollment(plan, of_pair)
    refused = []
    for skip in plan.skips:
        entry = of_enrollment.get(skip.enrollment_id)
        refused.append((entry or Entry(0, str(skip.enrollment_id), None), skip.error))
    gone = {id(entry) for entry, _error in refused}
    result.new_learners = [entry for entry in result.new_learners if id(entry) not in gone]
    result.refused += refused


def _address_order(entry: Entry) -> tuple[str, str]:
    """The order new learners are created in: the lower-cased address (the unique index's
    key), then the address itself, so that entries differing only in case keep one order."""
    return (entry.user.lower(), entry.user)
