"""The course admin (items inline, ordered by position; reordering) and the user admin."""

import pytest
from django.urls import reverse

from lms.models import CourseItem
from tests.admin.helpers import no_roles
from tests.factories import CourseFactory, CourseItemFactory, EnrollmentFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_(client, admin_user):
    client.force_login(admin_user)
    return client


NO_ROLES = no_roles("roles")


def course_form(client, course, positions: dict, extra: list | None = None) -> dict:
    """The course change form as posted, with `positions` {item: new position}."""
    page = client.get(reverse("admin:lms_course_change", args=[course.pk]))
    formset = page.context["inline_admin_formsets"][0].formset
    prefix = formset.prefix
    rows = [(item.pk, position, item.title) for item, position in positions.items()]
    rows += [("", position, title) for position, title in (extra or [])]
    data = {
        "title": course.title,
        "slug": course.slug,
        "access_days": course.access_days or "",
        "pause_freezes_access": "on",
        f"{prefix}-TOTAL_FORMS": str(len(rows)),
        f"{prefix}-INITIAL_FORMS": str(len(positions)),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
        **NO_ROLES,
        "_save": "Save",
    }
    for n, (pk, position, title) in enumerate(rows):
        data.update(
            {
                f"{prefix}-{n}-id": str(pk),
                f"{prefix}-{n}-course": str(course.pk),
                f"{prefix}-{n}-position": str(position),
                f"{prefix}-{n}-title": title,
                f"{prefix}-{n}-kind": "lesson",
            }
        )
    return data


def test_items_inline_is_ordered_by_position(admin_client_):
    course = CourseFactory()
    for position in (3, 1, 2):
        CourseItemFactory(course=course, position=position, title=f"Item {position}")
    page = admin_client_.get(reverse("admin:lms_course_change", args=[course.pk]))
    formset = page.context["inline_admin_formsets"][0].formset
    assert [form.instance.position for form in formset.forms] == [1, 2, 3]


def test_items_can_be_reordered_in_one_save(admin_client_):
    course = CourseFactory()
    a = CourseItemFactory(course=course, position=1, title="A")
    b = CourseItemFactory(course=course, position=2, title="B")
    c = CourseItemFactory(course=course, position=3, title="C")
    data = course_form(admin_client_, course, {a: 3, b: 1, c: 2}, extra=[(4, "D")])
    response = admin_client_.post(reverse("admin:lms_course_change", args=[course.pk]), data)
    assert response.status_code == 302
    order = list(CourseItem.objects.filter(course=course).values_list("title", flat=True))
    assert order == ["B", "C", "A", "D"]


def test_two_items_on_one_position_is_a_form_error(admin_client_):
    course = CourseFactory()
    a = CourseItemFactory(course=course, position=1, title="A")
    b = CourseItemFactory(course=course, position=2, title="B")
    data = course_form(admin_client_, course, {a: 2, b: 2})
    response = admin_client_.post(reverse("admin:lms_course_change", args=[course.pk]), data)
    assert response.status_code == 200
    assert response.context["inline_admin_formsets"][0].formset.non_form_errors()
    assert list(CourseItem.objects.filter(course=course).values_list("position", flat=True)) == [
        1,
        2,
    ]


def test_course_changelist_counts_and_links(admin_client_, django_assert_max_num_queries):
    courses = [CourseFactory(access_days=None if n == 0 else 30) for n in range(3)]
    for course in courses:
        CourseItemFactory(course=course, position=1)
        EnrollmentFactory(course=course)
    with django_assert_max_num_queries(8):
        page = admin_client_.get(reverse("admin:lms_course_changelist"))
    html = page.content.decode()
    assert "Indefinite" in html and "30 days" in html
    assert f"course__id__exact={courses[0].pk}" in html
    assert {c.item_count for c in page.context["cl"].result_list} == {1}
    assert {c.enrollment_count for c in page.context["cl"].result_list} == {1}


def test_user_admin_search_and_enrollments_link(admin_client_):
    ada = UserFactory(email="ada@example.com", first_name="Ada", last_name="Lovelace")
    EnrollmentFactory(user=ada)
    EnrollmentFactory(user=ada)
    page = admin_client_.get(reverse("admin:lms_user_changelist"), {"q": "lovelace"})
    [row] = page.context["cl"].result_list
    assert row == ada and row.enrollment_count == 2
    link = f"user__id__exact={ada.pk}"
    assert link in page.content.decode()
    enrollments = admin_client_.get(f"{reverse('admin:enrollments_enrollment_changelist')}?{link}")
    assert enrollments.status_code == 200
    assert len(enrollments.context["cl"].result_list) == 2


def test_users_are_created_with_an_email_and_a_first_and_last_name(admin_client_):
    add_page = admin_client_.get(reverse("admin:lms_user_add"))
    assert {"first_name", "last_name"} <= set(add_page.context["adminform"].form.fields)
    response = admin_client_.post(
        reverse("admin:lms_user_add"),
        {
            "email": "New@Example.com",
            "first_name": "Grace",
            "last_name": "Brewster Hopper",
            "password1": "x-Very-long-pass-42",
            "password2": "x-Very-long-pass-42",
            "usable_password": "true",
        },
    )
    assert response.status_code == 302
    from lms.models import User

    user = User.objects.get(email__iexact="new@example.com")
    assert user.check_password("x-Very-long-pass-42")
    assert (user.first_name, user.last_name) == ("Grace", "Brewster Hopper")
    assert user.name == user.full_name == "Grace Brewster Hopper"


def test_a_users_first_and_last_name_are_edited_on_the_change_page(admin_client_):
    user = UserFactory(first_name="Ada", last_name="")
    url = reverse("admin:lms_user_change", args=[user.pk])
    form = admin_client_.get(url).context["adminform"].form
    assert (form["first_name"].value(), form["last_name"].value()) == ("Ada", "")
    data = {
        "email": user.email,
        "first_name": "Ada",
        "last_name": "Lovelace",
        "time_zone": "",
        "is_active": "on",
        **no_roles("course_roles"),
    }
    response = admin_client_.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    user.refresh_from_db()
    assert (user.first_name, user.last_name, user.name) == ("Ada", "Lovelace", "Ada Lovelace")
