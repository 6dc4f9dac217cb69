"""The erasure of a learner: pseudonymised, every other fact kept.

`erase_learner` runs its steps (`STEPS`, each counting what it touched) and pseudonymises the
account, in one transaction; `erasure_preview` runs the same in a transaction it rolls back, so
the preview's counts are exactly the erasure's. Afterwards nothing in the database names the
learner, and every fact about them stays (tests/privacy/test_erasure.py scans every text column):

- the account: e-mail replaced by `erased-<uuid>@erased.invalid` (the old address is free for a
  new account), names and time zone blanked, password unusable, inactive (log-in and every API
  key of theirs stop at once; their sessions with them);
- their API keys revoked, their names blanked (a key's name can say whose laptop it is);
- the audit rows about them (AccessChange of their enrollments) keep every fact (action, dates,
  old and new values, actor, source, batch) and lose their free-text reason, as do the runs
  whose batches changed them or whose stored filter named them (OperationRun.reason: the same
  words);
- their enrollments, completions, events and deliveries stay as they are: ids, dates, counts,
  no names (the events' payloads are thin: enrollments/events/envelope.py); the error texts
  kept of their reminders' sends and of their events' deliveries are blanked (a mail server's
  or receiver's answer may quote the address); their unsent reminders are deleted;
- what names them elsewhere (mentions.py): log-in records (django-axes) under their address
  deleted; the stored GraphQL answers of their own requests (idempotency keys) deleted, and
  others' answers that name them rewritten; every other quote of the address
  (mentions.QUOTING) replaced by the pseudonym, never inside a longer address (someone else's:
  mentions.address_pattern); the admin's log of their own objects (account, enrollments, API
  keys, course roles) named as they are now, whatever address it was written with; a finished
  run's stored filter that names them dropped (whether or not the run changed them), a preview
  draft holding their enrollments deleted;
- an `Erasure` record: who erased whom (by id), when, through which door, and these counts.

Refused (ErasureRefused, nothing written): the actor erasing themselves; an account that can do
more than the actor (lms.privileges.can_do_more_than, the user admin's rule for changing one); a
learner already erased; a bulk change still running over their
enrollments (its later chunks would write audit rows after the erasure: erase once it is done).
"""

import base64
import json
import pickletools
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from django.apps import apps
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext, gettext_noop

