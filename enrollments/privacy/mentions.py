"""Where a learner may be named outside their own rows, and how each place is cleaned.

The rows about a learner (their account, enrollments, audit rows, reminders, events, keys)
are found by their keys (erasure.py). But free text typed or produced elsewhere can quote an
e-mail address: a staff member's reason on someone else's audit row ("as asked by
ann@example.com"), the admin's log of an API key ("laptop (AbCd…) of ann@example.com"), a mail
server's error kept on a reminder, a receiver's answer kept on a webhook delivery, a job's
traceback, a stored GraphQL answer. Those columns are listed here, once:

- `QUOTING`: text columns where any row may quote the e-mail. An erasure finds the rows whose
  value contains it (case-insensitively) and replaces it there by the pseudonym, leaving the
  rest of the text alone, and a longer address that holds it (joann@... for ann@...) too
  (`address_pattern`).
- `HANDLED`: columns the erasure treats as rows of the learner (erasure.py says how).
- `NOT_PERSONAL`: text columns that hold no one's words: codes, enumerations, ids, hashes,
  secrets, signed session data, course content. Each with why.

Every text column of every installed model (CharField, TextField, JSONField) is in exactly one
of the three, or has `choices` (an enumeration): tests/privacy checks it, so a new column has to
be placed here before it can hold a learner's e-mail unnoticed.
"""

import re
from collections.abc import Iterator
from typing import Any

from django.apps import apps
from django.db import models

#: "app_label.Model.field": text where any row may quote an e-mail address.
QUOTING: tuple[str, ...] = (
    "admin.LogEntry.object_repr",
    "admin.LogEntry.change_message",
    "enrollments.AccessChange.reason",
    "enrollments.ExpiryReminder.last_error",
    "enrollments.OperationRun.description",
    "enrollments.OperationRun.reason",
    "enrollments.OperationRun.error",
    "enrollments.WebhookEndpoint.description",
    "enrollments.WebhookEndpoint.disabled_reason",
    "enrollments.WebhookDelivery.last_error",
    "enrollments.WebhookAttempt.error",
    "apikeys.APIKey.name",
    "apikeys.IdempotencyKey.response_body",
    "axes.AccessAttempt.get_data",
    "axes.AccessAttempt.post_data",
    "django_tasks_database.DBTaskResult.args_kwargs",
    "django_tasks_database.DBTaskResult.return_value",
    "django_tasks_database.DBTaskResult.traceback",
    "lms.Course.description",
    "lms.CourseItem.description",
)

#: Columns the erasure treats as the learner's own rows (erasure.py).
HANDLED: dict[str, str] = {
    "lms.User.email": "replaced by the pseudonym (erased-<uuid>@erased.invalid)",
    "lms.User.first_name": "blanked",
    "lms.User.last_name": "blanked",
    "lms.User.time_zone": "blanked (a preference of theirs)",
    "lms.User.language": "blanked (a preference of theirs)",
    "lms.User.password": "made unusable",
    "enrollments.WebhookEndpoint.owner_email": "blanked where it is the learner's address",
    "enrollments.OperationRun.parts": "a finished run's pickled filter that names them dropped",
    "axes.AccessFailureLog.username": "the learner's log-in records deleted",
    "axes.AccessAttempt.username": "the learner's log-in records deleted",
    "axes.AccessLog.username": "the learner's log-in records deleted",
}

