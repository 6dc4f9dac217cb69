"""Who can do more than whom: the rule that keeps a non-superuser from taking over a more
privileged account. The user admin applies it before changing an account (whoever may change
one may also set its password and log in as it), and erasure before erasing one
(enrollments/privacy/erasure.py): one rule, here, below both."""

from django.contrib.auth.models import Permission
from django.db.models import Q

from enrollments.operations.scope import read_roles, scope_of
from enrollments.permissions import ROLE_PERMISSIONS
from lms.models import User


def held_permissions(account: User) -> set[str]:
    """Every permission `account` holds, its own and its groups', as "app_label.codename",
    whether or not it is active (`get_all_permissions` answers nothing for an inactive
    account, which the editor could then reactivate)."""
    rows = (
        Permission.objects.filter(Q(user=account) | Q(group__user=account))
        .values_list("content_type__app_label", "codename")
        .distinct()
    )
    return {f"{app_label}.{codename}" for app_label, codename in rows}


def can_do_more_than(account: User, editor: User) -> bool:
    """Whether `account` holds a privilege `editor` lacks (superuser status, a permission, or
    a course role granting a permission the editor lacks in that course). Whoever may change
    an account may also set its password and log in as it, so a non-superuser manages only
    accounts that can do no more than they can."""
    if editor.is_superuser:
        return False
    if account.is_superuser:
        return True
    if not held_permissions(account) <= editor.get_all_permissions():
        return True
    return any(
        not scope_of(editor, permission).covers(course)
        for course, role in read_roles(account.pk).items()
        for permission in ROLE_PERMISSIONS[role]
    )
