"""Only superusers grant privileges in the admin.

Staff holding `lms.change_user` could open their own page in the stock user admin, tick
"Superuser status" and save. Now, for anyone but a superuser: superuser and staff status, groups
and permissions are read-only (a posted value is ignored), and an account that can do more than
the editor (a superuser, or one holding a permission the editor lacks) cannot be changed,
deleted or given a new password (403), since whoever sets its password becomes it. The same
holds for a group's permissions. A superuser may do all of it.
"""

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client
from django.urls import reverse

from lms.models import User
from tests.factories import StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

PRIVILEGES = ("is_staff", "is_superuser", "groups", "user_permissions")


def permissions(*labels: str) -> list[Permission]:
    found = []
    for label in labels:
        app_label, codename = label.split(".")
        found.append(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    return found


def user_manager(*extra: str) -> User:
    """Staff who may view, change, add and delete users (and hold `extra`), no superuser."""
    staff = StaffFactory()
    labels = ("lms.view_user", "lms.change_user", "lms.add_user", "lms.delete_user", *extra)
    staff.user_permissions.add(*permissions(*labels))
    return User.objects.get(pk=staff.pk)  # no cached permissions


def logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def change_url(user: User) -> str:
    return reverse("admin:lms_user_change", args=[user.pk])


def posted_form(client: Client, user: User, **changes) -> dict:
    """The user's change form as the browser posts it (every field it shows as an input),
    with `changes` on top."""
    page = client.get(change_url(user))
    assert page.status_code == 200
    form = page.context["adminform"].form
    data: dict = {}
    for name, field in form.fields.items():
        if field.disabled:
            continue
        value = form.initial.get(name, field.initial)
        if name in ("groups", "user_permissions"):
            data[name] = [str(getattr(item, "pk", item)) for item in value or ()]
        elif isinstance(value, bool):
            if value:
                data[name] = "on"
        elif value is not None:
            data[name] = str(value)
    for inline in page.context["inline_admin_formsets"]:  # e.g. the course roles, empty
        formset = inline.formset
        management = formset.management_form
        data.update({f"{formset.prefix}-{k}": str(v) for k, v in management.initial.items()})
    data.update(changes)
    data["_save"] = "Save"
    return data


def every_permission_id() -> list[str]:
    return [str(pk) for pk in Permission.objects.values_list("pk", flat=True)]


def assert_unprivileged(user: User, *, held: set[str]) -> None:
    user = User.objects.get(pk=user.pk)
    assert not user.is_superuser
    assert set(user.user_permissions.values_list("codename", flat=True)) == held
    assert not user.groups.exists()


MANAGER_CODENAMES = {"view_user", "change_user", "add_user", "delete_user"}


def test_staff_cannot_make_themselves_superuser_or_grant_themselves_permissions():
    manager = user_manager()
    client = logged_in(manager)
    admins = Group.objects.create(name="admins")
    admins.permissions.set(Permission.objects.all())

    response = client.post(
        change_url(manager),
        posted_form(
            client,
            manager,
            first_name="Changed",
            is_superuser="on",
            user_permissions=every_permission_id(),
            groups=[str(admins.pk)],
        ),
    )

    assert response.status_code == 302  # saved: the name, and nothing of the privileges
    assert User.objects.get(pk=manager.pk).first_name == "Changed"
    assert_unprivileged(manager, held=MANAGER_CODENAMES)


def test_staff_see_privileges_read_only():
    manager = user_manager()
    client = logged_in(manager)
    for user in (manager, StaffFactory()):
        form = client.get(change_url(user)).context["adminform"].form
        assert not set(PRIVILEGES) & set(form.fields), user


def test_staff_cannot_make_another_account_superuser_or_staff_or_give_it_permissions():
    manager = user_manager()
    client = logged_in(manager)
    learner = UserFactory()

    response = client.post(
        change_url(learner),
        posted_form(
            client,
            learner,
            last_name="Renamed",
            is_staff="on",
            is_superuser="on",
            user_permissions=every_permission_id(),
        ),
    )

    assert response.status_code == 302
    learner = User.objects.get(pk=learner.pk)
    assert learner.last_name == "Renamed"
    assert not learner.is_staff
    assert_unprivileged(learner, held=set())


def test_staff_cannot_add_a_superuser():
    manager = user_manager()
    client = logged_in(manager)

    client.post(
        reverse("admin:lms_user_add"),
        {
            "email": "new@example.com",
            "first_name": "New",
            "last_name": "Person",
            "usable_password": "true",
            "password1": "a-long-pass-phrase-9",
            "password2": "a-long-pass-phrase-9",
            "is_superuser": "on",
            "is_staff": "on",
            "user_permissions": every_permission_id(),
            "_save": "Save",
        },
    )

    created = User.objects.get(email="new@example.com")
    assert not created.is_staff
    assert_unprivileged(created, held=set())


@pytest.mark.parametrize(
    "target",
    [
        pytest.param(lambda: UserFactory(is_staff=True, is_superuser=True), id="superuser"),
        pytest.param(
            lambda: _holding(StaffFactory(), "enrollments.extend_access"),
            id="holds-a-permission-the-editor-lacks",
        ),
    ],
)
def test_staff_cannot_change_delete_or_set_the_password_of_an_account_that_can_do_more(target):
    manager = user_manager()
    client = logged_in(manager)
    account = target()
    before = User.objects.values().get(pk=account.pk)

    page = client.get(change_url(account))
    assert page.status_code == 200  # seen read-only
    assert not page.context["has_change_permission"]
    response = client.post(change_url(account), {"email": account.email, "is_active": ""})
    assert response.status_code == 403
    password_url = reverse("admin:auth_user_password_change", args=[account.pk])
    assert client.get(password_url).status_code == 403
    response = client.post(
        password_url,
        {"password1": "taken-over-pass-9", "password2": "taken-over-pass-9"},
    )
    assert response.status_code == 403
    delete_url = reverse("admin:lms_user_delete", args=[account.pk])
    assert client.post(delete_url, {"post": "yes"}).status_code == 403
    response = client.post(
        reverse("admin:lms_user_changelist"),
        {"action": "delete_selected", "_selected_action": [str(account.pk)], "post": "yes"},
    )
    assert response.status_code == 403

    assert User.objects.values().get(pk=account.pk) == before


def _holding(user: User, *labels: str) -> User:
    user.user_permissions.add(*permissions(*labels))
    return user


def test_staff_may_still_manage_accounts_that_can_do_no_more_than_they_can():
    manager = user_manager("enrollments.extend_access")
    client = logged_in(manager)
    colleague = _holding(StaffFactory(), "enrollments.extend_access")

    response = client.post(
        change_url(colleague), posted_form(client, colleague, first_name="Colleague")
    )

    assert response.status_code == 302
    assert User.objects.get(pk=colleague.pk).first_name == "Colleague"
    password_url = reverse("admin:auth_user_password_change", args=[colleague.pk])
    assert client.get(password_url).status_code == 200


def test_a_superuser_grants_superuser_status_staff_status_groups_and_permissions():
    boss = UserFactory(is_staff=True, is_superuser=True)
    client = logged_in(boss)
    learner = UserFactory()
    group = Group.objects.create(name="leads")
    extend = permissions("enrollments.extend_access")[0]

    response = client.post(
        change_url(learner),
        posted_form(
            client,
            learner,
            is_staff="on",
            is_superuser="on",
            groups=[str(group.pk)],
            user_permissions=[str(extend.pk)],
        ),
    )

    assert response.status_code == 302
    learner = User.objects.get(pk=learner.pk)
    assert learner.is_staff and learner.is_superuser
    assert list(learner.groups.all()) == [group]
    assert list(learner.user_permissions.all()) == [extend]


def test_staff_cannot_give_their_group_permissions():
    manager = user_manager("auth.view_group", "auth.change_group")
    group = Group.objects.create(name="managers")
    manager.groups.add(group)
    client = logged_in(manager)
    url = reverse("admin:auth_group_change", args=[group.pk])

    assert "permissions" not in client.get(url).context["adminform"].form.fields
    response = client.post(
        url, {"name": "managers", "permissions": every_permission_id(), "_save": "Save"}
    )

    assert response.status_code == 302
    assert not group.permissions.exists()
    assert not User.objects.get(pk=manager.pk).has_perm("enrollments.extend_access")


def test_a_superuser_gives_a_group_permissions():
    client = logged_in(UserFactory(is_staff=True, is_superuser=True))
    group = Group.objects.create(name="leads")
    extend = permissions("enrollments.extend_access")[0]

    response = client.post(
        reverse("admin:auth_group_change", args=[group.pk]),
        {"name": "leads", "permissions": [str(extend.pk)], "_save": "Save"},
    )

    assert response.status_code == 302
    assert list(group.permissions.all()) == [extend]
