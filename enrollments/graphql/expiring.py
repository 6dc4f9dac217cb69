"""`expireStudentCourseAccess` (Teachify's): end a learner's access now, or at an earlier
instant, keeping their course data. A thin adapter over the core's `Expire` operation; its
business errors arrive in the payload's `errors`, like removeStudentFromCourse's."""

import graphene
from graphql import GraphQLResolveInfo

from enrollments.errors import EndNotEarlier, InvalidAccessEnd, NotEnrolled
from enrollments.graphql.payload_errors import reports_business_errors
from enrollments.graphql.permissions import require_scope
from enrollments.graphql.student_course import (
    apply_to_student,
    enrollment_payload,
    student_course_field,
    unix_instant,
)
from enrollments.operations import Expire

ExpireStudentCourseAccessPayload = enrollment_payload(
    "ExpireStudentCourseAccessPayload", "The updated enrollment with expired access"
)


@reports_business_errors(
    "errors",
    {
        NotEnrolled: ("userId", "courseId"),
        InvalidAccessEnd: ("customEndedAt",),
        EndNotEarlier: ("customEndedAt",),
    },
)
def resolve_expire_student_course_access(
    root,
    info: GraphQLResolveInfo,
    user_id: str,
    course_id: str,
    custom_ended_at: int | None = None,
    reason: str | None = None,
) -> graphene.ObjectType:
    actor, scope = require_scope(info, Expire.permission)
    # customEndedAt no calendar holds is INVALID_ACCESS_END (the operation checks the range).
    at = unix_instant(custom_ended_at, error=InvalidAccessEnd, argument="customEndedAt")
    enrollment = apply_to_student(
        Expire(at=at), actor, scope=scope, user_id=user_id, course_id=course_id, reason=reason
    )
    return ExpireStudentCourseAccessPayload(enrollment=enrollment)


EXPIRE_STUDENT_COURSE_ACCESS = student_course_field(
    ExpireStudentCourseAccessPayload,
    name="expireStudentCourseAccess",
    description=(
        "The expireStudentCourseAccess mutation allows you to mark a student’s course access as "
        f"expired while retaining their course data. Needs the {Expire.permission} permission "
        "(globally, or through a course role in the course)."
    ),
    resolver=resolve_expire_student_course_access,
    user_id="ID of the student (User) whose access should be expired",
    course_id="ID of the course to expire access for",
    custom_ended_at=graphene.Int(
        name="customEndedAt",
        description="Custom expiration date (Unix Timestamp). Defaults to current time",
    ),
    reason=graphene.String(description="Optional reason for expiring the access"),
)
