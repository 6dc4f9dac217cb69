"""`removeStudentFromCourse` (Teachify's): remove a learner from a course. A thin adapter over
the core's `Remove` operation: access ends at once and the enrollment leaves the membership
lists, its progress and audit trail kept; business errors arrive in the payload's `errors`."""

import graphene
from graphql import GraphQLResolveInfo

from enrollments.errors import NotEnrolled
from enrollments.graphql.payload_errors import reports_business_errors
from enrollments.graphql.permissions import require_scope
from enrollments.graphql.student_course import (
    apply_to_student,
    enrollment_payload,
    student_course_field,
)
from enrollments.operations import Remove

RemoveStudentFromCoursePayload = enrollment_payload(
    "RemoveStudentFromCoursePayload",
    "The enrollment after the removal (kept: its progress and history stay)",
)


@reports_business_errors("errors", {NotEnrolled: ("userId", "courseId")})
def resolve_remove_student_from_course(
    root, info: GraphQLResolveInfo, user_id: str, course_id: str, reason: str | None = None
) -> graphene.ObjectType:
    actor, scope = require_scope(info, Remove.permission)
    enrollment = apply_to_student(
        Remove(), actor, scope=scope, user_id=user_id, course_id=course_id, reason=reason
    )
    return RemoveStudentFromCoursePayload(enrollment=enrollment)


REMOVE_STUDENT_FROM_COURSE = student_course_field(
    RemoveStudentFromCoursePayload,
    name="removeStudentFromCourse",
    description=(
        "Removes a student from a course: access ends at once and the enrollment leaves the "
        "membership lists, while its progress and audit trail are kept. Needs the "
        f"{Remove.permission} permission (globally, or through a course role in the course)."
    ),
    resolver=resolve_remove_student_from_course,
    user_id="ID of the student (User) to remove",
    course_id="ID of the course to remove the student from",
    reason=graphene.String(description="Why the student is removed (kept in the audit trail)"),
)
