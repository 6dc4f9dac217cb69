"""Documents written the way Healthie (2025-01-01) and Teachify Admin API clients write them,
sent over real HTTP with each API's own header and path, work unchanged; the contract's two
examples too, verbatim."""

import pytest

from enrollments.models import AccessChange, Enrollment
from tests.graphql import contract
from tests.lifecycle.teachify import ENROLLMENT
from tests.live.conftest import EXAMPLE_COURSE_ID, EXAMPLE_ENROLLMENT_ID, EXAMPLE_USER_ID

pytestmark = pytest.mark.django_db(transaction=True)

# -- Healthie ---------------------------------------------------------------------------------

HEALTHIE_PAGE = """
query courseMemberships($after: String, $first: Int) {
  courseMemberships(after: $after, first: $first) {
    ...MembershipPage
  }
}

fragment MembershipPage on CourseMembershipPaginationConnection {
  total_count
  page_info {
    has_next_page
    end_cursor
  }
  edges {
    cursor
    node {
      id
      course_id
      user_id
      course_status
      is_paused
      paused_at
      start_at
      total_paused_duration
      created_at
      updated_at
      cursor
      course {
        id
        name
        description
        created_at
        updated_at
        course_items {
          id
          name
          item_type
          position
          course_name
        }
      }
      next_incomplete_item {
        id
        name
        item_type
        course_id
        next_item { name }
        prev_item { name }
      }
      next_next_incomplete_item {
        name
      }
      user {
        id
        email
        first_name
        last_name
        full_name
        name
      }
    }
  }
}
"""

HEALTHIE_FETCH_ALL = """
query courseMemberships($client_id: ID, $fetch_all: Boolean) {
  courseMemberships(client_id: $client_id, fetch_all: $fetch_all) {
    nodes {
      id
      course { name }
    }
  }
}
"""

HEALTHIE_ONE = """
query courseMembership($course_membership_id: ID, $course_item_id: ID, $user_id: ID,
                       $user_group_id: ID) {
  courseMembership(course_membership_id: $course_membership_id, course_item_id: $course_item_id,
                   user_id: $user_id, user_group_id: $user_group_id) {
    id
    course_status
    next_incomplete_item { name item_type }
    user { first_name last_name full_name }
  }
}
"""

HEALTHIE_PAUSE = """
mutation pauseCourseMembership($input: PauseCourseMembershipInput!) {
  pauseCourseMembership(input: $input) {
    courseMembership {
      id
      is_paused
      paused_at
    }
    messages {
      field
      message
    }
  }
}
"""

HEALTHIE_RESUME = """
mutation resumeCourseMembership($input: ResumeCourseMembershipInput!) {
  resumeCourseMembership(input: $input) {
    courseMembership {
      id
      is_paused
      total_paused_duration
    }
    messages {
      field
      message
    }
  }
}
"""


def data(response) -> dict:
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "application/json"
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


def test_healthie_pages_with_string_cursors_over_post_graphql(live_api, school):
    seen, after, pages = [], None, 0
    while True:
        response = live_api.post(
            "healthie", school.key, HEALTHIE_PAGE, {"after": after, "first": 2}
        )
        page = data(response)["courseMemberships"]
        assert page["total_count"] == 5
        seen += [edge["node"]["id"] for edge in page["edges"]]
        for edge in page["edges"]:
            assert edge["cursor"] == edge["node"]["cursor"]
        pages += 1
        if not page["page_info"]["has_next_page"]:
            break
        after = page["page_info"]["end_cursor"]
    assert pages == 3
    assert sorted(seen) == sorted(str(e.pk) for e in school.memberships)
    assert len(set(seen)) == 5


