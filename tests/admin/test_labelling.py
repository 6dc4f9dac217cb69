"""Every input of the project's admin forms has an accessible name (issue 26, item 6): the rows
of a tabular inline ("Title, row 2") and the two halves of a split date and time ("Expires at,
date"). tests/browser/test_accessibility_every_page.py runs axe on the same pages."""

import re

from django.urls import reverse

from tests.factories import CourseFactory, CourseItemFactory, CourseRoleFactory, OperatorFactory


def labels(response) -> set[str]:
    return set(re.findall(r'aria-label="([^"]+)"', response.content.decode()))


def test_each_row_of_the_course_inlines_names_its_inputs(client, db):
    course = CourseFactory()
    CourseItemFactory.create_batch(2, course=course)
    CourseRoleFactory(course=course)
    client.force_login(OperatorFactory())
    named = labels(client.get(reverse("admin:lms_course_change", args=[course.pk])))
    for row in ("row 1", "row 2", "new row"):
        assert {f"Position, {row}", f"Title, {row}", f"Kind, {row}"} <= named, row
    assert {"Delete, row 1", "Delete, row 2", "Role, row 1", "Role, new row"} <= named


def test_the_api_key_expiry_names_its_date_and_its_time(client, db):
    client.force_login(OperatorFactory())
    named = labels(client.get(reverse("admin:apikeys_apikey_add")))
    assert {"Expires at, date", "Expires at, time"} <= named


def test_the_user_page_uses_plain_labelled_selects_for_groups_and_permissions(client, db):
    """Django's two-box filter widget carries an ARIA attribute axe refuses; the selects it
    would replace are labelled by their own <label for>."""
    operator = OperatorFactory()
    client.force_login(operator)
    page = client.get(reverse("admin:lms_user_change", args=[operator.pk])).content.decode()
    assert 'class="selectfilter' not in page
    assert '<label for="id_groups">' in page and '<label for="id_user_permissions">' in page
