"""The mutation documents several test folders send (graphql/, lifecycle/, doors/): one copy
each, so a test of one door and the doors' comparison send the same request."""

EXTEND = """
mutation ($userId: String!, $courseId: String!, $extensionDays: Int, $newEndedAt: Int,
          $indefinite: Boolean, $reason: String) {
  extendStudentCourseAccess(userId: $userId, courseId: $courseId, extensionDays: $extensionDays,
                            newEndedAt: $newEndedAt, indefinite: $indefinite, reason: $reason) {
    enrollment { id endedAt updatedAt createdAt completionRate course { id slug title }
                 user { id name email } }
  }
}
"""

PAUSE = """
mutation ($id: ID!, $reason: String) {
  pauseCourseMembership(input: {id: $id, reason: $reason}) {
    courseMembership { id is_paused paused_at ended_at total_paused_duration access_state }
  }
}
"""

RESUME = PAUSE.replace("pauseCourseMembership", "resumeCourseMembership")

EXPIRE = """
mutation ($userId: String!, $courseId: String!, $at: Int, $reason: String) {
  expireStudentCourseAccess(userId: $userId, courseId: $courseId, customEndedAt: $at,
                            reason: $reason) {
    enrollment { id endedAt updatedAt }
    errors { field message code }
  }
}
"""

REMOVE = """
mutation ($userId: String!, $courseId: String!) {
  removeStudentFromCourse(userId: $userId, courseId: $courseId) {
    enrollment { id endedAt user { email } course { id } }
    errors { field message code }
  }
}
"""