def test_healthie_nested_names(live_api, school):
    response = live_api.post("healthie", school.key, HEALTHIE_PAGE, {"first": 1})
    [edge] = data(response)["courseMemberships"]["edges"]
    node = edge["node"]
    assert node["id"] == str(EXAMPLE_ENROLLMENT_ID)
    assert node["course_status"] == "in_progress"
    assert node["course"]["name"] == "Example Course"
    assert node["course"]["description"] == "About it"
    assert [(i["name"], i["item_type"], i["position"]) for i in node["course"]["course_items"]] == [
        ("Part 1", "lesson", 1),
        ("Part 2", "quiz", 2),
        ("Part 3", "video", 3),
    ]
    assert {i["course_name"] for i in node["course"]["course_items"]} == {"Example Course"}
    assert node["next_incomplete_item"] == {
        "id": str(school.items[1].pk),
        "name": "Part 2",
        "item_type": "quiz",
        "course_id": str(EXAMPLE_COURSE_ID),
        "next_item": {"name": "Part 3"},
        "prev_item": {"name": "Part 1"},
    }
    assert node["next_next_incomplete_item"] == {"name": "Part 3"}
    assert node["user"] == {
        "id": str(EXAMPLE_USER_ID),
        "email": school.example.user.email,
        "first_name": "Example",
        "last_name": "Student",
        "full_name": "Example Student",
        "name": "Example Student",
    }


def test_healthie_fetch_all_of_one_client(live_api, school):
    response = live_api.post(
        "healthie",
        school.key,
        HEALTHIE_FETCH_ALL,
        {"client_id": str(EXAMPLE_USER_ID), "fetch_all": True},
    )
    assert data(response)["courseMemberships"]["nodes"] == [
        {"id": str(EXAMPLE_ENROLLMENT_ID), "course": {"name": "Example Course"}}
    ]
    everyone = live_api.post("healthie", school.key, HEALTHIE_FETCH_ALL, {"fetch_all": True})
    assert len(data(everyone)["courseMemberships"]["nodes"]) == 5


def test_healthie_course_membership_lookups(live_api, school):
    by_id = live_api.post(
        "healthie", school.key, HEALTHIE_ONE, {"course_membership_id": str(EXAMPLE_ENROLLMENT_ID)}
    )
    assert data(by_id)["courseMembership"] == {
        "id": str(EXAMPLE_ENROLLMENT_ID),
        "course_status": "in_progress",
        "next_incomplete_item": {"name": "Part 2", "item_type": "quiz"},
        "user": {"first_name": "Example", "last_name": "Student", "full_name": "Example Student"},
    }
    by_item = live_api.post(
        "healthie",
        school.key,
        HEALTHIE_ONE,
        {"course_item_id": str(school.items[2].pk), "user_id": str(EXAMPLE_USER_ID)},
    )
    assert data(by_item)["courseMembership"]["id"] == str(EXAMPLE_ENROLLMENT_ID)
    by_group = live_api.post(
        "healthie", school.key, HEALTHIE_ONE, {"user_group_id": "42", "user_id": "1"}
    )
    body = by_group.json()
    assert by_group.status_code == 200
    assert body["data"] == {"courseMembership": None}
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "no user groups" in body["errors"][0]["message"]


def test_healthie_pause_and_resume_with_messages(live_api, school):
    membership_input = {"input": {"id": str(EXAMPLE_ENROLLMENT_ID)}}
    paused = data(live_api.post("healthie", school.key, HEALTHIE_PAUSE, membership_input))
    assert paused["pauseCourseMembership"]["courseMembership"]["is_paused"] is True
    assert paused["pauseCourseMembership"]["messages"] == []
    again = data(live_api.post("healthie", school.key, HEALTHIE_PAUSE, membership_input))
    assert again["pauseCourseMembership"] == {
        "courseMembership": None,
        "messages": [{"field": None, "message": "Course membership is already paused"}],
    }
    resumed = data(live_api.post("healthie", school.key, HEALTHIE_RESUME, membership_input))
    assert resumed["resumeCourseMembership"]["courseMembership"]["is_paused"] is False
    not_paused = data(live_api.post("healthie", school.key, HEALTHIE_RESUME, membership_input))
    assert not_paused["resumeCourseMembership"]["messages"] == [
        {"field": None, "message": "Course membership is not paused"}
    ]
    unknown = {"input": {"id": "00000000-0000-0000-0000-000000000000"}}
    missing = data(live_api.post("healthie", school.key, HEALTHIE_PAUSE, unknown))
    assert missing["pauseCourseMembership"]["messages"] == [
        {"field": "id", "message": "Course membership not found"}
    ]


# -- Teachify ---------------------------------------------------------------------------------

TEACHIFY_NEWER_EXAMPLE = f"""
mutation {{
  extendStudentCourseAccess(
    userId: "387b0c87-0f85-44cc-833e-7306c1b5d3e6"
    courseId: "9a1216f7-36de-4c50-8094-2ebfb7d3c383"
    extensionDays: 30
  ) {{
{ENROLLMENT}
    errors {{
      field
      message
    }}
  }}
}}
"""