from apikeys.models import APIKey, IdempotencyKey
from enrollments import clock
from enrollments.models import (
    AccessChange,
    AccessEvent,
    Enrollment,
    Erasure,
    ExpiryReminder,
    OperationRun,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from enrollments.operations.run_chunks import runs_holding
from enrollments.privacy import mentions
from lms.models import CourseRole, User
from lms.privileges import can_do_more_than

#: The pseudonym's domain: `.invalid` is reserved (RFC 2606), so no mail can ever reach it.
PSEUDONYM_DOMAIN = "erased.invalid"

#: How a run's part holding a filter reads in the JSON text of `OperationRun.parts`
#: (runs.Part.to_json: `"query": "<base64>"`, or `"query": null`), the same in the text Django
#: writes to SQLite and in PostgreSQL's jsonb output: the runs worth decoding.
STORED_FILTER = '"query": "'

#: How many runs are decoded at a time when their stored filters are searched.
RUNS_PER_READ = 100

Source = AccessChange.Source
RunState = OperationRun.State


class ErasureRefused(Exception):
    """The erasure is refused; nothing was written. `message` is for people, in English;
    `translated()` gives it in the active language (its `template`, marked with gettext_noop,
    looked up in the catalogue, then filled with `params`)."""

    def __init__(self, template: str, **params: object) -> None:
        self.template, self.params = template, params
        self.message = template % params if params else template
        super().__init__(self.message)

    def translated(self) -> str:
        text = gettext(self.template)
        return text % self.params if self.params else text


def pseudonym() -> str:
    return f"erased-{uuid.uuid4().hex}@{PSEUDONYM_DOMAIN}"


def is_erased(user: User) -> bool:
    """Whether `user` is an erased account (its address is a pseudonym)."""
    return user.email.endswith(f"@{PSEUDONYM_DOMAIN}")


@dataclass
class Subject:
    """The learner being erased, as they were: what names them, and where their rows are."""

    learner: User
    email: str
    names: tuple[str, ...]
    new_email: str
    enrollment_ids: list[uuid.UUID]
    #: How the admin's log named their API keys (name, prefix, address), by key id.
    key_reprs: dict[int, str]
    pattern: re.Pattern[str] = field(init=False)
    #: The address as JSON written in ASCII quotes it (Django's JSON, the admin's log, stored
    #: answers): `zoe@ex\u00e4mple.com` for `zoe@exämple.com`; None when it is all ASCII.
    escaped_email: str | None = field(init=False, default=None)
    escaped_pattern: re.Pattern[str] | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.pattern = mentions.address_pattern(self.email)
        escaped = json.dumps(self.email)[1:-1]
        if escaped != self.email:
            self.escaped_email = escaped
            self.escaped_pattern = mentions.address_pattern(escaped)

    def mentioned(self, column: str) -> Q:
        """The rows whose text `column` quotes the address, as typed or JSON-escaped."""
        found = Q(**{f"{column}__icontains": self.email})
        if self.escaped_email is not None:
            found |= Q(**{f"{column}__icontains": self.escaped_email})
        return found

    def replaced(self, text: str) -> str:
        """`text` with every quote of the address, as typed or JSON-escaped, replaced by the
        pseudonym (escaped the same way)."""
        text = self.pattern.sub(self.new_email, text)
        if self.escaped_pattern is not None:
            text = self.escaped_pattern.sub(json.dumps(self.new_email)[1:-1], text)
        return text

    @classmethod
    def of(cls, learner: User, *, new_email: str) -> "Subject":
        names = tuple(
            {name for name in (learner.first_name, learner.last_name, learner.full_name) if name}
        )
        ids = list(
            Enrollment.objects.filter(user=learner).order_by("pk").values_list("pk", flat=True)
        )
        keys = {key.pk: str(key) for key in APIKey.objects.filter(user=learner)}
        return cls(learner, learner.email, names, new_email, ids, keys)

    def identifiers(self) -> frozenset[str]:
        """What, as a value of an object of a stored answer, makes the object theirs (in lower
        case): their id, their address, the ids of their enrollments."""
        ids = (self.learner.pk, self.email, *self.enrollment_ids)
        return frozenset(str(value).lower() for value in ids)

    @cached_property
    def filtered_runs(self) -> dict[uuid.UUID, list[dict]]:
        """The finished runs whose stored filter names the address (an admin search for it),
        whether or not the run changed a row of theirs, each with its parts as they are once
        those filters are dropped. Read once (run_reasons_blanked, run_filters_dropped)."""
        return dict(_runs_naming(self))

    def audit_rows(self) -> QuerySet[AccessChange]:
        return AccessChange.objects.filter(enrollment_id__in=self.enrollment_ids)

    def batches(self) -> set[uuid.UUID]:
        return set(
            self.audit_rows().exclude(batch_id=None).values_list("batch_id", flat=True).distinct()
        )


#: One step of the erasure: it acts and returns how many rows it touched (or, for a name
#: ending in `_kept`, counts the rows it keeps).
Step = Callable[[Subject], int]


def _deleted(queryset: QuerySet) -> int:
    return queryset.delete()[1].get(queryset.model._meta.label, 0)


def enrollments_kept(subject: Subject) -> int:
    return len(subject.enrollment_ids)


def audit_rows_kept(subject: Subject) -> int:
    return subject.audit_rows().count()


def audit_reasons_blanked(subject: Subject) -> int:
    return subject.audit_rows().exclude(reason="").update(reason="")


def run_reasons_blanked(subject: Subject) -> int:
    """The reasons of the runs about them: those that changed them (their audit rows' batches)
    and the finished ones selected by their address (one that skipped them too)."""
    about_them = Q(batch_id__in=subject.batches()) | Q(pk__in=list(subject.filtered_runs))
    return OperationRun.objects.filter(about_them).exclude(reason="").update(reason="")


def events_kept(subject: Subject) -> int:
    return AccessEvent.objects.filter(enrollment_id__in=subject.enrollment_ids).count()


def delivery_errors_blanked(subject: Subject) -> int:
    ours = Q(event__enrollment_id__in=subject.enrollment_ids)
    deliveries = WebhookDelivery.objects.filter(ours).exclude(last_error="")
    attempts = WebhookAttempt.objects.filter(
        delivery__event__enrollment_id__in=subject.enrollment_ids
    ).exclude(error="")
    return deliveries.update(last_error="") + attempts.update(error="")


def reminders_kept(subject: Subject) -> int:
    sent = ExpiryReminder.objects.filter(
        enrollment_id__in=subject.enrollment_ids,
        state__in=[ExpiryReminder.State.SENT, ExpiryReminder.State.FAILED],
    )
    sent.exclude(last_error="").update(last_error="")
    return sent.count()


def reminders_unsent_deleted(subject: Subject) -> int:
    unsent = ExpiryReminder.objects.filter(
        enrollment_id__in=subject.enrollment_ids,
        state__in=[ExpiryReminder.State.PENDING, ExpiryReminder.State.SENDING],
    )
    return _deleted(unsent)


def api_keys_revoked(subject: Subject) -> int:
    keys = APIKey.objects.filter(user=subject.learner)
    revoked = keys.revoke(at=clock.now())
    keys.exclude(name="").update(name="")
    return revoked


def own_answers_deleted(subject: Subject) -> int:
    """The stored GraphQL answers of the learner's own requests (apikeys.ratelimit's client
    names: `user:<pk>`, `key:<prefix>`): no retry of theirs can come any more."""
    prefixes = APIKey.objects.filter(user=subject.learner).values_list("prefix", flat=True)
    clients = [f"user:{subject.learner.pk}", *(f"key:{prefix}" for prefix in prefixes)]
    return _deleted(IdempotencyKey.objects.filter(client__in=clients))


def answers_rewritten(subject: Subject) -> int:
    """Other clients' stored answers that name the learner: an object of the answer holding
    their id, address or one of their enrollment ids, and every object within it, has their
    names blanked (`_blank_names`); the address is replaced anywhere. The answer stays, so a
    retry still gets it (and is not applied twice)."""
    learner_id = str(subject.learner.pk)
    holding_an_id = Q(response_body__contains=learner_id)
    for enrollment_id in subject.enrollment_ids:
        holding_an_id |= Q(response_body__contains=str(enrollment_id))
    candidates = IdempotencyKey.objects.filter(subject.mentioned("response_body") | holding_an_id)
    touched = 0
    for row in candidates.only("pk", "response_body"):
        rewritten = rewrite_answer(row.response_body or "", subject, learner_id)
        if rewritten == row.response_body:
            continue
        touched += 1
        IdempotencyKey.objects.filter(pk=row.pk).update(response_body=rewritten)
    return touched


def rewrite_answer(body: str, subject: Subject, learner_id: str) -> str:
    try:
        answer = json.loads(body)
    except ValueError:
        return subject.replaced(body)
    identifiers = subject.identifiers() | {learner_id.lower()}
    rewritten = _blank_names(answer, subject.names, identifiers)
    rewritten = mentions.rewrite_json(rewritten, subject.pattern, subject.new_email)
    if rewritten == answer:
        return body
    return json.dumps(rewritten, separators=(",", ":"), ensure_ascii=False)


def _blank_names(
    value: Any, names: tuple[str, ...], identifiers: frozenset[str], theirs: bool = False
) -> Any:
    """The values equal to one of the learner's `names` blanked in every object that is theirs:
    one holding one of their `identifiers` (Subject.identifiers) as a value, and every object
    and list within it, as the names sit one level below the ids in
    `courseMembership { id user_id user { first_name last_name } }`. Objects of a page of many
    learners that hold none of them keep their names, shared or not."""
    if isinstance(value, list):
        return [_blank_names(item, names, identifiers, theirs) for item in value]
    if not isinstance(value, dict):
        return value
    theirs = theirs or any(
        isinstance(item, str) and item.lower() in identifiers for item in value.values()
    )
    return {
        key: ""
        if theirs and isinstance(item, str) and item in names
        else _blank_names(item, names, identifiers, theirs)
        for key, item in value.items()
    }


def login_records_deleted(subject: Subject) -> int:
    """django-axes' log-in attempts, failures and log of the learner's address."""
    deleted = 0
    for name in ("AccessAttempt", "AccessFailureLog", "AccessLog"):
        try:
            model = apps.get_model("axes", name)
        except LookupError:
            continue
        deleted += _deleted(model.objects.filter(username__iexact=subject.email))
    return deleted


def endpoint_owners_blanked(subject: Subject) -> int:
    owned = WebhookEndpoint.objects.filter(owner_email__iexact=subject.email)
    return owned.update(owner_email="")


def run_filters_dropped(subject: Subject) -> int:
    """A finished run's stored filter (a pickled query, base64 in its parts) that holds the
    address, as an admin search does: the finished run no longer needs it. Any finished run,
    not only those that changed them: a search for their address selects them even when their
    row is skipped (Subject.filtered_runs)."""
    for pk, parts in subject.filtered_runs.items():
        OperationRun.objects.filter(pk=pk).update(parts=parts)
    return len(subject.filtered_runs)


def _runs_naming(subject: Subject) -> Iterable[tuple[uuid.UUID, list[dict]]]:
    """Subject.filtered_runs, read RUNS_PER_READ at a time. The database can only narrow them
    to the runs holding a filter (STORED_FILTER): the address sits in a pickle, in base64, in
    any case; each filter is then searched here (`_filter_names_them`)."""
    finished = OperationRun.objects.filter(
        finished_at__isnull=False, parts__icontains=STORED_FILTER
    ).order_by("pk")
    for pk, parts in finished.values_list("pk", "parts").iterator(chunk_size=RUNS_PER_READ):
        kept = [
            {**part, "query": None}
            if part.get("query") and _filter_names_them(part["query"], subject)
            else part
            for part in parts
        ]
        if kept != parts:
            yield pk, kept


def _filter_names_them(query: str, subject: Subject) -> bool:
    """Whether a stored filter (a pickled `QuerySet.query`, base64) holds the address as a
    whole in one of its strings (an admin search for it; not joann@ for ann@). The strings are
    read with pickletools, which builds nothing and runs nothing; a pickle it cannot read is
    searched as bytes (dropping a finished run's filter too many costs nothing)."""
    data = base64.b64decode(query)
    try:
        strings = [arg for _op, arg, _at in pickletools.genops(data) if isinstance(arg, str)]
    except ValueError:
        return subject.email.lower().encode() in data.lower()
    return any(subject.pattern.search(text) for text in strings)


def drafts_deleted(subject: Subject) -> int:
    """Preview drafts (a "select all" nobody confirmed yet) holding their enrollments."""
    drafts = OperationRun.objects.filter(state=RunState.PREVIEWED)
    return _deleted(drafts.filter(pk__in=runs_holding(drafts, subject.enrollment_ids)))


def admin_log_rewritten(subject: Subject) -> int:
    """The admin's log (LogEntry) of their own objects, and every entry naming their API keys.

    An entry about their account, one of their enrollments, API keys or course roles (found by
    its content type and object id) is named as the admin would name the object now
    (`str(obj)`: the pseudonym, a key's blank name), whatever it was named when written: the
    user admin logs an account by the address it had then, which may be a former one no
    search for the current address finds. Elsewhere, the admin's log named their API keys by
    their names ("Ann's laptop (AbCd…) of ann@…"): those names become the keys' names now
    (blank) and the pseudonym."""
    touched = _own_entries_renamed(subject)
    renamed = {
        old: str(key)
        for key in APIKey.objects.filter(pk__in=subject.key_reprs).select_related("user")
        if (old := subject.key_reprs[key.pk]) != str(key)
    }
    for old, new in renamed.items():
        # The admin writes the repr cut to 200 characters, and the message as ASCII JSON.
        old_json, new_json = json.dumps(old)[1:-1], json.dumps(new)[1:-1]
        found = LogEntry.objects.filter(
            Q(object_repr__contains=old)
            | Q(object_repr=old[:200])
            | Q(change_message__contains=old_json)
        )
        for entry in found.only("pk", "object_repr", "change_message"):
            touched.add(entry.pk)
            repr_ = new if entry.object_repr == old[:200] else entry.object_repr
            LogEntry.objects.filter(pk=entry.pk).update(
                object_repr=repr_.replace(old, new)[:200],
                change_message=entry.change_message.replace(old_json, new_json),
            )
    return len(touched)


def _own_entries_renamed(subject: Subject) -> set[int]:
    """The entries of the admin's log about their objects whose `object_repr` differs from the
    object's name now, renamed; returns their ids."""
    touched = set()
    for content_type, names in _their_objects(subject).items():
        entries = LogEntry.objects.filter(content_type=content_type, object_id__in=list(names))
        for pk, object_id, object_repr in entries.values_list("pk", "object_id", "object_repr"):
            if object_repr != names[object_id]:
                touched.add(pk)
                LogEntry.objects.filter(pk=pk).update(object_repr=names[object_id])
    return touched


def _their_objects(subject: Subject) -> dict[ContentType, dict[str, str]]:
    """Their objects the admin logs, by content type and then by the log's object id (the key
    as text), each with its name now, cut as the admin cuts it (200 characters). Read after
    the account is pseudonymised and their keys' names blanked (STEPS' order)."""
    learner = subject.learner
    objects: list[Iterable[models.Model]] = [
        [learner],
        Enrollment.objects.filter(pk__in=subject.enrollment_ids).select_related("user", "course"),
        APIKey.objects.filter(user=learner).select_related("user"),
        CourseRole.objects.filter(user=learner).select_related("user", "course"),
    ]
    found: dict[ContentType, dict[str, str]] = {}
    for rows in objects:
        for row in rows:
            content_type = ContentType.objects.get_for_model(row)
            found.setdefault(content_type, {})[str(row.pk)] = str(row)[:200]
    return found


def quotes_replaced(subject: Subject) -> int:
    """Every other quote of the address (mentions.QUOTING), replaced by the pseudonym."""
    touched = 0
    for model, column in mentions.quoting_columns():
        found = model.objects.filter(subject.mentioned(column.name))
        for pk, value in found.values_list("pk", column.name):
            if isinstance(value, str):
                new = subject.replaced(value)
            else:
                new = mentions.rewrite_json(value, subject.pattern, subject.new_email)
            if new == value:
                continue
            touched += 1
            model.objects.filter(pk=pk).update(**{column.name: new})
    return touched


#: The steps in the order they act (the counts keep it). Those ending in `_kept` count what
#: stays; every other one erases.
STEPS: tuple[tuple[str, Step], ...] = (
    ("enrollments_kept", enrollments_kept),
    ("audit_rows_kept", audit_rows_kept),
    ("audit_reasons_blanked", audit_reasons_blanked),
    ("run_reasons_blanked", run_reasons_blanked),
    ("events_kept", events_kept),
    ("delivery_errors_blanked", delivery_errors_blanked),
    ("reminders_kept", reminders_kept),
    ("reminders_unsent_deleted", reminders_unsent_deleted),
    ("own_answers_deleted", own_answers_deleted),
    ("api_keys_revoked", api_keys_revoked),
    ("answers_rewritten", answers_rewritten),
    ("admin_log_rewritten", admin_log_rewritten),
    ("login_records_deleted", login_records_deleted),
    ("endpoint_owners_blanked", endpoint_owners_blanked),
    ("run_filters_dropped", run_filters_dropped),
    ("drafts_deleted", drafts_deleted),
    ("quotes_replaced", quotes_replaced),
)

#: Each count in words, for the preview pages and the command's output: English, each marked
#: with gettext_noop, translated where it is shown (`gettext(LABELS[name])`).
LABELS: dict[str, str] = {
    "enrollments_kept": gettext_noop("enrollments kept (dates, progress, no names)"),
    "audit_rows_kept": gettext_noop("audit rows about them kept (actions, dates, values, actors)"),
    "audit_reasons_blanked": gettext_noop("reasons of the audit rows about them blanked"),
    "run_reasons_blanked": gettext_noop(
        "bulk runs' reasons blanked (runs that changed them or were selected by their address)"
    ),
    "events_kept": gettext_noop("events sent about them kept (ids only)"),
    "delivery_errors_blanked": gettext_noop("webhook delivery error texts blanked"),
    "reminders_kept": gettext_noop("reminders sent kept (their error texts blanked)"),
    "reminders_unsent_deleted": gettext_noop("unsent reminders deleted"),
    "own_answers_deleted": gettext_noop("stored answers of their own API requests deleted"),
    "api_keys_revoked": gettext_noop("API keys revoked (names blanked)"),
    "answers_rewritten": gettext_noop("stored API answers naming them rewritten"),
    "admin_log_rewritten": gettext_noop(
        "admin log entries about their account, enrollments, API keys or roles rewritten"
    ),
    "login_records_deleted": gettext_noop("log-in records of their address deleted"),
    "endpoint_owners_blanked": gettext_noop(
        "webhook endpoints they were the contact of (address blanked)"
    ),
    "run_filters_dropped": gettext_noop("finished runs' stored filters naming them dropped"),
    "drafts_deleted": gettext_noop("unconfirmed preview drafts holding their enrollments deleted"),
    "quotes_replaced": gettext_noop(
        "other texts quoting their address rewritten (admin log, reasons, errors)"
    ),
}


def _check(learner: User, actor: User | None) -> None:
    """The refusals that depend on who erases whom (the module's list), before any write."""
    if actor is not None and actor.pk == learner.pk:
        raise ErasureRefused(gettext_noop("You cannot erase your own account."))
    if actor is not None and can_do_more_than(learner, actor):
        raise ErasureRefused(
            gettext_noop(
                "%(email)s can do more than you (superuser status, or permissions you lack): "
                "only someone who can do as much may erase them."
            ),
            email=learner.email,
        )
    if (
        is_erased(learner)
        or Erasure.objects.filter(kind=Erasure.Kind.LEARNER, learner_id=learner.pk).exists()
    ):
        raise ErasureRefused(gettext_noop("%(email)s is already erased."), email=learner.email)


def _check_runs(subject: Subject) -> None:
    """Refuses while a bulk run is still changing one of `subject`'s enrollments; checked again
    when the final lock finds more of them (`_erase`)."""
    unfinished = OperationRun.objects.filter(finished_at__isnull=True).exclude(
        state=RunState.PREVIEWED
    )
    running = min(runs_holding(unfinished, subject.enrollment_ids), default=None)
    if running is not None:
        raise ErasureRefused(
            gettext_noop(
                "Run %(run)s is still changing this learner's enrollments: erase them once it "
                "is done (manage.py jobs show %(run)s)."
            ),
            run=running,
        )


def erasure_preview(learner: User, *, actor: User | None = None) -> dict[str, int]:
    """What erasing `learner` would do, counted by STEPS' names, writing nothing: the steps
    run in a transaction that is rolled back, so the counts are exactly the erasure's (a row
    an earlier step deletes is not counted again by a later one). Raises ErasureRefused when
    it would be refused."""
    with transaction.atomic():
        counts = _erase(learner, actor)[1]
        transaction.set_rollback(True)
    return counts


def _erase(learner: User, actor: User | None) -> tuple[User, dict[str, int]]:
    """Locks the account and their enrollments, checks, pseudonymises the account, runs the
    steps (in the caller's transaction); returns the account and the counts.

    The locks, in an order the operation core's cannot deadlock with. The core locks a
    learner's enrollment (FOR UPDATE) and may then insert another for them, whose foreign key
    takes FOR KEY SHARE on the account when that transaction commits (Django's PostgreSQL
    foreign keys are DEFERRABLE INITIALLY DEFERRED). The account is locked here FOR NO KEY
    UPDATE, which that check does not wait for (another erasure, or an edit of the account,
    still waits for it); then their enrollments, in key order, waiting for any change to them
    in flight, which can now commit. Locked FOR UPDATE first, the account made that commit
    wait for the erasure while the erasure waited for the enrollment it held: a deadlock.

    Saving the account changes its e-mail address, a column of a unique index: that takes the
    lock the foreign key's check waits for, so from then on no new enrollment of theirs
    commits before the erasure does. Their enrollments are then locked once more
    (`_locked_enrollments`): one committed since the first lock (FOR NO KEY UPDATE let it) is
    locked and erased too, and the set is final. An enrollment inserted but not yet committed
    when the address changes is not seen, as it was not with FOR UPDATE: its commit waits for
    the erasure, and its audit row stays as written."""
    learner = User.objects.select_for_update(no_key=True).get(pk=learner.pk)
    _locked_enrollments(learner)
    subject = Subject.of(learner, new_email=pseudonym())
    _check(learner, actor)
    _check_runs(subject)
    # The account first: the steps work from `subject` (what named them), and a repr written
    # again (admin_log_rewritten) shows the pseudonym.
    learner.email = subject.new_email
    learner.first_name = learner.last_name = learner.time_zone = learner.language = ""
    learner.is_active = False
    learner.set_unusable_password()
    learner.save(
        update_fields=[
            "email",
            "first_name",
            "last_name",
            "time_zone",
            "language",
            "is_active",
            "password",
        ]
    )
    final = _locked_enrollments(learner)
    if final != subject.enrollment_ids:
        subject.enrollment_ids = final
        _check_runs(subject)
    return learner, {name: step(subject) for name, step in STEPS}


def _locked_enrollments(learner: User) -> list[uuid.UUID]:
    """The ids of the learner's enrollments, locked FOR UPDATE in key order (the core's)."""
    rows = Enrollment.objects.select_for_update().filter(user=learner).order_by("pk")
    return list(rows.values_list("pk", flat=True))


def erase_learner(learner: User, *, actor: User | None, source: str) -> Erasure:
    """Erases `learner` (the module's docstring), attributed to `actor` through `source`
    (AccessChange.Source); returns the Erasure record. One transaction: the account and their
    enrollments are locked first, so a change to them in flight commits before (its audit row
    is then erased too) or waits for the erasure; a new enrollment of theirs committed
    meanwhile is erased too, or its commit waits for the erasure (`_erase`: the locks, and why
    they cannot deadlock with the core's). Raises ErasureRefused."""
    with transaction.atomic():
        learner, counts = _erase(learner, actor)
        return Erasure.objects.create(
            kind=Erasure.Kind.LEARNER,
            learner=learner,
            actor=actor,
            source=source,
            performed_at=clock.now(),
            counts=counts,
        )
