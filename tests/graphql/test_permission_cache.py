"""An API key's permission set is read once and kept briefly (apikeys.permission_cache); the key
itself and its user's state are checked on every request."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apikeys import permission_cache
from apikeys.models import APIKey
from tests.graphql.conftest import error_codes, grant

pytestmark = pytest.mark.django_db

PAGE = "{ courseMemberships(first: 5) { edges { node { id } } } }"


def permission_queries(api, key) -> tuple[int, dict]:
    with CaptureQueriesContext(connection) as captured:
        body = api.post(PAGE, key=key)
    reads = [q for q in captured.captured_queries if "auth_permission" in q["sql"]]
    return len(reads), body


def listed(body) -> set[str]:
    return {edge["node"]["id"] for edge in body["data"]["courseMemberships"]["edges"]}


def test_the_set_is_read_by_the_first_request_only(api, make_key, viewer, enrollment):
    key = make_key(viewer)
    reads, body = permission_queries(api, key)
    assert reads == 1 and listed(body) == {str(enrollment.pk)}  # direct and through groups
    reads, body = permission_queries(api, key)
    assert reads == 0 and listed(body) == {str(enrollment.pk)}


def test_it_is_read_again_after_the_cache_seconds(api, make_key, viewer, monkeypatch):
    key = make_key(viewer)
    now = [1000.0]
    monkeypatch.setattr(permission_cache.time, "monotonic", lambda: now[0])
    assert permission_queries(api, key)[0] == 1
    now[0] += permission_cache.DEFAULT_SECONDS - 1
    assert permission_queries(api, key)[0] == 0
    now[0] += 2
    assert permission_queries(api, key)[0] == 1


def test_zero_seconds_keeps_nothing(api, make_key, viewer, settings):
    settings.API_KEY_PERMISSION_CACHE_SECONDS = 0
    key = make_key(viewer)
    assert permission_queries(api, key)[0] == 1
    assert permission_queries(api, key)[0] == 1


def test_a_permission_change_applies_at_once_in_this_process(api, make_key, student, enrollment):
    key = make_key(student)
    assert listed(permission_queries(api, key)[1]) == set()  # a student sees only their own
    grant(student, "view")
    assert listed(permission_queries(api, key)[1]) == {str(enrollment.pk)}
    student.user_permissions.clear()
    assert listed(permission_queries(api, key)[1]) == set()


@pytest.mark.parametrize("deleted", ["group", "permission"])
def test_deleting_a_group_or_a_permission_applies_at_once(
    api, make_key, student, enrollment, deleted
):
    """Deleting a group or a permission deletes its links by cascade, which sends no
    m2m_changed: the key kept the group's permission for the cache's seconds."""
    group = Group.objects.create(name="viewers")
    permission = Permission.objects.get(
        content_type__app_label="enrollments", codename="view_enrollment"
    )
    group.permissions.add(permission)
    student.groups.add(group)
    key = make_key(student)
    assert listed(permission_queries(api, key)[1]) == {str(enrollment.pk)}
    (group if deleted == "group" else permission).delete()
    assert listed(permission_queries(api, key)[1]) == set()


def test_a_revoked_key_or_inactive_user_is_refused_at_once(api, make_key, viewer):
    key = make_key(viewer)
    assert "errors" not in api.post(PAGE, key=key)
    viewer.is_active = False
    viewer.save()
    assert api.post(PAGE, key=key)["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    viewer.is_active = True
    viewer.save()
    assert "errors" not in api.post(PAGE, key=key)
    APIKey.objects.filter(user=viewer).revoke()
    assert error_codes(api.post(PAGE, key=key)) == ["UNAUTHENTICATED"]


def test_keys_do_not_share_a_set(api, make_key, viewer, student, enrollment):
    assert listed(permission_queries(api, make_key(viewer))[1]) == {str(enrollment.pk)}
    assert listed(permission_queries(api, make_key(student))[1]) == set()


def test_a_superuser_reads_no_permissions(api, make_key, enrollment):
    from tests.factories import StaffFactory

    admin = StaffFactory(is_superuser=True)
    reads, body = permission_queries(api, make_key(admin))
    assert reads == 0 and listed(body) == {str(enrollment.pk)}


def test_a_set_read_before_the_change_commits_is_dropped_at_the_commit(
    api, make_key, student, enrollment, django_capture_on_commit_callbacks
):
    """A threaded server's other request may read the set between the change and its commit
    (the old set, as the database still has it): the cache is emptied again at the commit, or
    it would keep that set for the cache's seconds."""
    key = make_key(student)
    with django_capture_on_commit_callbacks(execute=True):
        grant(student, "view")
        # Another request of this process reads the set before the grant commits.
        permission_cache._entries[("stale",)] = (float("inf"), frozenset(), [None])
        assert ("stale",) in permission_cache._entries
    assert ("stale",) not in permission_cache._entries
    assert listed(permission_queries(api, key)[1]) == {str(enrollment.pk)}
