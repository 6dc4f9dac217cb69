"""The permission set of an API key's user, read once per key and kept briefly (issue 15).

Django's ModelBackend reads a user's permissions with two queries (direct and through groups)
the first time `has_perm` is asked on a user object, and the object lives one request: every
API request paid them again. Here the set is read in one query (direct or through a group,
the same set ModelBackend builds for an active user) and kept per API key for
PERMISSION_CACHE_SECONDS (settings.API_KEY_PERMISSION_CACHE_SECONDS) in the process, and
handed to the user object (`user.api_key_permissions`), where the project's authentication
backend (CachedPermissionsBackend, settings.AUTHENTICATION_BACKENDS) answers from it, so
`has_perm` answers without a query. A subclass of ModelBackend overriding
`get_all_permissions` is the extension point Django documents for this; ModelBackend's own
per-object cache is its private business and is left alone.

The user's course roles (lms.CourseRole, operations/scope.py) are read and kept with the
permissions, under the same rules.

What stays fresh on every request: the key itself (revoked, expired), the user's `is_active`
and `is_superuser`, all read with the key. What may lag: a permission granted or taken away
shows in other processes after at most the cache's seconds; in this process at once (any
change to user or group permissions, or to group membership, empties the cache).
"""

import threading
import time

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models import Q
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver

from apikeys.models import APIKey
from enrollments.operations.scope import ROLES_SLOT
from lms.models import CourseRole, User

#: Default seconds a key's permission set is kept.
DEFAULT_SECONDS = 10.0
#: Keys kept at most (the oldest entries go first).
MAX_KEYS = 10_000
#: The user object's attribute holding the permission set load_permissions read or kept.
ATTRIBUTE = "api_key_permissions"

_lock = threading.Lock()
_entries: dict[object, tuple[float, frozenset[str], list]] = {}


def _seconds() -> float:
    return float(getattr(settings, "API_KEY_PERMISSION_CACHE_SECONDS", DEFAULT_SECONDS))


def load_permissions(api_key: APIKey) -> None:
    """Gives `api_key.user` its permission set from the cache, reading it (one query) when
    the key has none kept or it is older than the cache's seconds."""
    user = api_key.user
    if not user.is_active or user.is_superuser:
        return  # has_perm answers these without reading permissions
    # Not the key's id alone: an id can come back (SQLite reuses the highest after a delete),
    # the random prefix and the user's UUID do not.
    key = (api_key.pk, api_key.prefix, user.pk)
    now = time.monotonic()
    with _lock:
        entry = _entries.get(key)
    if entry is not None and entry[0] > now:
        setattr(user, ATTRIBUTE, entry[1])
        setattr(user, ROLES_SLOT, entry[2])
        return
    permissions = _read_permissions(user)
    setattr(user, ATTRIBUTE, permissions)
    # The course roles are kept with the permissions too, once read: operations/scope.py
    # fills the slot the first time it needs them (never for a global holder), so a course
    # staff member's page costs no statement more than a global one's.
    slot: list = [None]
    setattr(user, ROLES_SLOT, slot)
    seconds = _seconds()
    if seconds <= 0:
        return
    with _lock:
        if len(_entries) >= MAX_KEYS:
            for stale in list(_entries)[: MAX_KEYS // 10]:
                del _entries[stale]
        _entries[key] = (now + seconds, permissions, slot)


def _read_permissions(user: User) -> frozenset[str]:
    """`app_label.codename` of every permission `user` holds directly or through a group: what
    ModelBackend.get_all_permissions answers for an active user, in one query instead of two."""
    rows = (
        Permission.objects.filter(Q(user=user) | Q(group__user=user))
        .values_list("content_type__app_label", "codename")
        .distinct()
    )
    return frozenset(f"{app_label}.{codename}" for app_label, codename in rows)


class CachedPermissionsBackend(ModelBackend):
    """ModelBackend, answering an API key's user from the permission set load_permissions
    gave it (one query per key and cache period instead of two per request). Every other
    user object (a signed-in staff member, a user without a key) is ModelBackend's."""

    def get_all_permissions(self, user_obj, obj=None) -> set[str]:
        permissions = getattr(user_obj, ATTRIBUTE, None)
        if permissions is None or obj is not None:
            return super().get_all_permissions(user_obj, obj)
        if not user_obj.is_active or user_obj.is_anonymous:
            return set()
        return set(permissions)


def clear() -> None:
    with _lock:
        _entries.clear()


@receiver(m2m_changed, sender=User.user_permissions.through, dispatch_uid="apikeys_perms_user")
@receiver(m2m_changed, sender=User.groups.through, dispatch_uid="apikeys_perms_groups")
@receiver(m2m_changed, sender=Group.permissions.through, dispatch_uid="apikeys_perms_group")
# Deleting a group or a permission deletes its links by cascade, which sends no m2m_changed.
@receiver(post_delete, sender=Group, dispatch_uid="apikeys_perms_group_deleted")
@receiver(post_delete, sender=Permission, dispatch_uid="apikeys_perms_permission_deleted")
def _permissions_changed(**_kwargs) -> None:
    _clear_now_and_on_commit()


@receiver(post_save, sender=CourseRole, dispatch_uid="apikeys_roles_saved")
@receiver(post_delete, sender=CourseRole, dispatch_uid="apikeys_roles_deleted")
def _roles_changed(**_kwargs) -> None:
    _clear_now_and_on_commit()


def _clear_now_and_on_commit() -> None:
    """Empties the cache now and again when the change commits: emptied only now, another
    thread of this process (a threaded server) could read the permissions as they still are
    before the commit and keep them for the cache's seconds."""
    clear()
    transaction.on_commit(clear)
