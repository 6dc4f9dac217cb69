"""The same records through each door (issue 27 item 5): the API's `auditLog` and the admin's
"Access changes" list read the trail through one selector (enrollments/selectors/audit_log.py),
so for the same user and the same filters they list the same records in the same order, for a
holder of the global permission and for a course's staff alike. (No management command lists
the trail; the admin's CSV export streams the list's own queryset.)"""

import pytest
from django.test import Client

from tests.factories import CourseRoleFactory, StaffFactory, UserFactory
from tests.graphql.audit_trail import Trail

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_paths")]

DOCUMENT = """query ($resource: ID, $action: AccessChangeAction) {
  auditLog(page_size: 100, resource_id: $resource, action: $action) { id }
}"""

#: (the API's variables, the admin list's query string), each naming the same filter.
FILTERS = [
    (lambda t: {}, lambda t: {}),
    (lambda t: {"resource": str(t.ann.pk)}, lambda t: {"enrollment__id__exact": str(t.ann.pk)}),
    (lambda t: {"action": "EXTEND"}, lambda t: {"action__exact": "extend"}),
    (
        lambda t: {"resource": str(t.cy.pk), "action": "EXTEND"},
        lambda t: {"enrollment__id__exact": str(t.cy.pk), "action__exact": "extend"},
    ),
]


@pytest.fixture
def trail() -> Trail:
    return Trail()


def superuser(trail):
    return UserFactory(is_staff=True, is_superuser=True)


def course_staff(trail):
    staff = StaffFactory()
    CourseRoleFactory(user=staff, course=trail.course_a)
    return staff


def through_the_api(api, key, variables) -> list[str]:
    body = api.post(DOCUMENT, variables, key=key)
    assert "errors" not in body, body
    return [event["id"] for event in body["data"]["auditLog"]]


def through_the_admin(user, query) -> list[str]:
    client = Client()
    client.force_login(user)
    response = client.get("/admin/enrollments/accesschange/", query)
    assert response.status_code == 200
    return [str(change.pk) for change in response.context["cl"].result_list]


@pytest.mark.parametrize("who", [superuser, course_staff], ids=["global", "course staff"])
@pytest.mark.parametrize(("api_filters", "admin_filters"), FILTERS)
def test_the_api_and_the_admin_list_the_same_records(
    api, make_key, trail, who, api_filters, admin_filters
):
    user = who(trail)
    from_api = through_the_api(api, make_key(user), api_filters(trail))
    from_admin = through_the_admin(user, admin_filters(trail))
    assert from_api == from_admin
    # And they are the records the scope reaches: course A's for its staff.
    reached = trail.ids(*range(7)) if who is superuser else trail.ids(*range(6))
    assert set(from_api) <= set(reached)
    if api_filters(trail) == {}:
        assert from_api == reached
