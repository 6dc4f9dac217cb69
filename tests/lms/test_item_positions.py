"""A course's item positions at the edges of their range (0 to 2**31-1: the model's validator
and the lms_courseitem_position_int32 check): the course admin's reorder parks the moved rows
on free positions inside it (lms.admin.free_positions). The ordinary reorders are in
tests/admin/test_lms_admin.py."""

import pytest
from django.urls import reverse

from lms.admin import MAX_POSITION, free_positions
from lms.models import CourseItem
from tests.admin.helpers import no_roles
from tests.factories import CourseFactory, CourseItemFactory


def course_form(client, course, positions: dict) -> dict:
    """The course change form as posted, with `positions` {item: new position}."""
    page = client.get(reverse("admin:lms_course_change", args=[course.pk]))
    prefix = page.context["inline_admin_formsets"][0].formset.prefix
    data = {
        "title": course.title,
        "slug": course.slug,
        "access_days": course.access_days or "",
        "pause_freezes_access": "on",
        f"{prefix}-TOTAL_FORMS": str(len(positions)),
        f"{prefix}-INITIAL_FORMS": str(len(positions)),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
        **no_roles("roles"),
        "_save": "Save",
    }
    for n, (item, position) in enumerate(positions.items()):
        data.update(
            {
                f"{prefix}-{n}-id": str(item.pk),
                f"{prefix}-{n}-course": str(course.pk),
                f"{prefix}-{n}-position": str(position),
                f"{prefix}-{n}-title": item.title,
                f"{prefix}-{n}-kind": "lesson",
            }
        )
    return data


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("before", "after"),
    [
        ({"A": 1, "B": MAX_POSITION}, {"A": MAX_POSITION, "B": 1}),
        ({"A": 0, "B": MAX_POSITION}, {"A": MAX_POSITION, "B": 0}),
        ({"A": 0, "B": 1, "C": MAX_POSITION}, {"A": 1, "B": MAX_POSITION, "C": 0}),
    ],
    ids=["1 and the top", "0 and the top", "0, 1 and the top rotated"],
)
def test_items_at_the_ends_of_the_range_are_reordered_in_one_save(
    client, admin_user, before, after
):
    """Both positions valid (the form accepts them): the reorder saves. Parked at the highest
    position in use + 1, an item at 2**31-1 made the others' parking 2**31, which the int32
    check refused: a server error instead of the saved order."""
    client.force_login(admin_user)
    course = CourseFactory()
    items = {
        title: CourseItemFactory(course=course, position=position, title=title)
        for title, position in before.items()
    }
    data = course_form(client, course, {items[title]: after[title] for title in items})
    response = client.post(reverse("admin:lms_course_change", args=[course.pk]), data)
    assert response.status_code == 302
    stored = dict(CourseItem.objects.filter(course=course).values_list("title", "position"))
    assert stored == after


@pytest.mark.parametrize(
    ("taken", "count", "expected"),
    [
        ({3, 4}, 2, [2, 1]),  # below the lowest first
        ({1, 2}, 2, [0, 3]),  # then above the highest
        ({0, 1, MAX_POSITION}, 2, [2, 3]),
        ({0, 2, 4, MAX_POSITION - 1, MAX_POSITION}, 3, [1, 3, 5]),  # then the gaps
        (set(), 1, [0]),
    ],
)
def test_free_positions_stay_inside_the_range_and_off_the_taken(taken, count, expected):
    assert free_positions(taken, count) == expected


def test_free_positions_near_a_full_top_look_at_few_candidates():
    """A course's worth of items packed at the top: the positions below come first, none of
    them past the check, without walking the range."""
    taken = set(range(MAX_POSITION - 99, MAX_POSITION + 1))
    parked = free_positions(taken, 100)
    assert parked == list(range(MAX_POSITION - 100, MAX_POSITION - 200, -1))
    packed = set(range(100)) | {MAX_POSITION}
    assert free_positions(packed, 3) == [100, 101, 102]