#: Text columns that hold no one's words, and why.
NOT_PERSONAL: dict[str, str] = {
    "admin.LogEntry.object_id": "a primary key",
    "auth.Permission.name": "a permission's label",
    "auth.Permission.codename": "a permission's code",
    "auth.Group.name": "a group's name, chosen by staff for a role",
    "contenttypes.ContentType.app_label": "a model's name",
    "contenttypes.ContentType.model": "a model's name",
    "sessions.Session.session_key": "a random key",
    "sessions.Session.session_data": "signed, encoded session data (a user id, no address); "
    "the unusable password and the inactive account end the learner's sessions",
    "lms.Course.slug": "course content",
    "lms.Course.title": "course content",
    "lms.CourseItem.title": "course content",
    "enrollments.OperationRun.identity": "a hash of a command's request",
    "enrollments.OperationRun.job_id": "a job's id",
    "enrollments.OperationRun.freezing_courses": "course ids",
    "enrollments.OperationRunChunk.skips": "enrollment ids and error codes",
    "enrollments.AccessEvent.action": "an action code",
    "enrollments.AccessEvent.changed_fields": "the API's field names",
    "enrollments.Erasure.counts": "numbers",
    "enrollments.WebhookEndpoint.url": "a receiver's address, set by staff",
    "enrollments.WebhookEndpoint.event_types": "event type codes",
    "enrollments.WebhookEndpoint.secret": "a signing secret",
    "enrollments.WebhookEndpoint.previous_secret": "a signing secret",
    "apikeys.APIKey.prefix": "a key's random prefix",
    "apikeys.APIKey.hashed_key": "a hash",
    "apikeys.IdempotencyKey.client": "a key prefix or user id (the learner's own rows are deleted)",
    "apikeys.IdempotencyKey.key": "a client's random request key",
    "apikeys.IdempotencyKey.fingerprint": "a hash",
    "axes.AccessFailureLog.user_agent": "a browser's name",
    "axes.AccessFailureLog.http_accept": "a browser's header",
    "axes.AccessFailureLog.path_info": "a URL path",
    "axes.AccessAttempt.user_agent": "a browser's name",
    "axes.AccessAttempt.http_accept": "a browser's header",
    "axes.AccessAttempt.path_info": "a URL path",
    "axes.AccessLog.user_agent": "a browser's name",
    "axes.AccessLog.http_accept": "a browser's header",
    "axes.AccessLog.path_info": "a URL path",
    "axes.AccessLog.session_hash": "a hash",
    "django_tasks_database.DBTaskResult.task_path": "a function's import path",
    "django_tasks_database.DBTaskResult.worker_ids": "worker ids",
    "django_tasks_database.DBTaskResult.queue_name": "a queue's name",
    "django_tasks_database.DBTaskResult.backend_name": "a backend's name",
    "django_tasks_database.DBTaskResult.exception_class_path": "an exception's import path",
}

TEXT_FIELDS = (models.CharField, models.TextField, models.JSONField)


def text_columns() -> Iterator[str]:
    """Every free-form text column of every installed model ("app_label.Model.field"):
    CharField (EmailField, SlugField, URLField included), TextField and JSONField columns
    without `choices`."""
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, TEXT_FIELDS) and not field.choices:
                yield f"{model._meta.label}.{field.name}"


def quoting_columns() -> Iterator[tuple[type[models.Model], models.Field]]:
    """QUOTING's columns of the installed apps, as (model, field)."""
    for column in QUOTING:
        label, name = column.rsplit(".", 1)
        try:
            model = apps.get_model(label)
        except LookupError:  # an optional app not installed
            continue
        yield model, model._meta.get_field(name)


#: Before a quote of the address, a character that would make it the end of a longer address
#: (joann@example.com holds ann@example.com): a letter or digit of any script, "_", ".", "+",
#: "-", or an apostrophe inside a name (o'ann@...; a quote mark, 'ann@...', still quotes). A
#: letter that ends one of JSON's escapes (`\nann@...` in JSON text) is a new line, not a name.
_LONGER_BEFORE = r"(?:(?<![\w.+-])|(?<=\\[nrtbf]))(?<!\w')"
#: After it, one that would make it the start of a longer domain (ann@example.com.au): a letter
#: or digit, "-", or a dot followed by one. A sentence's full stop ("ann@example.com.") is not.
_LONGER_AFTER = r"(?![\w-]|\.[\w-])"


def address_pattern(email: str) -> re.Pattern[str]:
    """The e-mail address anywhere in a text, in any case (domains are case-insensitive, and
    people type local parts as they like), but never inside a longer address: erasing
    ann@example.com leaves joann@example.com, jo.ann@example.com, zoé.ann@example.com and
    ann@example.com.au alone (someone else's). The neighbours are checked as characters
    (Unicode's letters and digits), not as cases, so case folding cannot widen them."""
    return re.compile(_LONGER_BEFORE + re.escape(email) + _LONGER_AFTER, re.IGNORECASE)


def rewrite_json(value: Any, pattern: re.Pattern[str], replacement: str) -> Any:
    """`value` (parsed JSON) with every string's matches of `pattern` replaced."""
    if isinstance(value, str):
        return pattern.sub(replacement, value)
    if isinstance(value, list):
        return [rewrite_json(item, pattern, replacement) for item in value]
    if isinstance(value, dict):
        return {
            pattern.sub(replacement, key): rewrite_json(item, pattern, replacement)
            for key, item in value.items()
        }
    return value
