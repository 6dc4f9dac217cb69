"""Finding users and courses by what an operator types (a user by id or e-mail address, a
course by id or slug), and learners by many ids or addresses at once.

One rule for every caller (command options, CSV rows): a value that parses as a UUID is an id;
otherwise it is an e-mail address compared case-insensitively (as `lower(email)`, the
expression of the unique index `lms_user_email_ci_unique`, so PostgreSQL can use that index),
or a slug compared exactly. The bulk forms map many values to ids with a few queries; the
single forms are the bulk forms applied to one value.
"""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import models
from django.db.models import F
from django.db.models.functions import Lower

from lms.batching import chunked
from lms.identifiers import parse_uuid
from lms.models import Course, User
from lms.text import is_valid_text

#: A value as looked up: the id it names, or its normalised text (lower-cased e-mail, slug).
Key = uuid.UUID | str


@dataclass(frozen=True, slots=True)
class _Lookup:
    """How one model is named: by id, or by a text column compared through `text`."""

    model: type[models.Model]
    #: The expression compared with the normalised text (it must match an index).
    text: models.Expression
    #: Python's side of that normalisation.
    lower: bool

    def key(self, value: str) -> Key | None:
        """The key `value` is looked up by; None when it is not valid text (lms.text), which
        names nothing and is never sent to the database."""
        text = value.strip()
        if not is_valid_text(text):
            return None
        return parse_uuid(text) or (text.lower() if self.lower else text)

    def matching(self, keys: list[Key]) -> models.QuerySet:
        """The rows named by `keys` (all ids or all texts), with their key as `lookup_key`."""
        manager = self.model._default_manager
        if not keys:
            return manager.none()
        if isinstance(keys[0], uuid.UUID):
            return manager.filter(pk__in=keys).annotate(lookup_key=F("pk"))
        return manager.annotate(lookup_key=self.text).filter(lookup_key__in=keys)

    def ids_by_key(self, values: Iterable[str]) -> dict[Key, object]:
        """{key: id} for the values that name a row; a few queries, whatever the count."""
        keys = {self.key(value) for value in values}
        ids = [key for key in keys if isinstance(key, uuid.UUID)]
        texts = [key for key in keys if isinstance(key, str)]
        found: dict[Key, object] = {}
        for chunk in [*chunked(ids), *chunked(texts)]:
            found.update(self.matching(chunk).values_list("lookup_key", "pk"))
        return found

    def find(self, value: str) -> models.QuerySet:
        """The row `value` names (an empty queryset when none): one query when evaluated."""
        key = self.key(value)
        return self.matching([key] if key is not None else [])


_USERS = _Lookup(model=User, text=Lower("email"), lower=True)
_COURSES = _Lookup(model=Course, text=F("slug"), lower=False)


def user_key(value: str) -> Key | None:
    """The key `user_ids_by_key` uses for `value`: its UUID, or its lower-cased e-mail."""
    return _USERS.key(value)


def user_ids_by_key(values: Iterable[str]) -> dict[Key, object]:
    """{user_key(value): user id} for the values (ids or e-mail addresses) naming a user."""
    return _USERS.ids_by_key(values)


def user_id_find(value: str) -> object | None:
    """The id of the user with that id or (case-insensitive) e-mail address, or None."""
    return _USERS.find(value).values_list("pk", flat=True).first()


def user_find(value: str) -> User | None:
    """The user with that id or (case-insensitive) e-mail address, or None."""
    return _USERS.find(value).first()


def course_key(value: str) -> Key | None:
    """The key `course_ids_by_key` uses for `value`: its UUID, or the slug."""
    return _COURSES.key(value)


def course_ids_by_key(values: Iterable[str]) -> dict[Key, object]:
    """{course_key(value): course id} for the values (ids or slugs) naming a course."""
    return _COURSES.ids_by_key(values)


def course_id_find(value: str) -> object | None:
    """The id of the course with that id or slug, or None."""
    return _COURSES.find(value).values_list("pk", flat=True).first()


def learners_by_email(emails: Iterable[str]) -> dict[str, User]:
    """{lower-cased address: user} for the (cleaned) addresses that name a user; one query per
    chunk of addresses (the unique index on lower(email))."""
    found: dict[str, User] = {}
    for chunk in chunked(sorted({email.lower() for email in emails})):
        for user in User.objects.annotate(key=Lower("email")).filter(key__in=chunk):
            found[user.key] = user
    return found


def learners_by_id(ids: Iterable[object]) -> dict[object, User]:
    """{id: user} for the ids that name a user; one query per chunk of ids."""
    found: dict[object, User] = {}
    for chunk in chunked(list(set(ids))):
        found.update((user.pk, user) for user in User.objects.filter(pk__in=chunk))
    return found
