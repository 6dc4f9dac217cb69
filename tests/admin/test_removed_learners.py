"""Removed learners in the admin (issue 26, item 1): the list says what it includes, a search
that removed rows also match says so and links to them, the users and courses lists' counts
link to the rows they count, and a removed enrollment's page offers Restore (the core's
enroll-again) and none of the buttons the core could only refuse."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from enrollments.models import AccessChange, Enrollment
from enrollments.operations import Remove, Selection, apply
from enrollments.operations.audit import Attribution
from lms.models import CourseRole
from tests.admin.conftest import grant, logged_in
from tests.admin.helpers import changelist_url, confirm_page
from tests.factories import CourseFactory, CourseRoleFactory, EnrollmentFactory, OperatorFactory

SYSTEM = Attribution(None, AccessChange.Source.SYSTEM)


def restore_url(enrollment) -> str:
    return reverse("admin:enrollments_enrollment_restore_one", args=[enrollment.pk])


def change_url(enrollment) -> str:
    return reverse("admin:enrollments_enrollment_change", args=[enrollment.pk])


@pytest.fixture
def erin(db, clock):
    """erin@example.com, removed from Python Basics through the core (as seed_demo does)."""
    course = CourseFactory(title="Python Basics", slug="python-basics", access_days=30)
    enrollment = EnrollmentFactory(
        user__email="erin@example.com",
        course=course,
        start_at=clock.current - timedelta(days=20),
        ended_at=clock.current + timedelta(days=10),
    )
    apply(Remove(), Selection.named([enrollment.pk]), SYSTEM)
    enrollment.refresh_from_db()
    return enrollment


@pytest.fixture
def superuser_client(db):
    return logged_in(OperatorFactory())


def listed(response) -> list:
    return list(response.context["cl"].result_list)


def test_the_default_list_says_it_leaves_removed_learners_out(superuser_client, erin):
    response = superuser_client.get(changelist_url())
    assert listed(response) == []
    filters = response.context["cl"].filter_specs
    (state,) = [spec for spec in filters if getattr(spec, "parameter_name", "") == "access_state"]
    choices = list(state.choices(response.context["cl"]))
    assert [c["display"] for c in choices if c["selected"]] == ["Not removed (default)"]
    assert "All (removed included)" in [c["display"] for c in choices]
    assert "Not removed (default)" in response.text


@pytest.mark.parametrize("value", ["all", "any"])  # "any": the former name, still understood
def test_all_means_all(superuser_client, erin, value):
    active = EnrollmentFactory(course=erin.course)
    response = superuser_client.get(changelist_url(f"access_state={value}"))
    assert {e.pk for e in listed(response)} == {erin.pk, active.pk}
    state = next(
        spec
        for spec in response.context["cl"].filter_specs
        if getattr(spec, "parameter_name", "") == "access_state"
    )
    selected = [c["display"] for c in state.choices(response.context["cl"]) if c["selected"]]
    assert selected == ["All (removed included)"]
    # The removed row carries its badge.
    assert 'class="access-badge access-removed"' in response.text


def test_a_search_that_removed_rows_also_match_says_so_and_links_to_them(superuser_client, erin):
    response = superuser_client.get(changelist_url("q=erin@example.com"))
    assert listed(response) == []
    (message,) = [str(m) for m in response.context["messages"]]
    assert message.startswith("1 removed enrollment also matches “erin@example.com”")
    link = response.text.split('class="show-removed-link"')[0].rsplit('href="', 1)[1]
    link = link.split('"')[0].replace("&amp;", "&")
    assert "access_state=all" in link and "q=erin%40example.com" in link

    shown = superuser_client.get(changelist_url(link.lstrip("?")))
    assert [e.pk for e in listed(shown)] == [erin.pk]
    assert "access-removed" in shown.text
    assert not [m for m in shown.context["messages"]]  # "all" asked: nothing left out


def test_no_hint_when_nothing_removed_matches_and_none_without_a_search(superuser_client, erin):
    EnrollmentFactory(user__email="ann@example.com", course=erin.course)
    for query in ("q=ann@example.com", "", "q=erin@example.com&access_state=active"):
        response = superuser_client.get(changelist_url(query))
        assert not list(response.context["messages"]), query


def test_the_hint_costs_one_count_only_on_a_searched_page(superuser_client, erin):
    superuser_client.get(changelist_url())  # warm caches (content types, session)
    with CaptureQueriesContext(connection) as plain:
        superuser_client.get(changelist_url("q=nobody@example.com"))
    with CaptureQueriesContext(connection) as hinted:
        superuser_client.get(changelist_url("q=erin@example.com"))
    # The hint's own changelist costs its COUNT alone (the course filter's courses are read).
    assert len(hinted) - len(plain) <= 1


def test_the_hint_is_scoped_to_the_staff_members_courses(erin, clock):
    """A course staff member of another course searching erin is told nothing about her."""
    other = CourseFactory()
    staff = CourseRoleFactory(course=other, role=CourseRole.Role.MANAGER).user
    response = logged_in(staff).get(changelist_url("q=erin@example.com"))
    assert listed(response) == []
    assert not list(response.context["messages"])
    everything = logged_in(staff).get(changelist_url("q=erin@example.com&access_state=all"))
    assert listed(everything) == []


def test_users_and_courses_lists_link_to_the_rows_they_count(superuser_client, erin):
    users = superuser_client.get(reverse("admin:lms_user_changelist") + "?q=erin@example.com")
    link = users.text.split("enrollment_changelist")[0]  # sanity: the page rendered
    assert link
    url = reverse("admin:enrollments_enrollment_changelist")
    expected = f'href="{url}?user__id__exact={erin.user_id}&amp;access_state=all">1</a>'
    assert expected in users.text
    shown = superuser_client.get(f"{url}?user__id__exact={erin.user_id}&access_state=all")
    assert [e.pk for e in listed(shown)] == [erin.pk]

    courses = superuser_client.get(reverse("admin:lms_course_changelist"))
    assert f'href="{url}?course__id__exact={erin.course_id}&amp;access_state=all">1</a>' in (
        courses.text
    )


def test_a_removed_enrollments_page_offers_restore_and_nothing_that_would_refuse(
    superuser_client, erin
):
    page = superuser_client.get(change_url(erin))
    assert page.context["can_restore"]
    assert restore_url(erin) in page.text
    for refused in ("extend-access-link", "expire-access-link", "pause-link", "resume-link"):
        assert refused not in page.text
    assert "remove-link" not in page.text
    assert "historylink" in page.text  # History works for a removed enrollment
    assert "was removed from the course" in page.text

    active = EnrollmentFactory(course=erin.course)
    page = superuser_client.get(change_url(active))
    assert not page.context["can_restore"]
    assert "restore-link" not in page.text
    assert "extend-access-link" in page.text


def test_restore_previews_then_confirm_brings_the_same_enrollment_back(
    superuser_client, erin, clock
):
    page = superuser_client.get(restore_url(erin))
    assert page.status_code == 200
    preview = page.context["preview"]
    assert (preview.changed, preview.skipped) == (1, 0)
    assert preview.changed_rows[0].new_end == "2026-01-31 00:00 UTC"  # 30 days from now
    erin.refresh_from_db()
    assert erin.removed_at is not None  # a preview changes nothing

    done = confirm_page(superuser_client, page, reason="removed by mistake")
    assert done.status_code == 302 and done.url == change_url(erin)
    erin.refresh_from_db()
    assert erin.removed_at is None
    assert erin.ended_at == clock.current + timedelta(days=30)
    record = AccessChange.objects.get(enrollment=erin, action="enroll")
    assert (record.source, record.reason, record.old_removed_at) == (
        "admin",
        "removed by mistake",
        clock.current,
    )
    messages = [str(m) for m in superuser_client.get(done.url).context["messages"]]
    assert messages == ["Restored this enrollment."]
    assert Enrollment.objects.count() == 1  # the same row, not a new one


def test_a_stale_restore_preview_applies_nothing(superuser_client, erin):
    page = superuser_client.get(restore_url(erin))
    assert confirm_page(superuser_client, page).status_code == 302
    again = confirm_page(superuser_client, page)  # Back, Confirm again
    assert again.status_code == 200
    assert "changed since the preview" in again.context["notice"]
    assert again.context["preview"].changed == 0 and again.context["preview"].unchanged == 1
    assert AccessChange.objects.filter(enrollment=erin, action="enroll").count() == 1


def test_restore_needs_the_permission_to_enroll(erin):
    viewer = grant(OperatorFactory(is_superuser=False), "view_enrollment", "change_enrollment")
    client = logged_in(viewer)
    page = client.get(change_url(erin))
    assert not page.context["can_restore"] and "restore-link" not in page.text
    assert client.get(restore_url(erin)).status_code == 403
    assert client.post(restore_url(erin), {"_confirm": "Confirm"}).status_code == 403
    erin.refresh_from_db()
    assert erin.removed_at is not None


def test_restore_outside_the_managers_courses_is_not_found(erin):
    """A manager of another course: erin's enrollment is missing to them, Restore included."""
    manager = CourseRoleFactory(course=CourseFactory(), role=CourseRole.Role.MANAGER).user
    client = logged_in(manager)
    response = client.get(restore_url(erin))
    assert response.status_code == 302
    assert response.url == reverse("admin:enrollments_enrollment_changelist")
    response = client.post(restore_url(erin), {"_confirm": "Confirm", "fingerprint": "x"})
    assert response.status_code == 302
    erin.refresh_from_db()
    assert erin.removed_at is not None


def test_the_courses_manager_restores(erin):
    manager = CourseRoleFactory(course=erin.course, role=CourseRole.Role.MANAGER).user
    client = logged_in(manager)
    page = client.get(change_url(erin))
    assert page.context["can_restore"]
    done = confirm_page(client, client.get(restore_url(erin)))
    assert done.status_code == 302
    erin.refresh_from_db()
    assert erin.removed_at is None


def test_restore_of_an_enrollment_not_removed_changes_nothing(superuser_client, erin):
    active = EnrollmentFactory(course=erin.course)
    page = superuser_client.get(restore_url(active))
    assert page.context["preview"].unchanged == 1
    assert 'disabled title="Nothing would change"' in page.text
