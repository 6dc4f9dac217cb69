"""A membership's next items (`next_incomplete_item`, `next_next_incomplete_item`) are loaded
from the page's own query as light objects (loading.LoadedItem), not CourseItem instances:
every CourseItem field answers the same for them as for the same item read as a model
(`course { course_items }`), on a page, on a single membership and in a mutation's payload,
with the fast paths on and off."""

from datetime import timedelta

import pytest

from tests.factories import (
    CourseFactory,
    CourseItemFactory,
    EnrollmentFactory,
    ItemCompletionFactory,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_paths")]

ITEM = """
  id course_id course_name created_at updated_at description item_type name position title kind
  course { id slug title created_at }
  next_item { id title } prev_item { id title }
"""

MEMBERSHIP = f"""
  id
  next_incomplete_item {{ {ITEM} }}
  next_next_incomplete_item {{ {ITEM} }}
  course {{ course_items {{ {ITEM} }} }}
"""

PAGE = f"{{ courseMemberships(first: 10) {{ nodes {{ {MEMBERSHIP} }} }} }}"
ONE = f"query ($id: ID) {{ courseMembership(id: $id) {{ {MEMBERSHIP} }} }}"
PAUSE = f"""
mutation ($id: ID!) {{
  pauseCourseMembership(input: {{id: $id}}) {{ courseMembership {{ {MEMBERSHIP} }} }}
}}
"""


@pytest.fixture
def enrollment(clock):
    course = CourseFactory()
    items = [
        CourseItemFactory(course=course, position=p, title=f"part {p}", description=f"about {p}")
        for p in (1, 2, 3, 4)
    ]
    enrollment = EnrollmentFactory(
        course=course,
        start_at=clock.current - timedelta(days=1),
        ended_at=clock.current + timedelta(days=30),
    )
    ItemCompletionFactory(enrollment=enrollment, item=items[0], completed_at=clock.current)
    ItemCompletionFactory(enrollment=enrollment, item=items[2], completed_at=clock.current)
    return enrollment


def _assert_next_items_as_models(membership: dict) -> None:
    listed = {item["id"]: item for item in membership["course"]["course_items"]}
    assert [item["title"] for item in listed.values()] == ["part 1", "part 2", "part 3", "part 4"]
    next_item = membership["next_incomplete_item"]
    next_next = membership["next_next_incomplete_item"]
    # Items 1 and 3 are completed: the next ones are 2 and 4.
    assert next_item["title"] == "part 2" and next_next["title"] == "part 4"
    assert next_item == listed[next_item["id"]]
    assert next_next == listed[next_next["id"]]
    assert next_item["prev_item"]["title"] == "part 1"
    assert next_item["course_name"] == next_item["course"]["title"]
    assert next_item["description"] == "about 2"
    assert next_next["next_item"] is None


def test_a_page_answers_next_items_as_the_course_items(api, make_key, viewer, enrollment):
    body = api.post(PAGE, key=make_key(viewer))
    assert "errors" not in body
    (membership,) = body["data"]["courseMemberships"]["nodes"]
    _assert_next_items_as_models(membership)


def test_one_membership_answers_next_items_as_the_course_items(api, make_key, viewer, enrollment):
    body = api.post(ONE, {"id": str(enrollment.pk)}, key=make_key(viewer))
    assert "errors" not in body
    _assert_next_items_as_models(body["data"]["courseMembership"])


def test_a_mutation_payload_answers_next_items_as_the_course_items(
    api, make_key, manager, enrollment
):
    body = api.post(PAUSE, {"id": str(enrollment.pk)}, key=make_key(manager))
    assert "errors" not in body
    _assert_next_items_as_models(body["data"]["pauseCourseMembership"]["courseMembership"])


def test_none_left_is_null(api, make_key, viewer, enrollment, clock):
    for item in enrollment.course.items.exclude(completions__enrollment=enrollment):
        ItemCompletionFactory(enrollment=enrollment, item=item, completed_at=clock.current)
    body = api.post(PAGE, key=make_key(viewer))
    (membership,) = body["data"]["courseMemberships"]["nodes"]
    assert membership["next_incomplete_item"] is None
    assert membership["next_next_incomplete_item"] is None
