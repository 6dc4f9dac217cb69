"""A course title holds no control character: the course form (admin) and the model's
full_clean refuse line breaks, tabs and escapes with a clear error, and change nothing."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from lms.models import Course
from tests.factories import CourseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, admin_user):
    client.force_login(admin_user)
    return client


def add_form(title: str) -> dict:
    return {
        "title": title,
        "slug": "new-course",
        "access_days": "30",
        "pause_freezes_access": "on",
        "items-TOTAL_FORMS": "0",
        "items-INITIAL_FORMS": "0",
        "items-MIN_NUM_FORMS": "0",
        "items-MAX_NUM_FORMS": "1000",
        "_save": "Save",
    }


@pytest.mark.parametrize(
    ("title", "found"),
    [
        ("Python\r\nBasics", "U+000D at position 7"),
        ("Python\nBasics", "U+000A at position 7"),
        ("Tab\tseparated", "U+0009 at position 4"),
        ("\x1b[31mRed", "U+001B at position 1"),
        ("Next\x85line", "U+0085 at position 5"),
        ("Line\u2028separator", "U+2028 at position 5"),
    ],
)
def test_the_course_form_refuses_control_characters_in_the_title(staff_client, title, found):
    response = staff_client.post(reverse("admin:lms_course_add"), add_form(title))

    assert response.status_code == 200  # the form again, with the error
    assert response.context["adminform"].form.errors["title"] == [
        f"Must not contain control characters such as line breaks or tabs (found {found})."
    ]
    assert not Course.objects.exists()


def test_the_course_form_accepts_an_ordinary_title(staff_client):
    response = staff_client.post(
        reverse("admin:lms_course_add"), add_form("Python für Anfänger — 入门 🐍")
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Course.objects.get().title == "Python für Anfänger — 入门 🐍"


def test_changing_a_title_to_one_with_a_line_break_is_refused(staff_client):
    course = CourseFactory(title="Python Basics", slug="python-basics")
    data = add_form("Python\nBasics") | {"slug": "python-basics"}

    response = staff_client.post(reverse("admin:lms_course_change", args=[course.pk]), data)

    assert response.status_code == 200
    assert "title" in response.context["adminform"].form.errors
    course.refresh_from_db()
    assert course.title == "Python Basics"


def test_full_clean_refuses_it_for_every_other_door():
    course = Course(title="Python\r\nBasics", slug="python-basics")

    with pytest.raises(ValidationError) as raised:
        course.full_clean()

    assert raised.value.error_dict["title"][0].code == "control_characters"
    assert not Course.objects.exists()
