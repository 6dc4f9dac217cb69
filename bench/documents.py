"""The GraphQL documents the benchmark sends: the contract's fields, every one of them."""

#: The plain values() view of measurement 2 (bench.views, mounted by bench.urls only).
BASELINE_PATH = "/bench/memberships/"

#: A page of memberships with every CourseMembership field of the contract, nested course,
#: user and both next items included, and the page info a client pages with.
MEMBERSHIP_PAGE = """
query MembershipPage($first: Int, $after: String, $course_id: ID, $user_id: ID) {
  courseMemberships(first: $first, after: $after, course_id: $course_id, user_id: $user_id) {
    edges {
      cursor
      node {
        id
        cursor
        course_id
        user_id
        course_status
        created_at
        updated_at
        start_at
        paused_at
        is_paused
        total_paused_duration
        course { id slug title access_days pause_freezes_access }
        user { id email name }
        next_incomplete_item { id course_id title kind position }
        next_next_incomplete_item { id course_id title kind position }
      }
    }
    page_info { has_next_page has_previous_page start_cursor end_cursor }
  }
}
"""

#: The contract's mutation, with every StudentCourseShip field.
EXTEND_ACCESS = """
mutation Extend($userId: String!, $courseId: String!, $days: Int) {
  extendStudentCourseAccess(userId: $userId, courseId: $courseId, extensionDays: $days) {
    enrollment {
      id
      completionRate
      createdAt
      updatedAt
      endedAt
      course { id slug }
      user { id name email }
    }
  }
}
"""