TEACHIFY_EXTEND = """
mutation extend($userId: String!, $courseId: String!, $extensionDays: Int, $newEndedAt: Int) {
  extendStudentCourseAccess(userId: $userId, courseId: $courseId, extensionDays: $extensionDays,
                            newEndedAt: $newEndedAt) {
    enrollment {
      id
      endedAt
    }
    errors {
      field
      message
    }
  }
}
"""


@pytest.mark.parametrize("style", ["teachify", "bearer", "healthie"])
def test_the_contracts_two_examples_verbatim(live_api, school, style):
    first, indefinite = contract.example_documents()
    before = Enrollment.objects.get(pk=EXAMPLE_ENROLLMENT_ID).ended_at
    extended = data(live_api.post(style, school.key, first))["extendStudentCourseAccess"]
    assert extended == {
        "enrollment": {
            "id": str(EXAMPLE_ENROLLMENT_ID),
            "course": {"id": str(EXAMPLE_COURSE_ID), "slug": "course-slug"},
            "user": {"id": str(EXAMPLE_USER_ID), "name": "Example Student"},
            "endedAt": extended["enrollment"]["endedAt"],
        }
    }
    assert extended["enrollment"]["endedAt"] == int(before.timestamp()) + 30 * 86400
    forever = data(live_api.post(style, school.key, indefinite))["extendStudentCourseAccess"]
    assert forever["enrollment"]["endedAt"] is None
    assert AccessChange.objects.filter(enrollment_id=EXAMPLE_ENROLLMENT_ID).count() == 2


def test_teachify_newer_example_with_course_name_and_errors(live_api, school):
    payload = data(live_api.post("teachify", school.key, TEACHIFY_NEWER_EXAMPLE))[
        "extendStudentCourseAccess"
    ]
    enrollment = payload["enrollment"]
    assert payload["errors"] == []
    assert enrollment["course"] == {
        "id": str(EXAMPLE_COURSE_ID),
        "name": "Example Course",
        "slug": "course-slug",
    }
    assert enrollment["user"]["name"] == "Example Student"
    assert enrollment["completionRate"] == pytest.approx(1 / 3)
    assert isinstance(enrollment["createdAt"], int) and isinstance(enrollment["updatedAt"], int)


def test_teachify_gets_the_three_named_errors_in_errors(live_api, school):
    ids = {"userId": str(EXAMPLE_USER_ID), "courseId": str(EXAMPLE_COURSE_ID)}

    def errors(variables):
        payload = data(live_api.post("teachify", school.key, TEACHIFY_EXTEND, variables))
        assert payload["extendStudentCourseAccess"]["enrollment"] is None
        return payload["extendStudentCourseAccess"]["errors"]

    stranger = {**ids, "userId": "00000000-0000-0000-0000-000000000000", "extensionDays": 3}
    assert errors(stranger) == [
        {"field": None, "message": "Student is not enrolled in this course"}
    ]
    assert errors({**ids, "extensionDays": 0}) == [
        {"field": "extensionDays", "message": "Invalid extension period"}
    ]
    assert errors({**ids, "newEndedAt": 1}) == [
        {"field": "newEndedAt", "message": "Invalid extension period"}
    ]
    Enrollment.objects.filter(pk=EXAMPLE_ENROLLMENT_ID).update(ended_at=None)
    assert errors({**ids, "extensionDays": 3}) == [
        {"field": None, "message": "Current enrollment has no end date"}
    ]
    assert not AccessChange.objects.exists()


@pytest.mark.parametrize("debug", [False, True], ids=["debug-off", "debug-on"])
def test_post_graphql_without_slash_is_served_not_redirected(live_api, school, settings, debug):
    """Before: a 301 to a GET with DEBUG off, a 500 (APPEND_SLASH's RuntimeError) with it on."""
    settings.DEBUG = debug
    for path in ("/graphql", "/graphql/"):
        response = live_api.http.post(
            path, json={"query": "{ __typename }"}, headers={"X-Teachify-API-Key": school.key}
        )
        assert response.status_code == 200, (path, response.status_code, response.headers)
        assert response.json() == {"data": {"__typename": "Query"}}
