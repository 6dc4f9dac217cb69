"""Course roles at the admin door (issue 25): a course's staff see and change only their
course's enrollments, on every page, and what lies outside answers as missing; a course's
manager ends, removes and undoes there only; the course's limits refuse a change with the
core's messages, writing nothing; roles are granted inline by holders of
`lms.manage_course_roles`, who is recorded; the list costs a course's staff member the
statements it costs a global one."""

import uuid
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from enrollments.errors import ExtensionOverCourseLimit, ReasonRequired
from enrollments.models import AccessChange, Enrollment, OperationRun
from enrollments.operations import Extend, Selection, apply
from enrollments.operations.audit import Attribution
from lms.models import Course, CourseRole, CourseRoleChange, User
from tests.admin.conftest import grant, logged_in
from tests.admin.helpers import changelist_url, confirm, confirm_page, post_action, preview
from tests.commands.conftest import snapshot
from tests.factories import (
    CourseFactory,
    CourseRoleFactory,
    EnrollmentFactory,
    OperatorFactory,
    StaffFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

EXTEND = "admin:enrollments_enrollment_extend_access"
EXPIRE = "admin:enrollments_enrollment_expire_access"
TRAIL = "admin:enrollments_accesschange_changelist"
LIMIT_MESSAGE = f"{ExtensionOverCourseLimit.message} (at most 30 days)"


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def lms_grant(user: User, *codenames: str) -> User:
    perms = Permission.objects.filter(content_type__app_label="lms", codename__in=codenames)
    assert perms.count() == len(codenames), codenames
    user.user_permissions.add(*perms)
    return User.objects.get(pk=user.pk)  # no cached permissions


@pytest.fixture
def courses(clock):
    """Course A (three learners) and course B (two, one of them `bea@b.example`), every
    enrollment ending in 10 days."""
    a = CourseFactory(title="Algebra", slug="algebra")
    b = CourseFactory(title="Biology", slug="biology")

    def enrol(course, email):
        return EnrollmentFactory(
            course=course,
            user=UserFactory(email=email),
            start_at=clock.current - timedelta(days=10),
            ended_at=clock.current + timedelta(days=10),
        )

    rows_a = [enrol(a, f"al{n}@a.example") for n in range(3)]
    rows_b = [enrol(b, "bea@b.example"), enrol(b, "ben@b.example")]
    return a, b, rows_a, rows_b


def role(course, role: str = "staff", user=None) -> User:
    user = user or StaffFactory()
    CourseRoleFactory(user=user, course=course, role=role)
    return User.objects.get(pk=user.pk)


@pytest.fixture
def staff_of_a(courses):
    return role(courses[0], "staff")


@pytest.fixture
def staff_client(staff_of_a):
    return logged_in(staff_of_a)


@pytest.fixture
def manager_client(courses):
    return logged_in(role(courses[0], "manager"))


def ends(rows) -> list:
    return list(
        Enrollment.objects.filter(pk__in=[r.pk for r in rows])
        .order_by("pk")
        .values_list("ended_at", flat=True)
    )


def course_filter(response):
    """The course filter's choices; None when it is not shown (Django hides a filter of one
    choice)."""
    spec = next((s for s in response.context["cl"].filter_specs if s.title == "course"), None)
    return None if spec is None else [(pk, str(title)) for pk, title in spec.lookup_choices]


def answer(client, url: str, *replace: object):
    """Status, where it leads and the messages shown (with `replace` written as "ID"), the
    messages then read, as the next page does."""
    response = client.get(url)
    words = messages_of(response)
    for value in replace:
        words = [text.replace(str(value), "ID") for text in words]
    client.get(response["Location"])
    return response.status_code, response["Location"], words


# -- what a course's staff member sees ---------------------------------------------------------


def test_the_list_its_count_filter_and_search_show_only_the_staff_s_course(staff_client, courses):
    a, b, rows_a, rows_b = courses
    page = staff_client.get(changelist_url())
    assert page.status_code == 200
    cl = page.context["cl"]
    assert cl.result_count == 3
    assert {e.pk for e in cl.result_list} == {e.pk for e in rows_a}
    # One course: Django shows no filter of one choice; B's is nowhere on the page.
    assert course_filter(page) is None
    assert "bea@b.example" not in page.content.decode()
    assert "Biology" not in page.content.decode()

    # Searching for B's learner, or filtering on B by a crafted URL, finds nothing.
    assert staff_client.get(changelist_url("q=bea%40b.example")).context["cl"].result_count == 0
    assert staff_client.get(changelist_url("q=Biology")).context["cl"].result_count == 0
    # A crafted course filter for B: no row (the filter applies, then the scope), never A's
    # rows in its place, which "Select all" would then have changed.
    crafted = staff_client.get(changelist_url(f"course__id__exact={b.pk}"))
    assert crafted.context["cl"].result_count == 0


def test_the_course_filter_lists_every_course_of_the_user_s_roles_and_no_other(courses):
    a, b, _rows_a, _rows_b = courses
    c = CourseFactory(title="Chemistry")
    user = role(a, "staff")
    role(c, "manager", user=user)
    page = logged_in(user).get(changelist_url())
    assert course_filter(page) == [(a.pk, "Algebra"), (c.pk, "Chemistry")]


def test_another_course_s_enrollment_page_and_history_answer_like_a_missing_one(
    staff_client, courses
):
    _a, _b, rows_a, rows_b = courses
    outside, missing = rows_b[0].pk, uuid.uuid4()
    for url_name in (
        "admin:enrollments_enrollment_change",
        "admin:enrollments_enrollment_history",
        "admin:enrollments_enrollment_extend_access_one",
        "admin:enrollments_enrollment_pause_one",
    ):
        shown = answer(staff_client, reverse(url_name, args=[outside]), outside)
        assert shown == answer(staff_client, reverse(url_name, args=[missing]), missing), url_name
        assert shown[0] == 302 and shown[2], url_name

    own = staff_client.get(reverse("admin:enrollments_enrollment_change", args=[rows_a[0].pk]))
    assert own.status_code == 200
    html = own.content.decode()
    assert "extend-access-link" in html and "pause-link" in html
    # Staff may not end access or remove: a manager's operations.
    assert "expire-access-link" not in html and "remove-link" not in html


def test_the_staff_s_actions_are_theirs_only(staff_client):
    page = staff_client.get(changelist_url())
    actions = {name for name, _label in page.context["action_form"].fields["action"].choices}
    assert actions == {"", "extend_access", "pause_enrollments", "resume_enrollments"}
    assert "enroll-learners-link" not in page.content.decode()


def test_the_audit_trail_lists_only_the_staff_s_course(staff_client, courses, clock):
    a, b, rows_a, rows_b = courses
    operator = OperatorFactory()
    apply(
        Extend(days=1),
        Selection.named([e.pk for e in rows_a + rows_b]),
        Attribution(operator, AccessChange.Source.ADMIN, "term"),
    )
    page = staff_client.get(reverse(TRAIL))
    assert page.status_code == 200
    listed = {change.enrollment_id for change in page.context["cl"].result_list}
    assert listed == {e.pk for e in rows_a}
    assert page.context["cl"].result_count == 3
    assert staff_client.get(reverse(TRAIL) + "?q=bea").context["cl"].result_count == 0

    # B's history by a crafted link: no row, and the learner is not named.
    trail_b = staff_client.get(reverse(TRAIL) + f"?enrollment__id__exact={rows_b[0].pk}")
    assert trail_b.context["cl"].result_count == 0
    assert "bea@b.example" not in trail_b.content.decode()
    # B's record: answered like a missing record.
    record_b = AccessChange.objects.get(enrollment=rows_b[0])
    response = staff_client.get(
        reverse("admin:enrollments_accesschange_change", args=[record_b.pk])
    )
    missing = staff_client.get(reverse("admin:enrollments_accesschange_change", args=[10**9]))
    assert (response.status_code, response["Location"]) == (302, missing["Location"])


def test_the_admin_index_offers_the_course_staff_their_pages_and_nobody_else_any(staff_client):
    apps = {
        app["app_label"]: {model["object_name"] for model in app["models"]}
        for app in staff_client.get(reverse("admin:index")).context["app_list"]
    }
    # Expiry reminders: seen by whoever sees the enrollments (enrollments/admin/reminders.py).
    assert apps == {"enrollments": {"Enrollment", "AccessChange", "OperationRun", "ExpiryReminder"}}

    nobody = logged_in(StaffFactory())  # staff, but neither a permission nor a role
    assert nobody.get(reverse("admin:index")).context["app_list"] == []
    assert nobody.get(changelist_url()).status_code == 403
    assert nobody.get(reverse(TRAIL)).status_code == 403


# -- what they change --------------------------------------------------------------------------


def test_select_all_and_extend_changes_only_the_staff_s_course(staff_client, courses):
    a, b, rows_a, rows_b = courses
    before_b = ends(rows_b)
    # Every learner matches the search ("example"), B's included.
    ticked = [e.pk for e in rows_a]  # the page's rows, ticked by "Select all"
    form = post_action(staff_client, "extend_access", ticked, select_across=True, query="q=example")
    assert form.context["selected"] == 3
    shown = preview(staff_client, form, days="7", reason="exam week")
    assert shown.context["preview"].changed == 3
    done = confirm(staff_client, shown, days="7", reason="exam week")
    assert done.status_code == 302
    assert messages_of(done) == ["Extended access for 3 enrollments."]
    assert ends(rows_b) == before_b
    assert ends(rows_a) == [
        e.ended_at + timedelta(days=7) for e in sorted(rows_a, key=lambda e: e.pk)
    ]
    assert set(AccessChange.objects.values_list("enrollment__course_id", flat=True)) == {a.pk}


def test_a_crafted_selection_of_another_course_s_rows_changes_nothing(staff_client, courses):
    _a, _b, _rows_a, rows_b = courses
    before = snapshot()
    # Ticked on the list: the admin's queryset does not hold them, the page selects none.
    response = post_action(staff_client, "extend_access", [e.pk for e in rows_b])
    assert response.context["selected"] == 0
    # Posted to the page itself, with a Confirm.
    data = {
        "_selected_action": [str(e.pk) for e in rows_b],
        "mode": "days",
        "days": "7",
        "time_zone": "UTC",
        "reason": "x",
        "_preview": "Preview",
    }
    shown = staff_client.post(reverse(EXTEND), data)
    assert shown.context["preview"].changed == 0
    data.pop("_preview")
    staff_client.post(reverse(EXTEND), {**data, "_confirm": "1", "fingerprint": "x"})
    assert snapshot() == before


def test_a_global_viewer_with_a_role_elsewhere_changes_only_the_role_s_course(courses):
    """Sees every course (view_enrollment), extends in A only (a manager role): the page
    counts and changes A's rows, not the list's."""
    a, b, rows_a, rows_b = courses
    user = grant(role(a, "manager"), "view_enrollment")
    client = logged_in(User.objects.get(pk=user.pk))
    assert client.get(changelist_url()).context["cl"].result_count == 5
    form = post_action(client, "extend_access", [rows_a[0].pk], select_across=True)
    shown = preview(client, form, days="3", reason="late start")
    assert (shown.context["selected"], shown.context["preview"].changed) == (3, 3)
    before_b = ends(rows_b)
    confirm(client, shown, days="3", reason="late start")
    assert ends(rows_b) == before_b
    assert AccessChange.objects.count() == 3


# -- a course's manager --------------------------------------------------------------------------


def test_a_manager_ends_and_removes_in_their_course_only(manager_client, courses, clock):
    a, b, rows_a, rows_b = courses
    before_b = list(Enrollment.objects.filter(course=b).order_by("pk").values())

    form = post_action(manager_client, "expire_access", [rows_a[0].pk], select_across=True)
    shown = preview(manager_client, form, url=reverse(EXPIRE), at="", reason="term over")
    assert shown.context["preview"].changed == 3
    confirm(manager_client, shown, url=reverse(EXPIRE), at="", reason="term over")
    assert ends(rows_a) == [clock.current] * 3

    page = post_action(manager_client, "remove_from_course", [rows_a[0].pk], select_across=True)
    assert page.context["preview"].changed == 3
    done = confirm_page(manager_client, page, "left the course")
    assert messages_of(done) == ["Removed 3 enrollments."]
    assert Enrollment.objects.filter(course=a, removed_at__isnull=False).count() == 3
    assert list(Enrollment.objects.filter(course=b).order_by("pk").values()) == before_b

    # B's enrollment by its own page: not found, nothing written.
    manager_client.get(done["Location"])  # the messages read
    url = reverse("admin:enrollments_enrollment_remove_one", args=[rows_b[0].pk])
    assert answer(manager_client, url)[2] == ["Enrollment not found."]
    assert list(Enrollment.objects.filter(course=b).order_by("pk").values()) == before_b


def test_a_manager_undoes_their_course_s_batch_and_not_one_reaching_another(
    manager_client, courses, clock
):
    a, b, rows_a, rows_b = courses
    operator = OperatorFactory()
    own = apply(
        Extend(days=30),
        Selection.named([e.pk for e in rows_a]),
        Attribution(operator, AccessChange.Source.ADMIN, "oops"),
    )
    both = apply(
        Extend(days=30),
        Selection.named([rows_a[0].pk, rows_b[0].pk]),
        Attribution(operator, AccessChange.Source.ADMIN, "oops"),
    )
    clock.advance(minutes=1)
    before = snapshot()

    def refused(batch_id):
        url = reverse("admin:enrollments_accesschange_undo_batch", args=[batch_id])
        return answer(manager_client, url)

    # The batch reaching B answers exactly as a batch that does not exist.
    assert refused(both.batch_id) == refused(uuid.uuid4())
    assert refused(both.batch_id)[2] == ["No access changes with this batch id"]
    assert snapshot() == before

    # Its own batch: rows_a[0] changed since (the second batch) and is skipped, the two others
    # get their end back.
    url = reverse("admin:enrollments_accesschange_undo_batch", args=[own.batch_id])
    page = manager_client.get(url)
    assert page.status_code == 200
    assert (page.context["preview"].changed, page.context["preview"].skipped) == (2, 1)
    done = confirm_page(manager_client, page, "wrong term")
    assert done.status_code == 302
    end = {e.pk: e.ended_at for e in Enrollment.objects.all()}
    assert [end[e.pk] for e in rows_a] == [
        rows_a[0].ended_at + timedelta(days=60),
        rows_a[1].ended_at,
        rows_a[2].ended_at,
    ]
    assert [end[e.pk] for e in rows_b] == [
        rows_b[0].ended_at + timedelta(days=30),
        rows_b[1].ended_at,
    ]


def test_a_manager_enrolls_in_their_course_only(manager_client, courses):
    a, b, _rows_a, _rows_b = courses
    url = reverse("admin:enrollments_enrollment_enroll")
    page = manager_client.get(url)
    assert list(page.context["form"].fields["course"].queryset) == [a]
    before = snapshot()
    refused = manager_client.post(
        url, {"course": str(b.pk), "learners": "al0@a.example", "reason": "", "_preview": "1"}
    )
    assert "course" in refused.context["form"].errors
    assert snapshot() == before
    learner = UserFactory(email="new@a.example")
    shown = manager_client.post(
        url, {"course": str(a.pk), "learners": learner.email, "reason": "", "_preview": "1"}
    )
    assert shown.context["preview"].counts["enrolled"] == 1
    manager_client.post(
        url,
        {
            "course": str(a.pk),
            "learners": learner.email,
            "reason": "",
            "_confirm": "1",
            "fingerprint": shown.context["fingerprint"],
        },
    )
    assert Enrollment.objects.filter(user=learner, course=a).exists()


# -- the course's limits -----------------------------------------------------------------------


@pytest.fixture
def limited(courses):
    a = courses[0]
    Course.objects.filter(pk=a.pk).update(staff_max_extension_days=30, staff_reason_required=True)
    return courses


def test_an_extension_over_the_limit_is_refused_with_its_message_and_nothing_written(
    staff_client, limited
):
    rows_a = limited[2]
    before = snapshot()
    form = post_action(staff_client, "extend_access", [rows_a[0].pk], select_across=True)
    shown = preview(staff_client, form, days="45", reason="exam")
    rows = shown.context["preview"]
    assert rows.changed == 0 and rows.skipped == 3
    assert {row.reason for row in rows.skipped_rows} == {LIMIT_MESSAGE}
    assert 'name="_confirm" value="Confirm" class="default" disabled' in shown.content.decode()
    done = confirm(staff_client, shown, days="45", reason="exam")  # a crafted Confirm
    assert messages_of(done)[0].startswith("Skipped 3 enrollments: al")
    assert LIMIT_MESSAGE in messages_of(done)[0]
    assert snapshot() == before

    within = preview(staff_client, form, days="30", reason="exam")
    assert within.context["preview"].changed == 3


def test_a_change_without_the_required_reason_is_refused_and_nothing_written(staff_client, limited):
    a, _b, rows_a, _rows_b = limited
    before = snapshot()
    url = reverse("admin:enrollments_enrollment_extend_access_one", args=[rows_a[0].pk])
    page = staff_client.get(url)
    shown = preview(staff_client, page, url=url, days="5", reason="")
    assert [row.reason for row in shown.context["preview"].skipped_rows] == [ReasonRequired.message]
    done = confirm(staff_client, shown, url=url, days="5", reason="")
    assert messages_of(done) == [ReasonRequired.message]
    assert snapshot() == before


def test_a_page_without_parameters_plans_again_with_the_reason(staff_client, limited):
    """Pause has no parameter: the first preview (no reason yet) skips every row for the
    reason; "Update preview" with one plans them, and Confirm pauses."""
    _a, _b, rows_a, _rows_b = limited
    page = post_action(staff_client, "pause_enrollments", [e.pk for e in rows_a])
    assert {row.reason for row in page.context["preview"].skipped_rows} == {ReasonRequired.message}
    assert 'value="Update preview"' in page.content.decode()
    data: dict = {}
    for name, value in page.context["scope"].hidden_fields:
        data.setdefault(name, []).append(value)
    again = staff_client.post(
        page.context["scope"].form_url, {**data, "_preview": "1", "reason": "sick leave"}
    )
    assert again.context["preview"].changed == 3
    done = confirm_page(staff_client, again, "sick leave")
    assert messages_of(done) == ["Paused 3 enrollments."]
    assert Enrollment.objects.filter(course=rows_a[0].course, is_paused=True).count() == 3


# -- the jobs -----------------------------------------------------------------------------------


def test_a_course_staff_member_sees_their_own_jobs_only(staff_of_a, staff_client, clock):
    def job(actor, name):
        return OperationRun.objects.create(
            parts={},
            description=name,
            state=OperationRun.State.FAILED,
            actor=actor,
            source=AccessChange.Source.ADMIN,
            total=1,
            created_at=clock.current,
        )

    own, other = job(staff_of_a, "mine"), job(OperatorFactory(), "someone else's")
    page = staff_client.get(reverse("admin:enrollments_operationrun_changelist"))
    assert [run.pk for run in page.context["cl"].result_list] == [own.pk]
    assert (
        staff_client.get(
            reverse("admin:enrollments_operationrun_change", args=[own.pk])
        ).status_code
        == 200
    )
    response = staff_client.get(reverse("admin:enrollments_operationrun_change", args=[other.pk]))
    assert messages_of(response) == ["No such job."]


# -- cost ---------------------------------------------------------------------------------------


def test_a_course_staff_member_s_list_costs_what_a_global_staff_member_s_does(
    staff_client, operator_client, courses, django_assert_num_queries
):
    """Session, user, permissions (user and group), the roles with the course filter's
    courses (one query, admin/scoping.py), the count, the page and the date drill-down (2):
    the same 9 for a course's staff member and for a global one."""
    counts = {}
    for name, client in (("course staff", staff_client), ("global", operator_client)):
        client.get(changelist_url())  # warm the session
        with CaptureQueriesContext(connection) as captured:
            page = client.get(changelist_url())
        assert page.status_code == 200
        counts[name] = len(captured)
    assert counts == {"course staff": 9, "global": 9}


# -- roles in the admin ---------------------------------------------------------------------------


def role_formset(page, prefix):
    formsets = {f.formset.prefix: f for f in page.context["inline_admin_formsets"]}
    return formsets.get(prefix)


def course_post(course, rows=(), **fields) -> dict:
    data = {
        "staff_max_extension_days": "",
        "roles-TOTAL_FORMS": str(len(rows)),
        "roles-INITIAL_FORMS": "0",
        "roles-MIN_NUM_FORMS": "0",
        "roles-MAX_NUM_FORMS": "1000",
        "_save": "Save",
    }
    for n, (user, role_name) in enumerate(rows):
        data.update(
            {
                f"roles-{n}-id": "",
                f"roles-{n}-course": str(course.pk),
                f"roles-{n}-user": str(user.pk),
                f"roles-{n}-role": role_name,
            }
        )
    data.update(fields)
    return data


def test_a_role_manager_grants_a_role_and_sets_the_limits_on_the_course_page(clock):
    course = CourseFactory(title="Algebra")
    manager = lms_grant(StaffFactory(), "manage_course_roles", "view_user")
    client = logged_in(manager)
    page = client.get(reverse("admin:lms_course_change", args=[course.pk]))
    assert page.status_code == 200
    roles = role_formset(page, "roles")
    assert roles is not None and roles.has_add_permission
    form = page.context["adminform"].form
    # The limits are theirs to set; the course itself is not.
    assert {"staff_max_extension_days", "staff_reason_required"} <= set(form.fields)
    assert "title" not in form.fields
    assert "Limits for course staff" in page.content.decode()

    instructor = StaffFactory()
    response = client.post(
        reverse("admin:lms_course_change", args=[course.pk]),
        course_post(
            course,
            [(instructor, "staff")],
            title="Changed",
            staff_max_extension_days="30",
            staff_reason_required="on",
        ),
    )
    assert response.status_code == 302, response.context and response.context["errors"]
    granted = CourseRole.objects.get()
    assert (granted.user, granted.course, granted.role) == (instructor, course, "staff")
    assert (granted.granted_by, granted.granted_at) == (manager, clock.current)
    course.refresh_from_db()
    assert course.title == "Algebra"
    assert (course.staff_max_extension_days, course.staff_reason_required) == (30, True)


def test_without_the_permission_roles_are_read_only_or_hidden(clock):
    course = CourseFactory(title="Algebra")
    CourseRoleFactory(course=course)
    editor = lms_grant(StaffFactory(), "view_course", "change_course", "view_courserole")
    client = logged_in(editor)
    page = client.get(reverse("admin:lms_course_change", args=[course.pk]))
    roles = role_formset(page, "roles")
    assert roles is not None
    assert not (roles.has_add_permission or roles.has_change_permission)
    assert not roles.has_delete_permission
    newcomer = StaffFactory()
    data = course_post(course, [(newcomer, "manager")], title="Algebra", slug=course.slug)
    data.update({"items-TOTAL_FORMS": "0", "items-INITIAL_FORMS": "0"})
    client.post(reverse("admin:lms_course_change", args=[course.pk]), data)
    assert not CourseRole.objects.filter(user=newcomer).exists()

    hidden = logged_in(lms_grant(StaffFactory(), "view_course", "change_course"))
    page = hidden.get(reverse("admin:lms_course_change", args=[course.pk]))
    assert role_formset(page, "roles") is None


def test_a_superuser_grants_a_role_on_the_user_page_and_is_recorded(client, admin_user, clock):
    course = CourseFactory(title="Algebra")
    instructor = StaffFactory(first_name="Ivy", last_name="Instructor")
    client.force_login(admin_user)
    url = reverse("admin:lms_user_change", args=[instructor.pk])
    page = client.get(url)
    assert role_formset(page, "course_roles").has_add_permission
    data = {
        "email": instructor.email,
        "first_name": "Ivy",
        "last_name": "Instructor",
        "time_zone": "",
        "is_active": "on",
        "is_staff": "on",
        "course_roles-TOTAL_FORMS": "1",
        "course_roles-INITIAL_FORMS": "0",
        "course_roles-MIN_NUM_FORMS": "0",
        "course_roles-MAX_NUM_FORMS": "1000",
        "course_roles-0-user": str(instructor.pk),
        "course_roles-0-course": str(course.pk),
        "course_roles-0-role": "manager",
        "_save": "Save",
    }
    response = client.post(url, data)
    assert response.status_code == 302
    granted = CourseRole.objects.get(user=instructor)
    assert (granted.course, granted.role, granted.granted_by) == (course, "manager", admin_user)


def test_an_account_whose_roles_reach_further_than_the_editor_is_not_theirs_to_change(courses):
    a = courses[0]
    user_manager = lms_grant(StaffFactory(), "view_user", "change_user")
    client = logged_in(user_manager)
    manager_of_a = role(a, "manager")
    page = client.get(reverse("admin:lms_user_change", args=[manager_of_a.pk]))
    assert page.status_code == 200
    assert not page.context["has_change_permission"]
    password = reverse("admin:auth_user_password_change", args=[manager_of_a.pk])
    assert client.get(password).status_code in (403, 404)

    # An editor who may do everywhere what the staff role grants may change a staff account.
    staff_of_a = role(a, "staff")
    grant(user_manager, "view_enrollment", "view_accesschange", "extend_access", "pause_enrollment")
    client = logged_in(User.objects.get(pk=user_manager.pk))
    page = client.get(reverse("admin:lms_user_change", args=[staff_of_a.pk]))
    assert page.context["has_change_permission"]


# -- the demo's instructor (docs/admin.md "Set up an instructor") ---------------------------------


def test_the_demo_instructor_sees_python_basics_only_and_its_limits_hold(clock):
    call_command("seed_demo", force=True, stdout=StringIO())
    instructor = User.objects.get(email="instructor@example.com")
    assert instructor.is_staff and not instructor.is_superuser
    assert not instructor.user_permissions.exists()
    python = Course.objects.get(slug="python-basics")
    assert (python.staff_max_extension_days, python.staff_reason_required) == (30, True)
    held = CourseRole.objects.get(user=instructor)
    assert (held.course, held.role, held.granted_by.email) == (python, "staff", "admin@example.com")

    client = logged_in(instructor)
    page = client.get(changelist_url())
    shown = Enrollment.objects.filter(course=python, removed_at__isnull=True).count()
    assert page.context["cl"].result_count == shown
    assert course_filter(page) is None  # one course: no filter to choose from
    html = page.content.decode()
    assert "Django in Depth" not in html and "SQL for Everyone" not in html

    bob = Enrollment.objects.get(user__email="bob@example.com", course=python)
    url = reverse("admin:enrollments_enrollment_extend_access_one", args=[bob.pk])
    page = client.get(url)
    over = preview(client, page, url=url, days="45", reason="exam retake")
    assert [row.reason for row in over.context["preview"].skipped_rows] == [LIMIT_MESSAGE]
    within = preview(client, page, url=url, days="14", reason="exam retake")
    assert within.context["preview"].changed == 1
    done = confirm(client, within, url=url, days="14", reason="exam retake")
    assert messages_of(done) == ["Extended access for this enrollment."]
    assert AccessChange.objects.get(enrollment=bob, action="extend").reason == "exam retake"


# -- the record of each change in the admin (lms.CourseRoleChange) --------------------------------

ROLE_CHANGES = "admin:lms_courserolechange_changelist"


def role_records() -> list[tuple]:
    return list(
        CourseRoleChange.objects.order_by("id").values_list(
            "user_id", "action", "old_role", "new_role", "actor_id", "source"
        )
    )


def existing_rows_post(course, rows, **fields) -> dict:
    """The course page's roles formset with existing rows: (CourseRole, user, role, delete)."""
    data = {
        "staff_max_extension_days": "",
        "roles-TOTAL_FORMS": str(len(rows)),
        "roles-INITIAL_FORMS": str(len(rows)),
        "roles-MIN_NUM_FORMS": "0",
        "roles-MAX_NUM_FORMS": "1000",
        "_save": "Save",
    }
    for n, (held, user, role_name, delete) in enumerate(rows):
        data.update(
            {
                f"roles-{n}-id": str(held.pk),
                f"roles-{n}-course": str(course.pk),
                f"roles-{n}-user": str(user.pk),
                f"roles-{n}-role": role_name,
            }
        )
        if delete:
            data[f"roles-{n}-DELETE"] = "on"
    data.update(fields)
    return data


@pytest.fixture
def role_manager_client(clock):
    manager = lms_grant(StaffFactory(), "manage_course_roles", "view_user")
    return manager, logged_in(manager)


def test_the_course_page_records_a_grant_a_change_and_a_revoke_once_each(role_manager_client):
    manager, client = role_manager_client
    course = CourseFactory(title="Algebra")
    url = reverse("admin:lms_course_change", args=[course.pk])
    ivy = StaffFactory()

    assert client.post(url, course_post(course, [(ivy, "staff")])).status_code == 302
    held = CourseRole.objects.get()
    assert (
        client.post(url, existing_rows_post(course, [(held, ivy, "manager", False)])).status_code
        == 302
    )
    assert CourseRole.objects.get().role == "manager"
    # Saving the page again without touching the row records nothing.
    assert (
        client.post(url, existing_rows_post(course, [(held, ivy, "manager", False)])).status_code
        == 302
    )
    assert (
        client.post(url, existing_rows_post(course, [(held, ivy, "manager", True)])).status_code
        == 302
    )

    assert not CourseRole.objects.exists()
    assert role_records() == [
        (ivy.pk, "grant", "", "staff", manager.pk, "admin"),
        (ivy.pk, "change", "staff", "manager", manager.pk, "admin"),
        (ivy.pk, "revoke", "manager", "", manager.pk, "admin"),
    ]
    assert set(CourseRoleChange.objects.values_list("course_id", flat=True)) == {course.pk}


def test_a_row_given_to_another_user_revokes_one_role_and_grants_the_other(role_manager_client):
    manager, client = role_manager_client
    course = CourseFactory(title="Algebra")
    ivy, jon = StaffFactory(), StaffFactory()
    held = CourseRoleFactory(user=ivy, course=course, role="staff")
    url = reverse("admin:lms_course_change", args=[course.pk])

    response = client.post(url, existing_rows_post(course, [(held, jon, "staff", False)]))

    assert response.status_code == 302
    assert list(CourseRole.objects.values_list("user_id", "role")) == [(jon.pk, "staff")]
    assert role_records() == [
        (ivy.pk, "revoke", "staff", "", manager.pk, "admin"),
        (jon.pk, "grant", "", "staff", manager.pk, "admin"),
    ]


def test_a_refused_or_invalid_save_records_nothing(role_manager_client):
    _, client = role_manager_client
    course = CourseFactory(title="Algebra")
    ivy = StaffFactory()
    url = reverse("admin:lms_course_change", args=[course.pk])

    # No permission to manage roles: the rows are read-only, nothing granted or recorded.
    editor = lms_grant(StaffFactory(), "view_course", "change_course", "view_courserole")
    data = course_post(course, [(ivy, "manager")], title="Algebra", slug=course.slug)
    data.update({"items-TOTAL_FORMS": "0", "items-INITIAL_FORMS": "0"})
    logged_in(editor).post(url, data)
    # An invalid form (an unknown role): the page answers with its errors.
    page = client.post(url, course_post(course, [(ivy, "owner")]))
    assert page.status_code == 200

    assert not CourseRole.objects.exists()
    assert role_records() == []


def test_the_user_page_records_an_add_a_change_and_a_delete(client, admin_user, clock):
    course = CourseFactory(title="Algebra")
    ivy = StaffFactory(first_name="Ivy", last_name="Instructor")
    client.force_login(admin_user)
    url = reverse("admin:lms_user_change", args=[ivy.pk])

    def post(role_name: str, held=None, delete: bool = False):
        data = {
            "email": ivy.email, "first_name": "Ivy", "last_name": "Instructor", "time_zone": "",
            "is_active": "on", "is_staff": "on",
            "course_roles-TOTAL_FORMS": "1",
            "course_roles-INITIAL_FORMS": "1" if held else "0",
            "course_roles-MIN_NUM_FORMS": "0", "course_roles-MAX_NUM_FORMS": "1000",
            "course_roles-0-id": str(held.pk) if held else "",
            "course_roles-0-user": str(ivy.pk), "course_roles-0-course": str(course.pk),
            "course_roles-0-role": role_name, "_save": "Save",
        }  # fmt: skip
        if delete:
            data["course_roles-0-DELETE"] = "on"
        response = client.post(url, data)
        assert response.status_code == 302, response.context and response.context["errors"]

    post("staff")
    post("manager", CourseRole.objects.get())
    post("manager", CourseRole.objects.get(), delete=True)

    assert role_records() == [
        (ivy.pk, "grant", "", "staff", admin_user.pk, "admin"),
        (ivy.pk, "change", "staff", "manager", admin_user.pk, "admin"),
        (ivy.pk, "revoke", "manager", "", admin_user.pk, "admin"),
    ]


def test_a_failure_after_the_role_change_leaves_neither_role_nor_record(
    role_manager_client, monkeypatch
):
    _, client = role_manager_client
    client.raise_request_exception = True
    course = CourseFactory(title="Algebra")
    ivy = StaffFactory()

    def fail(*args, **kwargs):
        raise RuntimeError("the log entry could not be written")

    monkeypatch.setattr("django.contrib.admin.ModelAdmin.log_change", fail)
    with pytest.raises(RuntimeError):
        client.post(
            reverse("admin:lms_course_change", args=[course.pk]),
            course_post(course, [(ivy, "staff")]),
        )

    assert not CourseRole.objects.exists()
    assert role_records() == []


def test_role_managers_and_viewers_see_the_read_only_list_and_nobody_else(role_manager_client):
    manager, client = role_manager_client
    course = CourseFactory(title="Algebra", slug="algebra")
    ivy = StaffFactory(email="ivy@example.com")
    client.post(
        reverse("admin:lms_course_change", args=[course.pk]),
        course_post(course, [(ivy, "staff")]),
    )
    [record] = CourseRoleChange.objects.all()

    page = client.get(reverse(ROLE_CHANGES), {"course__id__exact": str(course.pk)})
    assert page.status_code == 200
    assert "ivy@example.com" in page.content.decode()
    assert list(page.context["cl"].result_list) == [record]
    assert not page.context["has_add_permission"]
    detail = client.get(reverse("admin:lms_courserolechange_change", args=[record.pk]))
    assert detail.status_code == 200 and not detail.context["has_change_permission"]
    assert client.get(reverse("admin:lms_courserolechange_add")).status_code == 403
    assert (
        client.post(reverse("admin:lms_courserolechange_delete", args=[record.pk])).status_code
        == 403
    )
    assert CourseRoleChange.objects.count() == 1
    # The course's page links to its role changes.
    course_page = client.get(reverse("admin:lms_course_change", args=[course.pk]))
    assert f"{reverse(ROLE_CHANGES)}?course__id__exact={course.pk}" in course_page.content.decode()

    viewer = logged_in(lms_grant(StaffFactory(), "view_courserolechange"))
    assert viewer.get(reverse(ROLE_CHANGES)).status_code == 200
    # A course editor without either permission: neither the list nor the link.
    editor = logged_in(lms_grant(StaffFactory(), "view_course", "change_course"))
    assert editor.get(reverse(ROLE_CHANGES)).status_code == 403
    course_page = editor.get(reverse("admin:lms_course_change", args=[course.pk]))
    assert reverse(ROLE_CHANGES) not in course_page.content.decode()
    # A course's staff member (a role, no global permission) does not see it either.
    staff_client = logged_in(role(course, "staff"))
    assert staff_client.get(reverse(ROLE_CHANGES)).status_code == 403
